import type { Polygon } from 'geojson';
import type { Queryable } from '../db/types.ts';

/**
 * Coverage gaps as dissolved polygons: the populated cells no usable shelter
 * reaches, unioned and split into connected polygons, each with its residents.
 * Built from the same per-cell coverage as the tables, so the residents of all
 * gaps add up to the district's uncovered residents exactly (cells touching
 * only at a corner are separate polygons; a cell belongs to the polygon that
 * covers its interior point). Largest first: residents, then area, then lowest cell id.
 */
export interface CoverageGap {
  rank: number;
  residents: number;
  area_m2: number;
  cells: number;
  synthetic: boolean;
  geometry: Polygon;
}

// ST_ClusterDBSCAN (eps 0, one point) groups touching cells; each group is unioned once and split into
// its polygons; only groups that split (cells touching at a corner) need the point-in-polygon test.
const GAPS_SQL = `
  WITH u AS (
    SELECT id, residents, synthetic, geom, ST_ClusterDBSCAN(geom, 0, 1) OVER (ORDER BY id) AS grp
    FROM population_cells WHERE id = ANY($1::bigint[])
  ), pieces AS (
    SELECT grp, (ST_Dump(ST_Union(geom))).geom AS geom FROM u GROUP BY grp
  ), numbered AS (
    SELECT grp, row_number() OVER () AS part, count(*) OVER (PARTITION BY grp) AS parts, geom FROM pieces
  )
  SELECT ST_AsGeoJSON(n.geom, 6) AS geometry, ST_Area(n.geom::geography) AS area_m2,
    sum(u.residents)::int8 AS residents, count(*)::int AS cells, min(u.id)::int8 AS first_cell,
    bool_or(u.synthetic) AS synthetic
  FROM numbered n JOIN u ON u.grp = n.grp AND (n.parts = 1 OR ST_Covers(n.geom, ST_PointOnSurface(u.geom)))
  GROUP BY n.part, n.geom`;

export async function dissolveGaps(db: Queryable, uncoveredCellIds: readonly number[]): Promise<CoverageGap[]> {
  if (uncoveredCellIds.length === 0) return [];
  const r = await db.query<{ geometry: string; area_m2: number; residents: number; cells: number; first_cell: number; synthetic: boolean }>(GAPS_SQL, [
    uncoveredCellIds,
  ]);
  return r.rows
    .map((row) => ({
      residents: Number(row.residents),
      area_m2: Math.round(Number(row.area_m2)),
      cells: Number(row.cells),
      firstCell: Number(row.first_cell),
      synthetic: Boolean(row.synthetic),
      geometry: JSON.parse(row.geometry) as Polygon,
    }))
    .sort((a, b) => b.residents - a.residents || b.area_m2 - a.area_m2 || a.firstCell - b.firstCell)
    .map(({ firstCell: _f, ...gap }, i) => ({ rank: i + 1, ...gap }));
}
