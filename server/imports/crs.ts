import { transformPosition, type CoordSystem } from '../geo/gcoord.ts';
import type { Geometry, Position } from 'geojson';

/**
 * Coordinate systems accepted on import. Storage is WGS84. CGCS2000 differs from
 * WGS84 by centimetres (same numbers for mapping); GCJ-02 (Gaode, Tencent) and
 * BD-09 (Baidu) are the obfuscated web-map systems, converted with gcoord.
 */
export const IMPORT_CRS = ['wgs84', 'cgcs2000', 'gcj02', 'bd09'] as const;
export type ImportCrs = (typeof IMPORT_CRS)[number];

const FROM: Record<ImportCrs, CoordSystem | null> = {
  wgs84: null,
  cgcs2000: null,
  gcj02: 'GCJ02',
  bd09: 'BD09',
};

export function toWgs84(position: Position, crs: ImportCrs): Position {
  const from = FROM[crs];
  if (!from) return position;
  const [x, y] = transformPosition([position[0], position[1]], from, 'WGS84');
  return [Math.round(x * 1e7) / 1e7, Math.round(y * 1e7) / 1e7];
}

export function geometryToWgs84(g: Geometry, crs: ImportCrs): Geometry {
  if (!FROM[crs]) return g;
  const map = (c: unknown): unknown => (typeof (c as number[])[0] === 'number' ? toWgs84(c as Position, crs) : (c as unknown[]).map(map));
  if (g.type === 'GeometryCollection') return { ...g, geometries: g.geometries.map((x) => geometryToWgs84(x, crs)) };
  return { ...g, coordinates: map(g.coordinates) } as Geometry;
}
