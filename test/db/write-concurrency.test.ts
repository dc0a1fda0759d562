import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, copyTestDb } from '../setup/db.ts';
import pg from 'pg';
import { openPostgres } from '../../server/db/postgres.ts';
import type { Db } from '../../server/db/types.ts';

/**
 * Writers of point layers at the same moment must not deadlock on the count
 * pyramid their triggers keep (tile_cluster_cells): every point adds to the
 * same low-zoom cells, which each transaction must lock in the same order
 * (migration 012). Before, 8 writers at a time lost about one transaction in
 * ten to "deadlock detected" (the API's 503 Conflicting transaction).
 * PostgreSQL only: the embedded database runs one transaction at a time.
 */
let db: Db;
let location: string;
beforeAll(async () => {
  if (backend !== 'postgres') return;
  location = (await copyTestDb()).location;
  // a pool as large as the writers (the usual test pool has 4 connections)
  db = await openPostgres({ connectionString: location, max: 8 });
});
afterAll(async () => db?.close());

describe.skipIf(backend !== 'postgres')('concurrent writes of points', () => {
  it('8 writers adding risk points at once: no deadlock, and the pyramid still counts every point', async () => {
    const { rows } = await db.query<{ g: string }>(
      `SELECT ST_AsGeoJSON(ST_GeneratePoints(ST_Buffer(geom::geography, -300)::geometry, 128, 1)) AS g FROM districts WHERE id = 'huadu'`,
    );
    const points = JSON.parse(rows[0].g).coordinates as [number, number][];
    const levels = ['red', 'orange', 'yellow', 'blue'];
    const failures: string[] = [];
    let committed = 0;
    await Promise.all(
      Array.from({ length: 8 }, async (_, writer) => {
        for (let k = 0; k < 16; k++) {
          const [lon, lat] = points[writer * 16 + k];
          try {
            await db.tx(async (q) => {
              await q.query(
                `INSERT INTO risk_points (district_id, name_zh, category, level, responsible_unit, geom)
                 VALUES ('huadu', '并发测试点', 'gas', $3, '测试单位', ST_SetSRID(ST_MakePoint($1, $2), 4326))`,
                [lon, lat, levels[k % 4]],
              );
              // the rest of an edit's transaction (audit row, notification) keeps its locks a moment
              await q.query('SELECT pg_sleep(0.02)');
            });
            committed++;
          } catch (err) {
            failures.push(`${(err as { code?: string }).code}: ${(err as Error).message}`);
          }
        }
      }),
    );
    expect(failures).toEqual([]);
    expect(committed).toBe(128);
    // every live point is counted once per zoom, whatever the order the writers ran in
    const pyramid = await db.query<{ z: number; n: number; live: number }>(
      `SELECT c.z::int AS z, sum(c.n)::int AS n,
              (SELECT count(*)::int FROM risk_points WHERE deleted_at IS NULL AND geom3857 IS NOT NULL) AS live
         FROM tile_cluster_cells c WHERE c.layer = 'risk_points' GROUP BY c.z ORDER BY c.z`,
    );
    expect(pyramid.rows.length).toBeGreaterThan(0);
    for (const r of pyramid.rows) expect(r.n, `zoom ${r.z}`).toBe(r.live);
  }, 60_000);

  it('a transaction that wrote another table first, then adds a point, does not deadlock with a plain point insert', async () => {
    // Recording an assessment writes hazard_assessments before it regrades the hazard source:
    // before migration 015 that took the data version row before any pyramid cell, the
    // plain insert the other way round. Now both only queue until their COMMIT, where each
    // takes the cells (in key order) and then the version.
    const a = new pg.Client({ connectionString: location });
    const b = new pg.Client({ connectionString: location });
    await a.connect();
    await b.connect();
    const insert = (c: pg.Client, lon: number) =>
      c.query(
        `INSERT INTO risk_points (district_id, name_zh, category, level, responsible_unit, geom)
         VALUES ('huadu', '顺序测试点', 'gas', 'red', '测试单位', ST_SetSRID(ST_MakePoint($1, 23.40), 4326))`,
        [lon],
      );
    const outcome = (c: pg.Client, p: Promise<unknown>) =>
      p.then(
        () => c.query('COMMIT').then(() => 'committed'),
        (err: { code?: string }) => c.query('ROLLBACK').then(() => `failed ${err.code}`),
      );
    try {
      await a.query('BEGIN');
      await a.query('DELETE FROM hazard_assessments WHERE false');
      await b.query('BEGIN');
      const bInsert = insert(b, 113.2);
      // A adds a point too, sharing the low-zoom cells B's insert touches; both commit at once
      const aInsert = insert(a, 113.21);
      expect(await Promise.all([outcome(a, aInsert), outcome(b, bInsert)])).toEqual(['committed', 'committed']);
    } finally {
      await a.end();
      await b.end();
    }
  }, 30_000);
});
