import fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { Db, Queryable, QueryOptions, QueryResult, Row, StatementTimeouts } from './types.ts';
import { throwIfGone } from '../http/request-scope.ts';
import { TYPE_OIDS } from './types.ts';
import { postgisExtension } from './postgis-bundle.ts';
import { openJournal, settleJournal } from './data-version.ts';
import { deadlineOf, throwIfPast } from './deadline.ts';

export interface EmbeddedOptions {
  /** Directory holding the database files; created when missing. `undefined` = in memory. */
  dataDir?: string;
  /** Called with short progress messages while the WASM PostGIS loads (it takes seconds cold). */
  onProgress?: (message: string) => void;
  /** Planner settings (name, value) for the session; see postgres.ts. */
  plannerSettings?: readonly (readonly [string, string])[];
  /**
   * Time limit per kind of work, ms (0 or missing = none): the same STATEMENT_TIMEOUT_*_MS
   * as PostgreSQL's, applied as a deadline on each request (server/db/deadline.ts).
   */
  statementTimeouts?: StatementTimeouts;
}

// Same value shapes as the pg backend: numbers for int8/numeric, 'YYYY-MM-DD' for dates.
const parsers = {
  [TYPE_OIDS.int8]: (v: string) => Number(v),
  [TYPE_OIDS.numeric]: (v: string) => Number(v),
  [TYPE_OIDS.date]: (v: string) => v,
};

function wrapResult<R extends object>(r: { rows: R[]; affectedRows?: number }): QueryResult<R> {
  // PGlite reports 0 affected rows for SELECT; pg reports the rows returned.
  return { rows: r.rows, rowCount: Math.max(r.affectedRows ?? 0, r.rows.length) };
}

export async function openEmbedded(options: EmbeddedOptions = {}): Promise<Db> {
  const progress = options.onProgress ?? (() => {});
  if (options.dataDir) fs.mkdirSync(options.dataDir, { recursive: true });
  const started = Date.now();
  progress(`opening embedded PostgreSQL${options.dataDir ? ` in ${options.dataDir}` : ' in memory'} …`);
  const ticker = setInterval(() => progress(`still loading PostGIS (WASM) … ${Math.round((Date.now() - started) / 1000)} s`), 3000);
  ticker.unref();
  let pg: PGlite;
  try {
    pg = await PGlite.create({ dataDir: options.dataDir, extensions: { postgis: await postgisExtension() }, parsers });
    progress(`embedded PostgreSQL open after ${Date.now() - started} ms; loading PostGIS …`);
    await pg.exec('CREATE EXTENSION IF NOT EXISTS postgis');
    // The same planner settings as the server backend. PGlite is one process without
    // parallel workers or JIT, so the usual ones change nothing here; set them anyway
    // so both backends answer SHOW alike.
    for (const [name, value] of options.plannerSettings ?? []) await pg.query('SELECT set_config($1, $2, false)', [name, value]);
  } finally {
    clearInterval(ticker);
  }
  progress(`PostGIS ready after ${Date.now() - started} ms`);

  // PGlite has one connection and cannot cancel a running statement (nor enforce
  // statement_timeout). What it can do is decide, when a statement's turn on the
  // connection comes, whether to start it at all: not for a client that has gone,
  // and not after its request's deadline (server/db/deadline.ts). So an abandoned
  // or overdue request stops at its next statement instead of queueing every
  // remaining one in front of everybody else. PGlite serialises statements
  // itself, but checking when they are called would miss the time spent waiting:
  // this queue hands out the connection, and the checks run when a statement gets it.
  const timeouts = options.statementTimeouts ?? {};
  const turn = serialQueue();
  const startable = (opts?: QueryOptions) => {
    const signal = opts?.signal ?? opts?.scope?.signal;
    // A request's deadline is read when the statement's turn comes: a computation shared
    // by several requests (catalog/shared-work.ts) moves it on as later ones join. One
    // outside any request counts from the call.
    const called = opts?.scope ? undefined : deadlineOf(timeouts, opts);
    return () => {
      throwIfGone(signal);
      throwIfPast(opts?.scope ? deadlineOf(timeouts, opts) : called);
    };
  };
  const query = async <R extends object>(sql: string, params?: unknown[], opts?: QueryOptions) => {
    const check = startable(opts);
    return turn(async () => {
      check();
      return wrapResult(await pg.query<R>(sql, params as unknown[]));
    });
  };

  return {
    backend: 'embedded',
    query,
    async exec(sql) {
      const check = startable();
      await turn(async () => {
        check();
        await pg.exec(sql);
      });
    },
    async tx(fn, opts) {
      const check = startable(opts);
      // Decided once, at BEGIN: a transaction that started in time runs to its end
      // (its statements go through `t`, not the queue, which it holds meanwhile).
      return turn(async () => {
        check();
        return pg.transaction(async (t) => {
          const q: Queryable = {
            query: async <R extends object>(sql: string, params?: unknown[]) =>
              wrapResult(await t.query<R>(sql, params as unknown[])),
            exec: async (sql: string) => {
              await t.exec(sql);
            },
          };
          openJournal(q, opts?.scope?.written);
          const result = await fn(q);
          await settleJournal(q); // the data version and what carries it, before COMMIT
          return result;
        });
      });
    },
    async listen(channel, onPayload) {
      const unsub = await pg.listen(channel, (payload) => onPayload(payload));
      return async () => unsub();
    },
    async close() {
      await pg.close();
    },
  };
}

/**
 * Runs tasks one at a time in call order: `turn(task)` starts `task` once every
 * task queued before it has settled, whether it resolved or threw.
 */
function serialQueue() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(task);
    tail = run.catch(() => {});
    return run;
  };
}
