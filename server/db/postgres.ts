import pg from 'pg';
import type { Db, Queryable, QueryOptions, QueryResult, Row, StatementTimeouts } from './types.ts';
import { statementLimitMs, TYPE_OIDS } from './types.ts';
import { isConnectionError } from './errors.ts';
import { ClientGoneError } from '../../catalog/shared-work.ts';
import { openJournal, settleJournal } from './data-version.ts';

export interface PostgresOptions {
  connectionString: string;
  /** Pool size; the tile engine and analyses run in parallel. */
  max?: number;
  /** Fail fast at start-up when the server is unreachable. */
  connectionTimeoutMillis?: number;
  /** Connect once before returning, so an unreachable server fails the open (default true; a read replica may be down). */
  probe?: boolean;
  /** Told when a LISTEN connection dropped (changes may be missed until it is back). */
  onListenLost?: (channel: string, err: Error) => void;
  onListenRestored?: (channel: string) => void;
  /** Planner settings (name, value) for every connection of the pool, e.g. max_parallel_workers_per_gather=0. */
  plannerSettings?: readonly (readonly [string, string])[];
  /** statement_timeout per kind of work, ms (0 or missing = none). */
  statementTimeouts?: StatementTimeouts;
  /**
   * Whether a query asking for it (`prepare`) is kept as a named prepared statement on its
   * connection (default true). Off behind a pooler that cannot hold them across transactions
   * (pgbouncer in transaction mode before 1.21): PG_PREPARED_STATEMENTS=false.
   */
  preparedStatements?: boolean;
}

/**
 * Planner settings as the connection's startup `options` (`-c name=value`), so
 * they hold from the first statement at no cost per query. Names and values
 * are checked by the config schema; PostgreSQL refuses unknown names at connect.
 */
export function plannerOptions(settings: readonly (readonly [string, string])[] = []): string | undefined {
  return settings.length ? settings.map(([name, value]) => `-c ${name}=${value}`).join(' ') : undefined;
}

// Per-pool type parsing (not the global registry) so the two backends agree.
const typeOverrides: Record<number, (v: string) => unknown> = {
  [TYPE_OIDS.int8]: (v) => Number(v),
  [TYPE_OIDS.numeric]: (v) => Number(v),
  [TYPE_OIDS.date]: (v) => v,
};
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    return typeOverrides[oid] ?? pg.types.getTypeParser(oid, format as 'text');
  },
};

function wrap<R extends object>(r: pg.QueryResult): QueryResult<R> {
  return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length };
}

export async function openPostgres(options: PostgresOptions): Promise<Db> {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5000,
    types: types as pg.CustomTypesConfig,
    options: plannerOptions(options.plannerSettings),
  });
  // An idle client dying (server restart) must not crash the process.
  pool.on('error', () => {});
  // Prove the server is reachable before the app says it is up.
  if (options.probe !== false) {
    const probe = await pool.connect();
    probe.release();
  }

  const limits = requestLimits(options);
  const prepared = options.preparedStatements ?? true;
  // Stops of the open LISTENs: close() stops them, and a stop runs once however often it is called.
  const stops = new Set<() => Promise<void>>();
  return {
    backend: 'postgres',
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async query<R extends object>(sql: string, params?: unknown[], opts?: QueryOptions) {
      const { timeoutMs, signal } = limits(opts);
      return withClient(pool, signal, async (client) => {
        await setTimeoutOf(client, timeoutMs);
        // Without a name node-pg sends the text with every call, as for any query.
        const name = opts?.prepare && prepared ? statementName(sql) : undefined;
        return wrap<R>(await client.query({ name, text: sql, values: params }));
      });
    },
    async exec(sql) {
      await pool.query(sql);
    },
    async tx(fn, opts) {
      const { timeoutMs, signal } = limits(opts);
      return withClient(pool, signal, async (client) => {
        await client.query('BEGIN');
        try {
          // LOCAL: back to the connection's own setting after COMMIT/ROLLBACK
          if (timeoutMs > 0) await client.query(`SET LOCAL statement_timeout = ${timeoutMs}`);
          const q: Queryable = {
            query: async <R extends object>(sql: string, params?: unknown[]) => wrap<R>(await client.query(sql, params)),
            exec: async (sql: string) => {
              await client.query(sql);
            },
          };
          openJournal(q, opts?.scope?.written);
          const result = await fn(q);
          // the data version and what carries it: last, so its lock is held only until COMMIT
          await settleJournal(q);
          await client.query('COMMIT');
          return result;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {});
          throw err;
        }
      });
    },
    async listen(channel, onPayload, onGap, onLost) {
      // A dedicated connection per channel. If it drops (server restart, network),
      // the error must not crash the process: reconnect with backoff and LISTEN again.
      // Each connection is released exactly once: by its error, by stop, or by close.
      let client: pg.PoolClient | null = null;
      let stopped = false;
      let delay = 500;
      const connect = async (): Promise<void> => {
        const c = await pool.connect();
        c.on('notification', (n) => {
          if (n.channel === channel) onPayload(n.payload ?? '');
        });
        c.on('error', (err) => {
          if (client !== c) return; // already released (stopped, or the LISTEN failed)
          client = null;
          c.release(err);
          if (stopped) return;
          options.onListenLost?.(channel, err);
          onLost?.();
          const retry = () => {
            if (stopped) return;
            connect().then(
              () => {
                delay = 500;
                options.onListenRestored?.(channel);
                onGap?.();
              },
              () => {
                delay = Math.min(delay * 2, 30_000);
                setTimeout(retry, delay).unref();
              },
            );
          };
          setTimeout(retry, delay).unref();
        });
        try {
          await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
        } catch (err) {
          c.release(err as Error); // not kept: a failed LISTEN must not hold a pool slot
          throw err;
        }
        if (stopped) {
          c.release(true); // stopped while reconnecting
          return;
        }
        client = c;
      };
      const stop = async () => {
        stopped = true;
        stops.delete(stop);
        const c = client;
        client = null;
        if (!c) return; // none yet: the connection being made is released once made (above)
        await c.query(`UNLISTEN ${pg.escapeIdentifier(channel)}`).catch(() => {});
        c.release(true); // closed, not pooled: its notification and error handlers go with it
      };
      // Known to close() before the first connection is made: an app starts its LISTEN
      // without waiting (server/app.ts), and a close meanwhile must stop it too, or the
      // connection, made after, stays held and the pool's end waits for it for ever.
      stops.add(stop);
      try {
        await connect();
      } catch (err) {
        stops.delete(stop);
        throw err;
      }
      return stop;
    },
    async close() {
      await Promise.all([...stops].map((stop) => stop()));
      await pool.end();
    },
  };
}

