import gcoordModule from 'gcoord';
import type { Geometry, Position } from 'geojson';

// gcoord is CommonJS whose typings declare an ES default export: at run time the
// default import is the API object itself; accept either shape.
type Gcoord = (typeof gcoordModule)['default'];
const gcoord = ((gcoordModule as unknown as { default?: Gcoord }).default ?? gcoordModule) as unknown as Gcoord;

/**
 * Coordinate reference systems of the OGC API (Part 2). Data is stored in
 * WGS84 lon/lat (PostGIS SRID 4326, x = longitude). Output CRSs differ only in
 * axis order or, for GCJ-02, in a per-point offset computed in Node:
 *
 * - CRS84 (default): WGS84, lon/lat.
 * - EPSG:4326: WGS84, lat/lon — the axis order of the EPSG definition, as Part 2 requires.
 * - EPSG:4490: CGCS2000, lat/lon. CGCS2000 and WGS84 agree to a few centimetres,
 *   so the numbers are WGS84's without a datum shift; only the axis order changes.
 * - EPSG:3857: Web Mercator x/y in metres (easting, northing), transformed by PostGIS;
 *   what web map platforms draw in. Only latitudes within ±85.05° exist in it.
 * - gcj02 (non-standard, for Chinese web maps): GCJ-02 lon/lat, converted with gcoord.
 *   It has no registered URI, so it is listed under its own URN like the others.
 */
export interface CrsDef {
  /** Canonical identifier, sent in `Content-Crs` and listed in collections. */
  uri: string;
  /** Spellings accepted in `crs` / `bbox-crs`. */
  aliases: readonly string[];
  /** Axis order of coordinates in this CRS. */
  axisOrder: 'lonlat' | 'latlon';
  /** Whether coordinates are shifted in Node (GCJ-02) instead of passed through. */
  gcj02: boolean;
  /** PostGIS SRID of the output: 4326 (degrees, as stored) or 3857 (metres, transformed). */
  srid: 4326 | 3857;
  title: string;
}

export const CRS84: CrsDef = {
  uri: 'http://www.opengis.net/def/crs/OGC/1.3/CRS84',
  aliases: ['OGC:CRS84', 'CRS84', '[OGC:CRS84]', 'urn:ogc:def:crs:OGC:1.3:CRS84'],
  axisOrder: 'lonlat',
  gcj02: false,
  srid: 4326,
  title: 'WGS84 longitude/latitude (default)',
};

export const EPSG_4326: CrsDef = {
  uri: 'http://www.opengis.net/def/crs/EPSG/0/4326',
  aliases: ['EPSG:4326', '[EPSG:4326]', 'urn:ogc:def:crs:EPSG::4326'],
  axisOrder: 'latlon',
  gcj02: false,
  srid: 4326,
  title: 'WGS84 latitude/longitude',
};

export const EPSG_4490: CrsDef = {
  uri: 'http://www.opengis.net/def/crs/EPSG/0/4490',
  aliases: ['EPSG:4490', '[EPSG:4490]', 'urn:ogc:def:crs:EPSG::4490'],
  axisOrder: 'latlon',
  gcj02: false,
  srid: 4326,
  title: 'CGCS2000 latitude/longitude (same numbers as WGS84 within centimetres)',
};

export const EPSG_3857: CrsDef = {
  uri: 'http://www.opengis.net/def/crs/EPSG/0/3857',
  aliases: ['EPSG:3857', '[EPSG:3857]', 'urn:ogc:def:crs:EPSG::3857'],
  axisOrder: 'lonlat',
  gcj02: false,
  srid: 3857,
  title: 'Web Mercator x/y in metres (easting, northing)',
};

/** Half the width of the Web Mercator world, in metres (x and y range over ±this). */
export const MERCATOR_MAX = 20037508.342789244;
const EARTH_RADIUS = 6378137;

/** Web Mercator x/y (metres) → WGS84 lon/lat. */
export function mercatorToLonLat(x: number, y: number): [number, number] {
  const lon = (x / EARTH_RADIUS) * (180 / Math.PI);
  const lat = (2 * Math.atan(Math.exp(y / EARTH_RADIUS)) - Math.PI / 2) * (180 / Math.PI);
  return [lon, lat];
}

