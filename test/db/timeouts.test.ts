import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, openTestDb } from '../setup/db.ts';
import { openPostgres } from '../../server/db/postgres.ts';
import { toProblem } from '../../server/http/errors.ts';
import type { Db } from '../../server/db/types.ts';

/**
 * Statement timeouts per kind of work and cancellation of abandoned statements
 * (PostgreSQL), and on both backends: no statement starts for a client that is gone.
 */
let db: Db;
let location: string;
beforeAll(async () => {
  ({ db, location } = await openTestDb());
});
afterAll(async () => db?.close());

describe('on both backends', () => {
  it('starts no statement once the request’s client has gone, and changes nothing', async () => {
    const gone = new AbortController();
    gone.abort();
    const version = async () => (await db.query<{ version: number }>('SELECT version FROM data_version')).rows[0].version;
    const before = await version();
    await expect(db.query('UPDATE data_version SET version = version + 1', [], { signal: gone.signal })).rejects.toMatchObject({ code: 'CLIENT_GONE' });
    await expect(db.tx((q) => q.query('UPDATE data_version SET version = version + 1'), { signal: gone.signal })).rejects.toMatchObject({ code: 'CLIENT_GONE' });
    expect(await version()).toBe(before);
  });
});

describe.skipIf(backend !== 'postgres')('PostgreSQL statement timeouts and cancellation', () => {
  let limited: Db;
  beforeAll(async () => {
    limited = await openPostgres({ connectionString: location, max: 3, statementTimeouts: { analyses: 300, tiles: 0 } });
  });
  afterAll(async () => limited?.close());

  it('stops a statement of a kind past its timeout; the error middleware answers 503 with Retry-After', async () => {
    const err = await limited.query('SELECT pg_sleep(5)', [], { kind: 'analyses' }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('57014');
    const problem = toProblem(err);
    expect(problem.status).toBe(503);
    expect(problem.retryAfter).toBeGreaterThan(0);
    // other kinds, and work outside requests (migrations), keep their own limit
    await expect(limited.query('SELECT pg_sleep(0.4) AS s', [], { kind: 'tiles' })).resolves.toMatchObject({ rowCount: 1 });
    await expect(limited.query('SELECT pg_sleep(0.4) AS s')).resolves.toMatchObject({ rowCount: 1 });
    // inside a transaction too
    await expect(limited.tx((q) => q.query('SELECT pg_sleep(5)'), { kind: 'analyses' })).rejects.toMatchObject({ code: '57014' });
  });

  it('cancels a running statement on the server when the client goes away', async () => {
    const ac = new AbortController();
    const marker = `cancel-me-${Date.now()}`;
    const running = limited.query(`SELECT pg_sleep(40), $1::text AS marker`, [marker], { signal: ac.signal }).catch((e: unknown) => e);
    const active = async () =>
      (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'SELECT pg_sleep(40)%'")).rows[0].n;
    for (let i = 0; i < 200 && (await active()) === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await active()).toBe(1);
    ac.abort();
    expect(((await running) as { code?: string }).code).toBe('57014');
    expect(await active()).toBe(0);
  }, 20_000);
});