/** The statement timeout and abort signal of a query: given, or those of the request it is for (its scope). */
function requestLimits(options: PostgresOptions) {
  const timeouts = options.statementTimeouts ?? {};
  return (opts?: QueryOptions) => {
    const scope = opts?.scope;
    const kind = opts?.kind ?? scope?.kind;
    return { timeoutMs: statementLimitMs(timeouts, kind), signal: opts?.signal ?? scope?.signal };
  };
}

/**
 * The name a text is prepared under: one per distinct text in this process, the same on every
 * connection (node-pg prepares it on a connection the first time that connection runs it, and
 * then sends only the parameters). A tile statement is ~2 kB of SQL whose parsing and analysis
 * cost PostgreSQL about as much as running it on a sparse tile.
 */
const statementNames = new Map<string, string>();
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (!name) statementNames.set(sql, (name = `onemap_${statementNames.size + 1}`));
  return name;
}

// The statement_timeout each pooled connection currently has, so it is only SET when it changes.
const timeoutOf = new WeakMap<pg.PoolClient, number>();

async function setTimeoutOf(client: pg.PoolClient, ms: number): Promise<void> {
  if ((timeoutOf.get(client) ?? 0) === ms) return;
  await client.query(`SET statement_timeout = ${ms}`); // an integer we computed, not user input
  timeoutOf.set(client, ms);
}

/**
 * Runs `fn` on a pooled connection. When `signal` fires (the client went away)
 * the running statement is cancelled on the server (pg_cancel_backend) instead
 * of running on for nobody. A cancel names a backend, not a statement: sent
 * while the statement was finishing, it would land on whatever that backend
 * runs next, another caller's query. So a connection that had a cancel sent is
 * closed, not pooled, once the cancel is done. A connection that failed with a
 * connection error is destroyed too, not handed to the next request.
 */
async function withClient<T>(pool: pg.Pool, signal: AbortSignal | undefined, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  if (signal?.aborted) throw new ClientGoneError();
  const client = await pool.connect();
  let broken: Error | undefined;
  // A checked-out client whose connection dies (database restart) emits
  // 'error'; unheard, that kills the process. The statement in flight rejects
  // anyway, and release(broken) below discards the connection.
  const onLost = (err: Error) => (broken = err);
  client.on('error', onLost);
  const pid = (client as unknown as { processID?: number }).processID;
  let cancelling: Promise<void> | undefined;
  const cancel = () => {
    if (pid) cancelling = cancelBackend(pool, pid);
  };
  signal?.addEventListener('abort', cancel, { once: true });
  try {
    return await fn(client);
  } catch (err) {
    if (isConnectionError(err)) broken = err as Error;
    throw err;
  } finally {
    signal?.removeEventListener('abort', cancel);
    if (cancelling) await cancelling;
    client.off('error', onLost);
    client.release(cancelling ? true : broken);
  }
}

/** Cancels the statement running on backend `pid`, over a connection of its own (the pool may be exhausted). */
async function cancelBackend(pool: pg.Pool, pid: number): Promise<void> {
  const c = new pg.Client({ ...(pool.options as pg.ClientConfig), types: undefined });
  c.on('error', () => {});
  try {
    await c.connect();
    await c.query('SELECT pg_cancel_backend($1)', [pid]);
  } catch {
    // the statement may have finished meanwhile, or the server is gone: nothing to cancel
  } finally {
    await c.end().catch(() => {});
  }
}