export const GCJ02: CrsDef = {
  uri: 'urn:x-onemap:crs:gcj02',
  aliases: ['gcj02', 'GCJ02', 'GCJ-02'],
  axisOrder: 'lonlat',
  gcj02: true,
  srid: 4326,
  title: 'GCJ-02 longitude/latitude (non-standard; for Chinese web maps)',
};

/**
 * The one list of CRSs: what every collection advertises in `crs` (and `/collections`
 * in its global `crs`) is exactly what `crs` and `bbox-crs` accept, since Part 2 makes
 * that list the values a client may ask for. CRS84 first: the default and the storageCrs.
 */
export const SUPPORTED_CRS: readonly CrsDef[] = [CRS84, EPSG_4490, EPSG_4326, EPSG_3857, GCJ02];

/** URIs listed in `crs` of every collection, in the order of SUPPORTED_CRS. */
export const CRS_URIS: string[] = SUPPORTED_CRS.map((c) => c.uri);

/** The CRS the data is stored in (lon/lat WGS84, SRID 4326): the collections' `storageCrs`. */
export const STORAGE_CRS: CrsDef = CRS84;

/** Every accepted spelling of a listed CRS, canonical URIs first (the enum of the OpenAPI parameter). */
export const CRS_SPELLINGS: [string, ...string[]] = [
  ...SUPPORTED_CRS.map((c) => c.uri),
  ...SUPPORTED_CRS.flatMap((c) => c.aliases),
] as [string, ...string[]];

const bySpelling = new Map<string, CrsDef>(SUPPORTED_CRS.flatMap((c) => [[c.uri, c] as const, ...c.aliases.map((a) => [a, c] as const)]));

export function crsBySpelling(value: string): CrsDef | undefined {
  return bySpelling.get(value);
}

/** What a 400 for `crs` / `bbox-crs` says is allowed: the listed URIs, then the short spellings. */
export const CRS_ALLOWED_TEXT = `one of the collection's crs: ${CRS_URIS.join(', ')} (short forms: ${SUPPORTED_CRS.map((c) => c.aliases.find((a) => !a.startsWith('[') && !a.startsWith('urn:') && !a.startsWith('OGC:'))).join(', ')})`;

/** `Content-Crs` header value (Part 2). */
export function contentCrsHeader(crs: CrsDef): string {
  return `<${crs.uri}>`;
}

/** WGS84 lon/lat → GCJ-02 lon/lat. gcoord leaves points outside China unchanged. */
export function wgs84ToGcj02(lon: number, lat: number): [number, number] {
  const [x, y] = gcoord.transform([lon, lat], gcoord.WGS84, gcoord.GCJ02) as [number, number];
  return [x, y];
}

/** GCJ-02 lon/lat → WGS84 lon/lat (gcoord iterates; error well under a metre). */
export function gcj02ToWgs84(lon: number, lat: number): [number, number] {
  const [x, y] = gcoord.transform([lon, lat], gcoord.GCJ02, gcoord.WGS84) as [number, number];
  return [x, y];
}


function mapPositions(coords: unknown, fn: (p: Position) => Position): unknown {
  if (Array.isArray(coords) && typeof coords[0] === 'number') return fn(coords as Position);
  return (coords as unknown[]).map((c) => mapPositions(c, fn));
}

/** Returns `geometry` (WGS84 lon/lat) converted to GCJ-02 lon/lat, rounded to `decimals` like the database's output. */
export function geometryToGcj02(geometry: Geometry, decimals = 7): Geometry {
  const scale = 10 ** decimals;
  const round = (v: number) => Math.round(v * scale) / scale;
  const shift = (p: Position): Position => {
    const [x, y] = wgs84ToGcj02(p[0], p[1]);
    return [round(x), round(y), ...p.slice(2)];
  };
  if (geometry.type === 'GeometryCollection') return { ...geometry, geometries: geometry.geometries.map((g) => geometryToGcj02(g, decimals)) };
  return { ...geometry, coordinates: mapPositions(geometry.coordinates, shift) } as Geometry;
}
