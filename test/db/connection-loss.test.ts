import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, testDb } from '../setup/db.ts';
import type { Db } from '../../server/db/types.ts';

let db: Db;
beforeAll(async () => {
  db = await testDb();
});
afterAll(async () => db?.close());

// A database restart kills the connections of open transactions. On the
// PostgreSQL backend the dying client emits 'error'; unheard, that ends the
// process (found by bench/reliability.ts stopping PostgreSQL under load).
describe.runIf(backend === 'postgres')('a transaction whose connection dies', () => {
  it('rejects, keeps the process alive, and the pool serves the next query on a fresh connection', async () => {
    const outcome = db.tx(async (q) => {
      const pid = (await q.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      await db.query('SELECT pg_terminate_backend($1)', [pid]);
      await new Promise((r) => setTimeout(r, 300)); // the connection ends while no statement runs
      await q.query('SELECT 1');
    });
    await expect(outcome).rejects.toThrow(/terminat|connection/i);
    expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows[0].one).toBe(1);
    // Writes still commit.
    await db.tx(async (q) => q.query('SELECT 1'));
  });
});
