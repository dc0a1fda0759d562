/**
 * The reset between test files (test/setup/shared-db.ts)
 * puts every table back exactly as seeded, whatever a file did to it: rows added,
 * changed and removed, and sequences.
 * Run on the postgres project, on a copy of its own (the worker's database, which files
 * borrow, is snapshotted already); the statements are the same on both backends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb } from '../setup/db.ts';
import { restoreSnapshot, takeSnapshot } from '../setup/shared-db.ts';
import type { Db } from '../../server/db/types.ts';

const backend = process.env.TEST_BACKEND;
let db: Db;
beforeAll(async () => {
  if (backend === 'postgres') ({ db } = await openTestDb());
});
afterAll(async () => db?.close());

/** Every table's rows, as one digest each (row text in order, generated columns included), and every sequence's value. */
async function state(tables: readonly string[]) {
  const digests: Record<string, string> = {};
  for (const t of tables) {
    const r = await db.query<{ d: string | null }>(`SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) AS d FROM public."${t}" t`);
    digests[t] = r.rows[0].d ?? 'empty';
  }
  const seqs = await db.query<{ name: string; value: string | null }>(`SELECT sequencename AS name, last_value::text AS value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1`);
  return { digests, sequences: seqs.rows };
}

describe.runIf(backend === 'postgres')('the seeded state restored between test files', () => {
  it('after rows were added, changed and removed, every table and sequence is as seeded again', async () => {
    const seeded = await takeSnapshot(db);
    const tables = seeded.tables.map((t) => t.name);
    expect(seeded.tables.find((t) => t.name === 'risk_points')?.key).toEqual(['id']);
    const before = await state(tables);

    await db.tx(async (q) => {
      await q.query(`UPDATE risk_points SET level = 'red', name_zh = name_zh || ' (改)' WHERE id IN (SELECT id FROM risk_points ORDER BY id LIMIT 5)`);
      await q.query(`DELETE FROM risk_points WHERE id IN (SELECT id FROM risk_points ORDER BY id DESC LIMIT 3)`);
      await q.query(`INSERT INTO risk_points (district_id, name_zh, category, level, responsible_unit, synthetic, geom)
                     VALUES ('huadu', '新增风险点', 'fire', 'blue', '测试单位', true, ST_SetSRID(ST_MakePoint(113.2, 23.4), 4326))`);
      await q.query(`UPDATE shelters SET capacity = capacity + 1 WHERE id = (SELECT min(id) FROM shelters)`);
      await q.query(`DELETE FROM population_cells WHERE id IN (SELECT id FROM population_cells ORDER BY id LIMIT 2)`);
    });
    // a row put back by hand with its old values but a new row version counts as changed, and is restored too
    await db.query(`UPDATE districts SET name_zh = name_zh`);
    const after = await state(tables);
    expect(after.digests.risk_points).not.toBe(before.digests.risk_points);

    const changed = await db.tx((q) => restoreSnapshot(q, seeded));
    expect(changed).toEqual(expect.arrayContaining(['risk_points', 'shelters', 'population_cells', 'districts', 'data_version']));
    expect(await state(tables)).toEqual(before);

    // and again, from the state the first reset left (its own rows are not taken for changes)
    await db.query(`UPDATE streets SET name_zh = name_zh || '街' WHERE id = (SELECT min(id) FROM streets)`);
    const again = await db.tx((q) => restoreSnapshot(q, seeded));
    expect(again).toContain('streets');
    expect(again).not.toContain('risk_points');
    expect(await state(tables)).toEqual(before);
  });
});
