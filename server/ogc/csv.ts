import type { Geometry } from 'geojson';
import type { LayerProperty } from '../../catalog/layers.ts';
import type { CsvRow } from './sql.ts';
import { geometryToGcj02, wgs84ToGcj02 } from './crs.ts';
import { formatCoordinate as fmt, toWkt } from './wkt.ts';

/**
 * CSV for "the one table": one row per feature, `id`, `lon`, `lat` (the
 * point, or a point on the surface of a line or polygon), `wkt` for lines and
 * polygons, then one column per property. Columns are named, so coordinates
 * are always longitude then latitude whatever the CRS's axis order.
 *
 * Written for spreadsheets: UTF-8 with a byte-order mark (Excel on Chinese
 * Windows otherwise guesses GBK and garbles names), CRLF line ends, and text
 * cells that start with = + - @ prefixed with ' so they are not run as formulas.
 */
export const CSV_BOM = '\uFEFF';

function cell(value: unknown, isText: boolean): string {
  if (value === null || value === undefined) return '';
  let s = typeof value === 'string' ? value : String(value);
  if (isText && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

export interface CsvOptions {
  properties: readonly LayerProperty[];
  /** Whether the layer has line/polygon geometry (adds the `wkt` column). */
  withWkt: boolean;
  /** Shift coordinates to GCJ-02. */
  gcj02: boolean;
  /** Decimals of coordinates (those shifted in Node are rounded here). */
  decimals: number;
  /** Web Mercator output: the coordinate columns are `x`, `y` (metres). */
  xy?: boolean;
}

export function toCsv(rows: readonly CsvRow[], options: CsvOptions): string {
  const header = ['id', ...(options.xy ? ['x', 'y'] : ['lon', 'lat']), ...(options.withWkt ? ['wkt'] : []), ...options.properties.map((p) => p.name)];
  const lines = [header.join(',')];
  for (const row of rows) {
    let lon = row.lon;
    let lat = row.lat;
    if (options.gcj02) {
      const scale = 10 ** options.decimals;
      [lon, lat] = wgs84ToGcj02(lon, lat).map((v) => Math.round(v * scale) / scale) as [number, number];
    }
    const cells = [cell(row.id, false), fmt(lon), fmt(lat)];
    if (options.withWkt) {
      let g = JSON.parse(row.geometry as string) as Geometry;
      if (options.gcj02) g = geometryToGcj02(g, options.decimals);
      cells.push(cell(toWkt(g), false));
    }
    for (const p of options.properties) cells.push(cell(row[`p_${p.name}`], p.type === 'string'));
    lines.push(cells.join(','));
  }
  return CSV_BOM + lines.join('\r\n') + '\r\n';
}
