import type { Db } from '../server/db/types.ts';

/**
 * The pages bench/ogc.ts measures, each with the OGC request and the SQL a
 * person would write by hand for the same features (json_build_object +
 * ST_AsGeoJSON with 7 decimals, json_agg in page order, no count).
 */
export interface BenchPage {
  name: 'first' | 'bbox' | 'deep' | 'filtered';
  limit: number;
  /** Query string of the OGC request (without limit; the deep page's cursor is added by the bench). */
  query: string;
  /** Extra WHERE condition of the hand-written SQL. */
  where: string;
  params: unknown[];
}

/** A box of about a tenth of the bench rows. */
export const BENCH_BBOX = [113.2, 23.1, 113.26, 23.16] as const;
export const DEEP_POSITION = 50_000;

/**
 * Where the deep page starts on a table of `rows` live rows: after DEEP_POSITION
 * features, or halfway on smaller tables (BENCH_ROWS < 50,000, e.g. a quick run),
 * in whole pages of 1,000 so a walk of next links lands on it.
 */
export function deepPosition(rows: number): number {
  return Math.min(DEEP_POSITION, Math.max(1000, Math.floor(rows / 2000) * 1000));
}

export const BENCH_PAGES: BenchPage[] = [
  { name: 'first', limit: 1000, query: '', where: 'true', params: [] },
  {
    name: 'bbox',
    limit: 500,
    query: `&bbox=${BENCH_BBOX.join(',')}`,
    where: 'ST_Intersects(geom, ST_MakeEnvelope($1, $2, $3, $4, 4326))',
    params: [...BENCH_BBOX],
  },
  // The hand-written deep page is the best SQL there is: a keyset (id > last id seen).
  { name: 'deep', limit: 1000, query: '', where: 'id > $1', params: [] },
  { name: 'filtered', limit: 1000, query: '&level=red,orange', where: `level = ANY($1::text[])`, params: [['red', 'orange']] },
];

export function handWrittenSql(page: BenchPage, properties: readonly string[], deepAfterId: number): { sql: string; params: unknown[] } {
  const props = properties.map((p) => `'${p}', ${p}`).join(', ');
  const sql = `SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(f ORDER BY id), '[]'::json))::text AS body
    FROM (SELECT id, json_build_object('type', 'Feature', 'id', id, 'geometry', ST_AsGeoJSON(geom, 7)::json, 'properties', json_build_object(${props})) AS f
            FROM risk_points WHERE deleted_at IS NULL AND ${page.where} ORDER BY id LIMIT ${page.limit}) t`;
  return { sql, params: page.name === 'deep' ? [deepAfterId] : page.params };
}

/** Adds `count` synthetic risk points (once: skipped when the table already holds them) and analyses. */
export async function loadBenchRows(db: Db, count: number): Promise<number> {
  const have = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM risk_points WHERE name_en LIKE 'Bench risk point %'`)).rows[0].n;
  if (have < count) {
    await db.query(
      `INSERT INTO risk_points (district_id, name_zh, name_en, category, level, responsible_unit, last_inspection, address, synthetic, geom)
       SELECT (SELECT id FROM districts ORDER BY id LIMIT 1), '基准风险点' || i, 'Bench risk point ' || i, 'other',
              (ARRAY['red','orange','yellow','blue'])[1 + i % 4], '基准单位', date '2024-01-01' + (i % 300), '基准路' || i || '号', true,
              ST_SetSRID(ST_MakePoint(113.1 + (i % 400) / 2000.0 + random() / 5000, 23.0 + (i / 400) / 1000.0 + random() / 5000), 4326)
         FROM generate_series($1::int + 1, $2::int) AS i`,
      [have, count],
    );
    await db.exec('ANALYZE risk_points');
  }
  return (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM risk_points WHERE deleted_at IS NULL')).rows[0].n;
}
