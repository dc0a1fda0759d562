import type { Geometry, Position } from 'geojson';

/**
 * Web Mercator tile arithmetic shared by the engines, the cache and the tests.
 * "World" coordinates are normalised Web Mercator: x and y in 0..1, y down,
 * the same space geojson-vt projects into, so both engines agree on positions.
 */

/** Highest zoom any tile request may ask for (geojson-vt's limit too). */
export const MAX_ZOOM = 24;
/** Half the width of the EPSG:3857 world in metres. */
export const MERCATOR_HALF_WORLD = 20037508.342789244;

export interface TileCoord {
  z: number;
  x: number;
  y: number;
}

/** [minX, minY, maxX, maxY] in world coordinates (0..1, y down). */
export type WorldBBox = [number, number, number, number];

export function lonToWorldX(lon: number): number {
  return lon / 360 + 0.5;
}

/** Same formula as geojson-vt, clamped to the Mercator square. */
export function latToWorldY(lat: number): number {
  const sin = Math.sin((lat * Math.PI) / 180);
  const y = 0.5 - (0.25 * Math.log((1 + sin) / (1 - sin))) / Math.PI;
  return y < 0 ? 0 : y > 1 ? 1 : y;
}

export function worldXToLon(x: number): number {
  return (x - 0.5) * 360;
}

export function worldYToLat(y: number): number {
  return (360 / Math.PI) * Math.atan(Math.exp((1 - 2 * y) * Math.PI)) - 90;
}

/** Tile bounds as [west, south, east, north] in degrees. */
export function tileBoundsLonLat({ z, x, y }: TileCoord): [number, number, number, number] {
  const n = 2 ** z;
  return [worldXToLon(x / n), worldYToLat((y + 1) / n), worldXToLon((x + 1) / n), worldYToLat(y / n)];
}

/** The tile at zoom `z` that contains the lon/lat point. */
export function tileContaining(lon: number, lat: number, z: number): TileCoord {
  const n = 2 ** z;
  const clamp = (v: number) => Math.min(n - 1, Math.max(0, Math.floor(v * n)));
  return { z, x: clamp(lonToWorldX(lon)), y: clamp(latToWorldY(lat)) };
}

/** Inclusive tile index ranges at zoom `z` that intersect `bbox`, clamped to the world. */
export function tileRange(bbox: WorldBBox, z: number): { x0: number; y0: number; x1: number; y1: number } {
  const n = 2 ** z;
  const lo = (v: number) => Math.min(n - 1, Math.max(0, Math.floor(v * n)));
  return { x0: lo(bbox[0]), y0: lo(bbox[1]), x1: lo(bbox[2]), y1: lo(bbox[3]) };
}

export function tileWorldBBox({ z, x, y }: TileCoord): WorldBBox {
  const n = 2 ** z;
  return [x / n, y / n, (x + 1) / n, (y + 1) / n];
}

export function bboxIntersects(a: WorldBBox, b: WorldBBox): boolean {
  return a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3];
}

export function expandBBox(b: WorldBBox, by: number): WorldBBox {
  return [b[0] - by, b[1] - by, b[2] + by, b[3] + by];
}

/** Bounding box of a GeoJSON geometry in world coordinates; null for empty geometries. */
export function geometryWorldBBox(geometry: Geometry | null | undefined): WorldBBox | null {
  if (!geometry) return null;
  const box: WorldBBox = [Infinity, Infinity, -Infinity, -Infinity];
  const add = (p: Position) => {
    const x = lonToWorldX(p[0]);
    const y = latToWorldY(p[1]);
    if (x < box[0]) box[0] = x;
    if (y < box[1]) box[1] = y;
    if (x > box[2]) box[2] = x;
    if (y > box[3]) box[3] = y;
  };
  const walk = (g: Geometry) => {
    switch (g.type) {
      case 'Point':
        add(g.coordinates);
        break;
      case 'MultiPoint':
      case 'LineString':
        g.coordinates.forEach(add);
        break;
      case 'MultiLineString':
      case 'Polygon':
        g.coordinates.forEach((ring) => ring.forEach(add));
        break;
      case 'MultiPolygon':
        g.coordinates.forEach((poly) => poly.forEach((ring) => ring.forEach(add)));
        break;
      case 'GeometryCollection':
        g.geometries.forEach(walk);
        break;
    }
  };
  walk(geometry);
  return box[0] === Infinity ? null : box;
}

/**
 * Position of a point on the quadtree at zoom 24 (Morton order of the zoom-24
 * tile indices). Every tile at zoom <= 24 covers one contiguous range of these
 * codes, which makes a sorted array of codes a spatial index. 48 bits: exact in a double.
 */
export function quadCode(wx: number, wy: number): number {
  const n = 2 ** MAX_ZOOM;
  let xi = Math.min(n - 1, Math.max(0, Math.floor(wx * n)));
  let yi = Math.min(n - 1, Math.max(0, Math.floor(wy * n)));
  // Interleave in two halves of 12 bits so the bit operations stay within 32 bits.
  const spread = (v: number) => {
    let r = v & 0xfff;
    r = (r | (r << 8)) & 0x00ff00ff;
    r = (r | (r << 4)) & 0x0f0f0f0f;
    r = (r | (r << 2)) & 0x33333333;
    r = (r | (r << 1)) & 0x55555555;
    return r >>> 0;
  };
  const hi = (spread(yi >>> 12) * 2 + spread(xi >>> 12)) >>> 0;
  xi &= 0xfff;
  yi &= 0xfff;
  const lo = (spread(yi) * 2 + spread(xi)) >>> 0;
  return hi * 2 ** 24 + lo;
}

/** The half-open range [start, end) of zoom-24 quad codes inside tile z/x/y. */
export function quadRange({ z, x, y }: TileCoord): [number, number] {
  const shift = 2 ** (MAX_ZOOM - z);
  const start = quadCode((x * shift) / 2 ** MAX_ZOOM, (y * shift) / 2 ** MAX_ZOOM);
  return [start, start + shift * shift];
}
