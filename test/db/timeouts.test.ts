import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, openTestDb, testDb } from '../setup/db.ts';
import { openPostgres } from '../../server/db/postgres.ts';
import { errorMiddleware, toProblem } from '../../server/http/errors.ts';
import { silentLogger } from '../../server/log.ts';
import { sharedScope } from '../../catalog/shared-work.ts';
import { scopedDb } from '../../server/db/scoped.ts';
import express from 'express';
import request from 'supertest';
import pg from 'pg';
import type { Db, StatementScope } from '../../server/db/types.ts';

/**
 * Statement timeouts per kind of work and cancellation of abandoned statements
 * (PostgreSQL), and on both backends: no statement starts for a client that is gone.
 */
let db: Db;
let location: string;
beforeAll(async () => {
  // Only the PostgreSQL tests open more connections to it (by location); on the embedded
  // backend the worker's shared database does, without opening a copy of its own.
  if (backend === 'postgres') ({ db, location } = await openTestDb());
  else db = await testDb();
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

  it('takes the signal from the request’s scope, whatever else the scope holds; a shared computation runs on', async () => {
    const gone = new AbortController();
    gone.abort();
    // read consistency, as the middleware adds it, beside the signal
    const scope: StatementScope = { kind: 'items', signal: gone.signal, consistency: { minLsn: 0n, primary: false } };
    const request = scopedDb(db, scope);
    await expect(request.query('SELECT 1 AS one')).rejects.toMatchObject({ code: 'CLIENT_GONE' });
    await expect(request.tx((q) => q.query('SELECT 1'))).rejects.toMatchObject({ code: 'CLIENT_GONE' });
    await expect(db.query('SELECT 1', [], { scope })).rejects.toMatchObject({ code: 'CLIENT_GONE' });
    // shared through a cache: runs under the computation's own signal, not this client's
    const shared = scopedDb(db, sharedScope(scope, new AbortController().signal));
    await expect(shared.query<{ one: number }>('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
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

  it('never hands a connection it sent a cancel for to another request, so a late cancel cannot stop someone else’s statement', async () => {
    // One connection: whatever runs next would run on the cancelled backend if it went back to the pool.
    const single = await openPostgres({ connectionString: location, max: 1 });
    try {
      const ac = new AbortController();
      const running = single.query('SELECT pg_sleep(40), pg_backend_pid() AS pid', [], { signal: ac.signal }).catch((e: unknown) => e);
      const activePid = async () =>
        (await db.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'SELECT pg_sleep(40), pg_backend_pid()%'")).rows[0]?.pid;
      let cancelled: number | undefined;
      for (let i = 0; i < 200 && !(cancelled = await activePid()); i++) await new Promise((r) => setTimeout(r, 25));
      expect(cancelled).toBeGreaterThan(0);
      ac.abort();
      expect(((await running) as { code?: string }).code).toBe('57014');
      const next = await single.query<{ pid: number; s: string }>('SELECT pg_backend_pid() AS pid, pg_sleep(0.2)::text AS s');
      expect(next.rows[0].pid).not.toBe(cancelled);
      const left = await db.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [cancelled]);
      expect(left.rowCount).toBe(0);
    } finally {
      await single.close();
    }
  }, 20_000);
});

describe.skipIf(backend !== 'postgres')('PostgreSQL deadlocks and serialization failures', () => {
  let app: Db;
  let other: pg.Client;
  beforeAll(async () => {
    app = await openPostgres({ connectionString: location, max: 3 });
    await db.exec('CREATE TABLE race_probe (id int PRIMARY KEY, v int NOT NULL); INSERT INTO race_probe VALUES (1, 0), (2, 0);');
    // A second writer outside the app (another server process, psql, an ETL job).
    other = new pg.Client({ connectionString: location });
    await other.connect();
    // Its deadlock check waits longer, so the app's transaction is the one PostgreSQL rolls back.
    await other.query("SET deadlock_timeout = '30s'");
  });
  afterAll(async () => {
    await other?.end();
    await app?.close();
  });

  /** The error middleware's answer to a route whose transaction fails with `run`'s error. */
  async function answerTo(run: () => Promise<unknown>) {
    const web = express();
    web.post('/write', async () => {
      await run();
    });
    web.use(errorMiddleware(silentLogger));
    return request(web).post('/write');
  }

  it('a deadlock (40P01) answers 503 with Retry-After, not 500, and nothing of the loser is stored', async () => {
    await other.query('BEGIN');
    await other.query('UPDATE race_probe SET v = v + 10 WHERE id = 2');
    let appHolds1!: () => void;
    const held = new Promise<void>((r) => (appHolds1 = r));
    let code: unknown;
    const res = answerTo(() =>
      app
        .tx(async (q) => {
          await q.query('UPDATE race_probe SET v = v + 1 WHERE id = 1');
          appHolds1();
          await q.query('UPDATE race_probe SET v = v + 1 WHERE id = 2'); // waits for `other`
        })
        .catch((e: { code?: unknown }) => {
          code = e.code;
          throw e;
        }),
    );
    const answered = res.then((r) => r);
    await held;
    await new Promise((r) => setTimeout(r, 200)); // the app's transaction is waiting for row 2 now
    const otherWaits = other.query('UPDATE race_probe SET v = v + 10 WHERE id = 1'); // closes the cycle
    const r = await answered;
    await otherWaits;
    await other.query('COMMIT');
    expect(code).toBe('40P01');
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('1');
    expect(r.type).toBe('application/problem+json');
    expect(r.body.title).toBe('Conflicting transaction');
    expect((await db.query<{ id: number; v: number }>('SELECT id, v FROM race_probe ORDER BY id')).rows).toEqual([
      { id: 1, v: 10 },
      { id: 2, v: 10 },
    ]);
  }, 20_000);

  it('a serialization failure (40001) answers 503 with Retry-After, not 500', async () => {
    let code: unknown;
    const r = await answerTo(() =>
      app
        .tx(async (q) => {
          await q.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
          await q.query('SELECT v FROM race_probe WHERE id = 1'); // the snapshot is taken here
          await other.query('UPDATE race_probe SET v = v + 100 WHERE id = 1'); // commits meanwhile
          await q.query('UPDATE race_probe SET v = v + 1 WHERE id = 1');
        })
        .catch((e: { code?: unknown }) => {
          code = e.code;
          throw e;
        }),
    );
    expect(code).toBe('40001');
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('1');
    expect((await db.query<{ v: number }>('SELECT v FROM race_probe WHERE id = 1')).rows[0].v).toBe(110);
  }, 20_000);
});
