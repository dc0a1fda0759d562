import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { backend, copyTestDb } from '../setup/db.ts';
import { openPostgres } from '../../server/db/postgres.ts';
import type { Db } from '../../server/db/types.ts';
import { createFeature } from '../../server/edits/feature-store.ts';
import { getLayer } from '../../catalog/layers.ts';
import type { Principal } from '../../catalog/access.ts';

/**
 * Writers run side by side until their commit (migration 015): a write takes the
 * data version (and the count pyramid's cells) only as its last statement before
 * COMMIT, so a second editor is not held up by a first one still in its transaction.
 * Version order stays commit order, and each transaction moves it by exactly one.
 * PostgreSQL only: the embedded database runs one transaction at a time.
 */
const WRITERS = 8;
const EDITOR: Principal = { canSeeRestricted: true, role: 'editor', actor: 'parallel-writes', districts: null };
const layer = getLayer('risk_points')!;

let db: Db;
let location: string;
let points: [number, number][];
beforeAll(async () => {
  if (backend !== 'postgres') return;
  location = (await copyTestDb()).location;
  db = await openPostgres({ connectionString: location, max: WRITERS + 2 });
  const { rows } = await db.query<{ g: string }>(
    `SELECT ST_AsGeoJSON(ST_GeneratePoints(ST_Buffer(geom::geography, -300)::geometry, ${WRITERS * 2}, 3)) AS g FROM districts WHERE id = 'huadu'`,
  );
  points = JSON.parse(rows[0].g).coordinates;
});
afterAll(async () => db?.close());

const version = async () => Number((await db.query<{ v: number }>('SELECT version AS v FROM data_version')).rows[0].v);

/**
 * Transactions of this database's other sessions waiting for a lock, with what they run;
 * with `holder`, only those waiting for a lock that session holds.
 */
async function lockWaits(holder?: number): Promise<string[]> {
  const r = await db.query<{ query: string }>(
    `SELECT query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'
        AND ($1::int IS NULL OR $1::int = ANY (pg_blocking_pids(pid)))`,
    [holder ?? null],
  );
  return r.rows.map((x) => x.query);
}

/** Resolves once `test` holds, or with what blocks when some session waits for a lock (one `holder` holds). */
async function arrivedOrBlocked(test: () => boolean, holder?: number): Promise<string[]> {
  for (;;) {
    if (test()) return [];
    const waits = await lockWaits(holder);
    if (waits.length > 0 && !test()) return waits;
    await new Promise((r) => setTimeout(r, 5));
  }
}

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

describe.skipIf(backend !== 'postgres')('writers in parallel', () => {
  it(`${WRITERS} editors adding points in one district are all inside their transactions at once; each commits while the others are open, one version each, in commit order`, async () => {
    const v0 = await version();
    const gates = Array.from({ length: WRITERS }, gate);
    const arrived = new Set<number>();
    // The store's own transaction, held open after its work and before its COMMIT (and the
    // data version it takes there) until the test lets it go.
    const held = (k: number): Db => ({
      ...db,
      tx: (fn, opts) =>
        db.tx(async (q) => {
          const result = await fn(q);
          arrived.add(k);
          await gates[k].opened;
          return result;
        }, opts),
    });
    const writes = gates.map((_, k) =>
      createFeature(held(k), layer, {
        geometry: { type: 'Point', coordinates: points[k] },
        // same district and level: the same cells of the count pyramid at every low zoom
        properties: { name_zh: `并行写入 ${k}`, district_id: 'huadu', level: 'red', category: 'gas', responsible_unit: '测试单位' },
      }, EDITOR).then((f) => Number(f.feature.id)),
    );
    const blocked = await arrivedOrBlocked(() => arrived.size === WRITERS);
    if (blocked.length) for (const g of gates) g.open(); // let them finish before failing
    expect(blocked, 'sessions waiting for a lock while the others are open').toEqual([]);

    // Commit one at a time, last first: each commits while the ones before it are still open.
    const order = [...gates.keys()].reverse();
    const versions: number[] = [];
    for (const k of order) {
      gates[k].open();
      const id = await writes[k];
      const audit = await db.query<{ data_version: number }>(`SELECT data_version FROM audit_log WHERE layer = 'risk_points' AND feature_id = $1`, [String(id)]);
      expect(audit.rows).toHaveLength(1);
      versions.push(Number(audit.rows[0].data_version));
      expect(await version()).toBe(versions.at(-1));
    }
    expect(versions).toEqual(order.map((_, i) => v0 + 1 + i));
    // the pyramid counts every live point once per zoom
    const pyramid = await db.query<{ z: number; n: number; live: number }>(
      `SELECT c.z::int AS z, sum(c.n)::int AS n,
              (SELECT count(*)::int FROM risk_points WHERE deleted_at IS NULL AND geom3857 IS NOT NULL) AS live
         FROM tile_cluster_cells c WHERE c.layer = 'risk_points' GROUP BY c.z ORDER BY c.z`,
    );
    for (const r of pyramid.rows) expect(r.n, `zoom ${r.z}`).toBe(r.live);
  }, 60_000);

  it('a write in plain SQL left open holds up no other writer, and still moves the version at its commit', async () => {
    const a = new pg.Client({ connectionString: location });
    await a.connect();
    try {
      const v0 = await version();
      const openPid = (await a.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      const insert = (k: number) =>
        `INSERT INTO risk_points (district_id, name_zh, category, level, responsible_unit, geom)
         VALUES ('huadu', 'SQL 写入', 'gas', 'red', '测试单位', ST_SetSRID(ST_MakePoint(${points[WRITERS + k][0]}, ${points[WRITERS + k][1]}), 4326))`;
      await a.query('BEGIN');
      await a.query(insert(0));
      await a.query("UPDATE shelters SET capacity = capacity WHERE district_id = 'huadu'");
      // another session's plain insert of the same layer, district and level, then an edit
      // through the store (one after the other: two commits at the same instant do queue
      // for the version row, for that instant)
      let done = 0;
      const others = db
        .query(insert(1))
        .then(() => done++)
        .then(() =>
          createFeature(db, layer, {
            geometry: { type: 'Point', coordinates: points[WRITERS + 2] },
            properties: { name_zh: 'SQL 旁的编辑', district_id: 'huadu', level: 'red', category: 'gas', responsible_unit: '测试单位' },
          }, EDITOR),
        )
        .then(() => done++);
      // Waits for the open transaction only: a commit that sends a notification (as every write
      // here does, migration 017) queues for an instant behind any other one on the server, of
      // whatever database; that is PostgreSQL's NOTIFY, not this transaction holding anything.
      const blocked = await arrivedOrBlocked(() => done === 2, openPid);
      await a.query(blocked.length ? 'ROLLBACK' : 'COMMIT');
      await others;
      expect(blocked).toEqual([]);
      // one each: the two others, then the open transaction at its commit
      expect(await version()).toBe(v0 + 3);
    } finally {
      await a.end();
    }
  }, 30_000);
});
