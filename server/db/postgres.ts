import pg from 'pg';
import type { Db, Queryable, QueryResult, Row } from './types.ts';
import { TYPE_OIDS } from './types.ts';

export interface PostgresOptions {
  connectionString: string;
  /** Pool size; the tile engine and analyses run in parallel. */
  max?: number;
  /** Fail fast at start-up when the server is unreachable. */
  connectionTimeoutMillis?: number;
  /** Told when a LISTEN connection dropped (changes may be missed until it is back). */
  onListenLost?: (channel: string, err: Error) => void;
  onListenRestored?: (channel: string) => void;
  /** Planner settings (name, value) for every connection of the pool, e.g. max_parallel_workers_per_gather=0. */
  plannerSettings?: readonly (readonly [string, string])[];
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
  const probe = await pool.connect();
  probe.release();

  const listeners: pg.PoolClient[] = [];
  return {
    backend: 'postgres',
    query: async <R extends object>(sql: string, params?: unknown[]) => wrap<R>(await pool.query(sql, params)),
    async exec(sql) {
      await pool.query(sql);
    },
    async tx(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const q: Queryable = {
          query: async <R extends object>(sql: string, params?: unknown[]) => wrap<R>(await client.query(sql, params)),
          exec: async (sql: string) => {
            await client.query(sql);
          },
        };
        const result = await fn(q);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    async listen(channel, onPayload, onGap) {
      // A dedicated connection per channel. If it drops (server restart, network),
      // the error must not crash the process: reconnect with backoff and LISTEN again.
      let client: pg.PoolClient | null = null;
      let stopped = false;
      let delay = 500;
      const connect = async (): Promise<void> => {
        const c = await pool.connect();
        c.on('notification', (n) => {
          if (n.channel === channel) onPayload(n.payload ?? '');
        });
        c.on('error', (err) => {
          if (client !== c) return;
          client = null;
          listeners.splice(listeners.indexOf(c), 1);
          c.release(err);
          options.onListenLost?.(channel, err);
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
        await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
        client = c;
        listeners.push(c);
      };
      await connect();
      return async () => {
        stopped = true;
        const c = client;
        client = null;
        if (!c) return;
        await c.query(`UNLISTEN ${pg.escapeIdentifier(channel)}`).catch(() => {});
        listeners.splice(listeners.indexOf(c), 1);
        c.release();
      };
    },
    async close() {
      for (const c of listeners.splice(0)) c.release();
      await pool.end();
    },
  };
}
