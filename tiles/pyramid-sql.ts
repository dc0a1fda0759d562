import { RISK_LEVELS } from '../catalog/layers.ts';
import { MERCATOR_HALF_WORLD } from './tile-coords.ts';

/**
 * The SQL that reads the count pyramid (`tile_cluster_cells`, kept by triggers;
 * migrations 008, 011–013), written once for both tile engines: the PostGIS
 * engine's statements and the feature source the in-process engine reads.
 *
 * Cells are numbered over the whole Web Mercator world at a zoom:
 * cx = floor((x + W) / cell), cy = floor((W - y) / cell), with cell = 2W / (2^z · cells per tile).
 * The pyramid keeps, per layer, zoom, cell, level and district, the count of live
 * points and the sums of their coordinates.
 */

const W = MERCATOR_HALF_WORLD;

/** One filter of the pyramid's rows: its column and the SQL of a `text[]` value (NULL: all). */
export interface PyramidFilter {
  column: 'level' | 'district';
  values: string;
}

export interface PyramidCellsQuery {
  /** SQL of the layer id. */
  layer: string;
  /** SQL of the zoom. */
  z: string;
  /** SQL of the first and last cell column and row, inclusive. */
  cx: readonly [string, string];
  cy: readonly [string, string];
  filters: readonly PyramidFilter[];
  /** Also sum the counts per risk level, as `level_0` … (RISK_LEVELS order). */
  levels: boolean;
}

/** ` AND …` predicates on the pyramid's rows (alias c) for these filters. */
export function pyramidFiltersSql(filters: readonly PyramidFilter[]): string {
  return filters.map((f) => ` AND (${f.values} IS NULL OR c.${f.column} = ANY(${f.values}))`).join('');
}

/** SQL of the size of one cell, m, at zoom `z` with `perTile` cells per tile side. */
export function cellSizeSql(z: string, perTile: string): string {
  return `(${2 * W} / (2 ^ ${z}::int * ${perTile}::int))`;
}

/** The name of the count of the i-th risk level in pyramidCellsSql. */
export function levelCountName(i: number): string {
  return `level_${i}`;
}

/**
 * The cells of a box with any point of the filtered levels and districts, one row
 * each: `cx, cy, n, sx, sy` (count and coordinate sums, so the mean is sx / n) and,
 * with `levels`, the count of each risk level.
 */
export function pyramidCellsSql(q: PyramidCellsQuery): string {
  const levels = q.levels ? RISK_LEVELS.map((l, i) => `, coalesce(sum(c.n) FILTER (WHERE c.level = '${l}'), 0)::int8 AS ${levelCountName(i)}`).join('') : '';
  return `SELECT c.cx, c.cy, sum(c.n)::int8 AS n, sum(c.sx) AS sx, sum(c.sy) AS sy${levels}
    FROM tile_cluster_cells c
   WHERE c.layer = ${q.layer} AND c.z = ${q.z} AND c.cx BETWEEN ${q.cx[0]} AND ${q.cx[1]} AND c.cy BETWEEN ${q.cy[0]} AND ${q.cy[1]}${pyramidFiltersSql(q.filters)}
   GROUP BY c.cx, c.cy
  HAVING sum(c.n) > 0`;
}

/**
 * The one point of a cell `c` that holds a single point (`c.n = 1`), found through
 * the table's index inside the cell: `SELECT t.* …` of `table` (aliased t) for a
 * LATERAL join; `where` holds the live-row and filter predicates on t.
 */
export function pointOfCellSql(table: string, cell: string, where: string): string {
  const box = `ST_MakeEnvelope(c.cx * ${cell} - ${W}, ${W} - (c.cy + 1) * ${cell}, (c.cx + 1) * ${cell} - ${W}, ${W} - c.cy * ${cell}, 3857)`;
  return `SELECT t.* FROM ${table} t
       WHERE c.n = 1 AND t.geom3857 && ${box}
         AND floor((ST_X(t.geom3857) + ${W}) / ${cell}) = c.cx AND floor((${W} - ST_Y(t.geom3857)) / ${cell}) = c.cy AND ${where}
       LIMIT 1`;
}
