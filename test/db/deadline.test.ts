import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { backend, copyTestDb } from '../setup/db.ts';
import { TEST_ENV } from '../helpers/test-env.ts';
import { until } from '../helpers/until.ts';
import { openDb } from '../../server/db/open.ts';
import { loadConfig } from '../../server/config.ts';
import { buildApp } from '../../server/app.ts';
import { createKey } from '../../server/auth/keys.ts';
import { silentLogger } from '../../server/log.ts';
import { outlivingScope, restartedScope } from '../../server/http/request-scope.ts';
import { scopedDb } from '../../server/db/scoped.ts';
import type { Db, Queryable, QueryOptions, StatementScope } from '../../server/db/types.ts';
import { SharedWork } from '../../catalog/shared-work.ts';

/**
 * The embedded backend's bound on work per request: PGlite can neither cancel a
 * statement nor honour statement_timeout, so STATEMENT_TIMEOUT_*_MS is a deadline
 * from the request's start, checked when each statement (or transaction) gets the
 * single connection. On PostgreSQL the same limits are statement timeouts, each
 * statement on a connection of its own (test/db/timeouts.test.ts), so nothing here
 * queues there: the file runs on the embedded backend only.
 */
// Long enough for a write with nothing in its way, even on a busy test machine.
const ITEMS_LIMIT_MS = 1000;

/** Waits until the clock has passed `at` (performance.now()): a deadline passing is the condition under test. */
const past = (at: number) => until(() => performance.now() > at, 30_000, 5);

