/**
 * A recomputation of every shelter's hazard-zone flag (the endpoint, the keeper's rounds after
 * plain-SQL writes, a bulk load) locks only the shelters whose flag changes, and decides those
 * again once locked. A check-in elsewhere is not held up by a round, and a write that commits
 * while a round waits for its shelter is kept.
 *
 * PostgreSQL only: the embedded backend runs one transaction at a time, so nothing can wait on a
 * row lock there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, testDb } from '../setup/db.ts';
import type { Db } from '../../server/db/types.ts';
import type { Principal } from '../../catalog/access.ts';
import { recomputeHazardZones } from '../../server/shelters/usability.ts';
import { waitFor } from '../helpers/sse.ts';

const ADMIN: Principal = { canSeeRestricted: true, role: 'admin', actor: 'test admin', districts: null };

let db: Db;
beforeAll(async () => {
  db = await testDb();
});
afterAll(async () => db?.close());

/** Usable shelters with no hazard within a kilometre. */
const quietShelters = async (n: number) =>
  (
    await db.query<{ id: number }>(
      `SELECT s.id::int8 AS id FROM shelters s
        WHERE s.usable AND s.deleted_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM flood_points f WHERE f.deleted_at IS NULL AND ST_DWithin(f.geom::geography, s.geom::geography, 1000))
          AND NOT EXISTS (SELECT 1 FROM geohazard_sites g WHERE g.deleted_at IS NULL AND ST_DWithin(g.geom::geography, s.geom::geography, 1000))
        ORDER BY s.id LIMIT $1`,
      [n],
    )
  ).rows.map((r) => Number(r.id));

/** Runs `write` in a transaction left open until the returned `commit` is called. */
async function openTx(write: string, params: unknown[]) {
  let commit!: () => void;
  let wrote!: () => void;
  const committed = new Promise<void>((resolve) => (commit = resolve));
  const written = new Promise<void>((resolve) => (wrote = resolve));
  const done = db.tx(async (q) => {
    await q.query(write, params);
    wrote();
    await committed;
  });
  await written;
  return { commit: () => (commit(), done) };
}

const settledWithin = <T>(p: Promise<T>, ms: number) => Promise.race([p, new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), ms))]);

describe.runIf(backend === 'postgres')('hazard-zone recomputation and row locks', () => {
  it('a round that changes nothing does not wait for a check-in in progress', async () => {
    const [shelter] = await quietShelters(1);
    // A check-in's UPDATE, not yet committed: it holds the shelter's row lock.
    const checkIn = await openTx('UPDATE shelters SET occupancy = occupancy + 1 WHERE id = $1', [shelter]);
    try {
      const round = recomputeHazardZones(db, ADMIN);
      const out = await settledWithin(round, 5_000);
      expect(out).toMatchObject({ flagged: [], restored: [], renoted: [], data_version: null });
    } finally {
      await checkIn.commit();
    }
  });

  it('a shelter whose flag changes is decided again once locked: an editor’s flag committed meanwhile is kept', async () => {
    const [edited, plain] = await quietShelters(2);
    // Active flood-prone spots on both: a round flags both.
    await db.query(
      `INSERT INTO flood_points (district_id, name_zh, kind, status, synthetic, geom)
       SELECT district_id, '积水点', 'black_spot', 'active', true, geom FROM shelters WHERE id = ANY($1::bigint[])`,
      [[edited, plain]],
    );
    // An editor closes one of them; the round reads it usable (the flag is not committed yet) and must wait for it.
    const editor = await openTx(
      `UPDATE shelters SET usable = false, unusable_reason = 'editor', unusable_note = 'roof damaged', version = version + 1 WHERE id = $1`,
      [edited],
    );
    let round: ReturnType<typeof recomputeHazardZones>;
    try {
      round = recomputeHazardZones(db, ADMIN);
      await waitFor(
        async () => ((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0].n > 0 ? true : undefined),
        5_000,
        'the round waiting for the edited shelter',
      );
    } finally {
      await editor.commit();
    }
    const out = await round!;
    expect(out.flagged).toEqual([plain]);
    const rows = await db.query<{ id: number; usable: boolean; unusable_reason: string; unusable_note: string }>(
      'SELECT id::int8 AS id, usable, unusable_reason, unusable_note FROM shelters WHERE id = ANY($1::bigint[]) ORDER BY id',
      [[edited, plain]],
    );
    const byId = new Map(rows.rows.map((r) => [Number(r.id), r]));
    expect(byId.get(edited)).toMatchObject({ usable: false, unusable_reason: 'editor', unusable_note: 'roof damaged' });
    expect(byId.get(plain)).toMatchObject({ usable: false, unusable_reason: 'hazard_zone' });
  });
});
