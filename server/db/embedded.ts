import fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { Db, Queryable, QueryOptions, QueryResult, Row } from './types.ts';
import { throwIfGone, currentScope } from '../http/request-scope.ts';
import { TYPE_OIDS } from './types.ts';
import { postgisExtension } from './postgis-bundle.ts';
import { openJournal, settleJournal } from './data-version.ts';

export interface EmbeddedOptions {
  /** Directory holding the database files; created when missing. `undefined` = in memory. */
  dataDir?: string;
  /** Called with short progress messages while the WASM PostGIS loads (it takes seconds cold). */
  onProgress?: (message: string) => void;
  /** Planner settings (name, value) for the session; see postgres.ts. */
  plannerSettings?: readonly (readonly [string, string])[];
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
  // statement_timeout). What it can do: start no statement for a client that has
  // gone, so an abandoned request stops at its next query instead of queueing
  // every remaining one in front of everybody else.
  const query = async <R extends object>(sql: string, params?: unknown[], opts?: QueryOptions) => {
    throwIfGone(opts?.signal ?? currentScope()?.signal);
    return wrapResult(await pg.query<R>(sql, params as unknown[]));
  };

  return {
    backend: 'embedded',
    query,
    async exec(sql) {
      await pg.exec(sql);
    },
    async tx(fn, opts) {
      throwIfGone(opts?.signal ?? currentScope()?.signal);
      // PGlite has one connection; its transaction() holds it exclusively, so
      // concurrent callers queue instead of interleaving statements.
      return pg.transaction(async (t) => {
        const q: Queryable = {
          query: async <R extends object>(sql: string, params?: unknown[]) =>
            wrapResult(await t.query<R>(sql, params as unknown[])),
          exec: async (sql: string) => {
            await t.exec(sql);
          },
        };
        openJournal(q);
        const result = await fn(q);
        await settleJournal(q); // the data version and what carries it, before COMMIT
        return result;
      });
    },
    async listen(channel, onPayload) {
      const unsub = await pg.listen(channel, onPayload);
      return async () => unsub();
    },
    async close() {
      await pg.close();
    },
  };
}
