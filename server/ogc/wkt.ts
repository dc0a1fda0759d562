import type { Geometry, Position } from 'geojson';

/** WKT text of GeoJSON geometries (CSV `wkt` column, computed layers handed to SQL). */

/** A coordinate rounded to 9 decimals (PostGIS ST_AsGeoJSON's default), as text. */
export const formatCoordinate = (n: number) => String(Math.round(n * 1e9) / 1e9);
const fmt = formatCoordinate;

function positions(coords: Position[]): string {
  return coords.map((p) => `${fmt(p[0])} ${fmt(p[1])}`).join(', ');
}

/** WKT of a GeoJSON geometry (lon/lat order). */
export function toWkt(g: Geometry): string {
  switch (g.type) {
    case 'Point':
      return `POINT (${positions([g.coordinates])})`;
    case 'MultiPoint':
      return `MULTIPOINT (${g.coordinates.map((p) => `(${positions([p])})`).join(', ')})`;
    case 'LineString':
      return `LINESTRING (${positions(g.coordinates)})`;
    case 'MultiLineString':
      return `MULTILINESTRING (${g.coordinates.map((l) => `(${positions(l)})`).join(', ')})`;
    case 'Polygon':
      return `POLYGON (${g.coordinates.map((r) => `(${positions(r)})`).join(', ')})`;
    case 'MultiPolygon':
      return `MULTIPOLYGON (${g.coordinates.map((poly) => `(${poly.map((r) => `(${positions(r)})`).join(', ')})`).join(', ')})`;
    case 'GeometryCollection':
      return `GEOMETRYCOLLECTION (${g.geometries.map(toWkt).join(', ')})`;
  }
}
