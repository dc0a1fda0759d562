import type { Db } from '../server/db/types.ts';
import { MERCATOR_HALF_WORLD as W } from '../tiles/tile-coords.ts';

/**
 * `count` synthetic risk points in place of the table's rows, the distribution of
 * test/tiles/helpers/synthetic-points.ts generated in SQL (70 % in five clumps around the demo
 * districts, σ ≈ 5 km, the rest spread over 2.5° × 3°), `batch` rows per statement. Returns ms.
 */
export async function fillRiskPoints(db: Db, count: number, batch = 250_000): Promise<number> {
  const t = performance.now();
  await db.query('TRUNCATE risk_points CASCADE');
  await db.query('SELECT setseed(0.2026)');
  for (let from = 1; from <= count; from += batch) {
    await db.query(
      `WITH p AS (
         SELECT i, floor(random() * 5)::int AS d, random() < 0.7 AS clumped, random() AS u1, random() AS u2, random() AS u3, random() AS u4, random() AS lv
           FROM generate_series($1::int, $2::int) AS i)
       INSERT INTO risk_points (district_id, name_zh, name_en, category, level, responsible_unit, address, last_inspection, synthetic, geom)
       SELECT (ARRAY['yuexiu','huadu','wujiang','pingshan','jianghai'])[d + 1], '合成风险点第' || i || '号仓储区', 'Synthetic risk point ' || i,
              'fire', CASE WHEN lv < 0.05 THEN 'red' WHEN lv < 0.2 THEN 'orange' WHEN lv < 0.5 THEN 'yellow' ELSE 'blue' END,
              '街道办事处', '合成地址' || (100 + floor(u4 * 900)) || '号', date '2026-01-01' + floor(u4 * 330)::int, true,
              ST_SetSRID(CASE WHEN clumped THEN ST_MakePoint(
                (ARRAY[113.27,113.22,113.59,114.35,113.12])[d + 1] + sqrt(-2 * ln(u1 + 1e-12)) * cos(2 * pi() * u2) * 0.05,
                (ARRAY[23.13,23.40,24.80,22.70,22.55])[d + 1] + sqrt(-2 * ln(u3 + 1e-12)) * cos(2 * pi() * u4) * 0.05)
              ELSE ST_MakePoint(112.5 + u1 * 2.5, 22 + u3 * 3) END, 4326)
         FROM p`,
      [from, Math.min(count, from + batch - 1)],
    );
  }
  await db.query('VACUUM ANALYZE risk_points');
  await db.query('VACUUM ANALYZE tile_cluster_cells');
  return performance.now() - t;
}

/** The tile of zoom `z` holding the most risk points, and how many it holds. */
export async function densestTile(db: Db, z: number): Promise<{ z: number; x: number; y: number; n: number }> {
  const r = await db.query<{ x: number; y: number; n: number }>(
    `SELECT floor((ST_X(geom3857) + ${W}) / $1)::int AS x, floor((${W} - ST_Y(geom3857)) / $1)::int AS y, count(*)::int AS n
       FROM risk_points GROUP BY 1, 2 ORDER BY n DESC LIMIT 1`,
    [(2 * W) / 2 ** z],
  );
  return { z, ...r.rows[0] };
}