describe.skipIf(backend !== 'embedded')('embedded backend: a deadline per request', () => {
  let db: Db;
  let app: Express;
  let editor: string;
  /** Statements the app asked for: the kind and start of the request that asked. */
  const asked: { kind: string; started: number }[] = [];
  const askedSince = (kind: string, t: number, count = 1) => asked.filter((a) => a.kind === kind && a.started >= t).length >= count;

  beforeAll(async () => {
    const copy = await copyTestDb();
    // Items and tiles get a short limit, analyses none: opened as the server opens its database.
    const config = loadConfig({
      ...TEST_ENV,
      ...copy.env,
      STATEMENT_TIMEOUT_ITEMS_MS: String(ITEMS_LIMIT_MS),
      STATEMENT_TIMEOUT_TILES_MS: String(ITEMS_LIMIT_MS),
      STATEMENT_TIMEOUT_ANALYSES_MS: '0',
    });
    db = await openDb(config, () => {});
    ({ key: editor } = await createKey(db, { name: 'deadline editor', role: 'editor' }));
    const count = (opts: QueryOptions | undefined) => {
      const scope = opts?.scope;
      if (scope?.kind && scope.started !== undefined) asked.push({ kind: scope.kind, started: scope.started });
    };
    const spied: Db = {
      ...db,
      query: (sql, params, opts) => (count(opts), db.query(sql, params, opts)),
      tx: (fn, opts) => (count(opts), db.tx(fn, opts)),
    };
    app = buildApp({ db: spied, config, log: silentLogger });
  });
  afterAll(async () => db?.close());

  /** Holds the single connection with a transaction of background work until `release()`. */
  function holdConnection() {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let held!: () => void;
    const holding = new Promise<void>((r) => (held = r));
    const done = db.tx(async (q) => {
      await q.query('SELECT 1');
      held();
      await gate;
    });
    return { holding, release, done };
  }

  const point = async () =>
    (await db.query<{ x: number; y: number }>("SELECT ST_X(p) AS x, ST_Y(p) AS y FROM (SELECT ST_PointOnSurface(geom) AS p FROM districts WHERE id = 'huadu') s")).rows[0];
  const stored = async (name: string) => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM risk_points WHERE name_zh = $1', [name])).rows[0].n;

  it('requests whose statements wait past their limit answer 503 + Retry-After and write nothing; one without a limit is answered', async () => {
    const { x, y } = await point();
    const name = `deadline-${Date.now()}`;
    const feature = {
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [x, y] },
      properties: { name_zh: name, district_id: 'huadu', level: 'orange', category: 'gas', responsible_unit: '花都区应急管理局' },
    };
    // The key's slow hash is checked once and remembered: not part of what is measured.
    await request(app).get('/health/counts').set('authorization', `Bearer ${editor}`);
    // The write is fine: answered when nothing is in its way.
    const control = await request(app).post('/ogc/collections/risk_points/items').set('authorization', `Bearer ${editor}`).send({ ...feature, properties: { ...feature.properties, name_zh: `${name}-control` } });
    expect(control.status).toBe(201);

    const held = holdConnection();
    await held.holding;
    const sent = performance.now();
    const write = request(app).post('/ogc/collections/risk_points/items').set('authorization', `Bearer ${editor}`).send(feature).then((r) => r);
    // An anonymous tile that misses the cache: rendered before Express, which it goes on to when that fails.
    const tile = request(app).get('/tiles/risk_points/10/835/444.mvt').then((r) => r);
    const unlimited = request(app).get('/risk/geohazards?district=huadu').then((r) => r);
    // Liveness stays 200 and says the database is busy, not that it is away.
    const health = request(app).get('/health').then((r) => r);
    // Background work, no request: queued behind too.
    const background = db.query<{ one: number }>('SELECT 1 AS one');
    // The requests wait for the connection, and the write's and the tile's time is up.
    try {
      // items: the write and /health
      await until(() => askedSince('items', sent, 2) && askedSince('tiles', sent) && askedSince('analyses', sent), 5000, 5);
      // past the deadline of the latest of them to start (each counts from its own start)
      const lastStart = Math.max(...asked.filter((a) => a.started >= sent && a.kind !== 'analyses').map((a) => a.started));
      await past(lastStart + ITEMS_LIMIT_MS);
    } finally {
      held.release();
      await held.done;
    }

    const refused = await write;
    expect(refused.status).toBe(503);
    expect(refused.type).toBe('application/problem+json');
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.body.title).toBe('Took too long');
    // The tile too, in one go: its second pass through Express keeps the request's clock.
    const tileAnswer = await tile;
    expect(tileAnswer.status).toBe(503);
    expect(tileAnswer.headers['retry-after']).toBe('5');
    const live = await health;
    expect(live.status).toBe(200);
    expect(live.body).toMatchObject({ status: 'ok', database: 'busy' });
    // A request of a kind without a limit is answered once the connection is free.
    expect((await unlimited).status).toBe(200);
    await expect(background).resolves.toMatchObject({ rows: [{ one: 1 }] });
    // Nothing of the refused write was run; the one sent in time was stored.
    expect(await stored(name)).toBe(0);
    expect(await stored(`${name}-control`)).toBe(1);
  });

  it('checks the deadline when a statement gets the connection, not when it is called; later statements of the request are not run', async () => {
    const version = async () => (await db.query<{ version: number }>('SELECT version FROM data_version')).rows[0].version;
    const versionBefore = await version();
    let ran = 0;
    const held = holdConnection();
    await held.holding;
    const scope: StatementScope = { kind: 'items', signal: new AbortController().signal, started: performance.now() };
    const request = scopedDb(db, scope);
    const first = request.query('SELECT 1'); // called in time, its turn comes too late
    await past(scope.started! + ITEMS_LIMIT_MS).finally(held.release);
    const err = await first.catch((e: unknown) => e);
    // a later statement and a transaction of the same request
    const insert = await request.query('UPDATE data_version SET version = version + 1').catch((e: unknown) => e);
    const tx = await request
      .tx(async (q: Queryable) => {
        ran++;
        await q.query('SELECT 1');
      })
      .catch((e: unknown) => e);
    for (const e of [err, insert, tx]) {
      expect(e).toMatchObject({ code: '57014' });
      expect((e as Error).message).toContain(`time limit for items (${ITEMS_LIMIT_MS} ms) had passed before this statement could start`);
    }
    expect(ran).toBe(0);
    expect(await version()).toBe(versionBefore);
    await held.done;
  });

  it('lets a transaction that started in time run to its end', async () => {
    const scope: StatementScope = { kind: 'items', signal: new AbortController().signal, started: performance.now() };
    const out = await scopedDb(db, scope).tx(async (q) => {
      await past(scope.started! + ITEMS_LIMIT_MS);
      return (await q.query<{ one: number }>('SELECT 1 AS one')).rows[0].one;
    });
    expect(out).toBe(1);
  });

  it('runs a computation shared by several requests until the time limit of the latest of them, not the first; a caller without a limit lifts it', async () => {
    const scopeStarted = (started: number | undefined): StatementScope => ({ kind: 'items', signal: new AbortController().signal, started });
    const one = (scope: StatementScope | undefined) => scopedDb(db, scope).query<{ one: number }>('SELECT 1 AS one');
    const long = performance.now() - 60 * ITEMS_LIMIT_MS;
    // Started by a request whose time is up: alone, its statement is refused.
    const alone = new SharedWork(scopeStarted(long), one);
    await expect(alone.wait(scopeStarted(long))).rejects.toMatchObject({ code: '57014' });
    // The same, while its statement waits for the connection a request with time left joins.
    for (const joiner of [scopeStarted(performance.now()), undefined, scopeStarted(undefined)]) {
      const held = holdConnection();
      await held.holding;
      const first = scopeStarted(long);
      const work = new SharedWork(first, one);
      const answers = [work.wait(first), work.wait(joiner)];
      held.release();
      await held.done;
      for (const answer of answers) await expect(answer).resolves.toMatchObject({ rows: [{ one: 1 }] });
    }
    // A request that joins earlier than the one that started it does not shorten the limit.
    const now = scopeStarted(performance.now());
    const early = new SharedWork(now, one);
    await expect(early.wait(scopeStarted(long))).resolves.toMatchObject({ rows: [{ one: 1 }] });
  });

  it('never refuses work outside requests, nor work that outlives its request (an asynchronous import job); an import’s clock starts again after its upload', async () => {
    const long = performance.now() - 60 * ITEMS_LIMIT_MS;
    await expect(db.query<{ one: number }>('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
    const scope: StatementScope = { kind: 'items', signal: new AbortController().signal, started: long };
    await expect(scopedDb(db, scope).query('SELECT 1')).rejects.toMatchObject({ code: '57014' });
    const outliving = scopedDb(db, outlivingScope(scope));
    await expect(outliving.query<{ one: number }>('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
    await expect(outliving.tx((q) => q.query('SELECT 1'))).resolves.toMatchObject({ rowCount: 1 });
    // an import's database work counts from the end of its upload and parsing
    await expect(scopedDb(db, restartedScope(scope)).query<{ one: number }>('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
    await expect(scopedDb(db, scope).query('SELECT 1')).rejects.toMatchObject({ code: '57014' });
  });
});
