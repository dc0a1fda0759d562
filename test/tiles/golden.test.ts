import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Express } from 'express';
import type { Feature, FeatureCollection, Position } from 'geojson';
import { testApp } from '../helpers/test-app.ts';
import { goldenBytes } from '../helpers/golden.ts';
import { latToWorldY, lonToWorldX, tileContaining } from '../../tiles/tile-coords.ts';
import type { Db } from '../../server/db/types.ts';
import { fetchTile } from './helpers/http.ts';
import { decodeTile, tileToGeoJson, type DecodedFeature, type DecodedTile } from './helpers/decode.ts';
import { compareTiles } from './helpers/compare.ts';

/**
 * Golden tiles: a few tiles of the demo data at z6 (clusters), z10 and z14, kept
 * as decoded GeoJSON (lon/lat, openable in QGIS) in test/fixtures/tiles. Both
 * engines must reproduce them within one tile unit. After a deliberate change
 * (engine, registry or demo data) rewrite them with `REGEN=1`.
 */

const CASES: { name: string; layers: string; lon: number; lat: number; z: number; query?: string }[] = [
  { name: 'yuexiu-z6', layers: 'districts,risk_points', lon: 113.27, lat: 23.13, z: 6 },
  { name: 'yuexiu-z10', layers: 'streets,risk_points,shelters,networks', lon: 113.27, lat: 23.13, z: 10 },
  { name: 'yuexiu-z14', layers: 'communities,risk_points,shelters,flood_points,geohazard_sites,resources', lon: 113.27, lat: 23.13, z: 14 },
  { name: 'guangdong-z6-red', layers: 'districts,risk_points', lon: 114.35, lat: 22.7, z: 6, query: '?level=red' },
  { name: 'pingshan-z10', layers: 'streets,risk_points,shelters,networks', lon: 114.35, lat: 22.7, z: 10 },
  { name: 'pingshan-z14', layers: 'communities,risk_points,shelters,flood_points,geohazard_sites,resources', lon: 114.35, lat: 22.7, z: 14 },
];

interface Golden {
  url: string;
  tile: { z: number; x: number; y: number };
  layers: Record<string, FeatureCollection>;
}

let db: Db;
let app: Express;
beforeAll(async () => {
  ({ db, app } = await testApp());
});
afterAll(async () => db?.close());

/** Back from lon/lat to tile units, so the comparison works in the tile's own grid. */
function toTileUnits(golden: Golden): DecodedTile {
  const { z, x, y } = golden.tile;
  const unit = ([lon, lat]: Position): [number, number] => [(lonToWorldX(lon) * 2 ** z - x) * 4096, (latToWorldY(lat) * 2 ** z - y) * 4096];
  const out: DecodedTile = {};
  for (const [name, fc] of Object.entries(golden.layers)) {
    out[name] = fc.features.map((f: Feature): DecodedFeature => {
      const g = f.geometry;
      const type = g.type.endsWith('Point') ? 1 : g.type.endsWith('LineString') ? 2 : 3;
      const rings: Position[][] =
        g.type === 'Point' ? [[g.coordinates]]
        : g.type === 'MultiPoint' ? g.coordinates.map((c) => [c])
        : g.type === 'LineString' ? [g.coordinates]
        : g.type === 'MultiLineString' || g.type === 'Polygon' ? g.coordinates
        : g.type === 'MultiPolygon' ? g.coordinates.flat()
        : [];
      return { id: f.id as number | undefined, type, properties: f.properties ?? {}, geometry: rings.map((r) => r.map(unit)) };
    });
  }
  return out;
}

/**
 * A shelter flagged unusable when the demo data was loaded carries `unusable_since`, the
 * moment of that load (server/db/load-data.ts): different on every load, so golden files
 * hold a placeholder in its place, after checking it is a UTC moment.
 */
const LOADED_AT = '(the moment the data was loaded)';
function withStableSince<T extends { properties?: Record<string, unknown> | null }>(features: T[]): T[] {
  for (const f of features) {
    const since = f.properties?.unusable_since;
    if (since === undefined) continue;
    expect(since, 'unusable_since').toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    f.properties!.unusable_since = LOADED_AT;
  }
  return features;
}

describe('golden tiles of the demo data', () => {
  it.each(CASES)('$name', async ({ name, layers, lon, lat, z, query }) => {
    const tile = tileContaining(lon, lat, z);
    const url = `/tiles/${layers}/${z}/${tile.x}/${tile.y}.mvt${query ?? ''}`;
    const r = await fetchTile(app, url);
    expect(r.status).toBe(200);
    const stored = goldenBytes(`tiles/${name}.json`, () => {
      const fresh: Golden = { url, tile, layers: tileToGeoJson(r.body, z, tile.x, tile.y) };
      for (const fc of Object.values(fresh.layers)) withStableSince(fc.features);
      return JSON.stringify(fresh, null, 1) + '\n';
    });
    if (!stored) return;
    const golden = JSON.parse(stored.toString('utf8')) as Golden;
    expect(golden.url).toBe(url);
    const decoded = decodeTile(r.body);
    for (const features of Object.values(decoded)) withStableSince(features);
    expect(compareTiles(toTileUnits(golden), decoded)).toEqual([]);
  });
});
