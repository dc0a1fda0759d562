import path from 'node:path';
import type { Config } from '../config.ts';
import { openEmbedded } from './embedded.ts';
import { openPostgres, type PostgresOptions } from './postgres.ts';
import { withReadReplica } from './replica.ts';
import type { Db } from './types.ts';

/**
 * Opens the backend the configuration asks for: DATABASE_URL set = real PostgreSQL, else embedded;
 * with DATABASE_READ_URL, a streaming replica as its read side (a replica that is down does not stop the open).
 */
export async function openDb(
  config: Pick<Config, 'DATABASE_URL' | 'dataDir' | 'PG_POOL_SIZE' | 'STATEMENT_TIMEOUT_TILES_MS' | 'STATEMENT_TIMEOUT_ITEMS_MS' | 'STATEMENT_TIMEOUT_ANALYSES_MS' | 'STATEMENT_TIMEOUT_IMPORTS_MS'> &
    Partial<Pick<Config, 'PG_PLANNER_SETTINGS' | 'PG_PREPARED_STATEMENTS' | 'DATABASE_READ_URL' | 'DATABASE_READ_MAX_WAIT_MS'>>,
  log: (m: string) => void,
): Promise<Db> {
  // PostgreSQL's statement_timeout per kind; on the embedded backend, a deadline per request.
  const statementTimeouts = {
    tiles: config.STATEMENT_TIMEOUT_TILES_MS,
    items: config.STATEMENT_TIMEOUT_ITEMS_MS,
    analyses: config.STATEMENT_TIMEOUT_ANALYSES_MS,
    imports: config.STATEMENT_TIMEOUT_IMPORTS_MS,
  };
  if (config.DATABASE_URL) {
    log(`database: PostgreSQL at ${redact(config.DATABASE_URL)}`);
    const common: Omit<PostgresOptions, 'connectionString'> = {
      max: config.PG_POOL_SIZE,
      plannerSettings: config.PG_PLANNER_SETTINGS,
      preparedStatements: config.PG_PREPARED_STATEMENTS,
      statementTimeouts,
    };
    const primary = await openPostgres({
      ...common,
      connectionString: config.DATABASE_URL,
      onListenLost: (channel, err) => log(`live updates paused: the LISTEN connection for ${channel} dropped (${err.message}); reconnecting`),
      onListenRestored: (channel) => log(`live updates resumed on ${channel}; caches of every layer dropped, as changes may have been missed`),
    });
    if (!config.DATABASE_READ_URL) return primary;
    const replica = await openPostgres({ ...common, connectionString: config.DATABASE_READ_URL, probe: false, connectionTimeoutMillis: 2000 });
    const db = await withReadReplica(primary, replica, { maxWaitMs: config.DATABASE_READ_MAX_WAIT_MS ?? 200, log });
    log(`read replica: PostgreSQL at ${redact(config.DATABASE_READ_URL)} (${db.read!.status().up ? 'up' : 'down'})`);
    return db;
  }
  log('database: embedded PostgreSQL + PostGIS (PGlite)');
  return openEmbedded({ dataDir: path.join(config.dataDir, 'pgdata'), onProgress: log, plannerSettings: config.PG_PLANNER_SETTINGS, statementTimeouts });
}

/** Hides a password in a connection URL before it reaches a log. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://…';
  }
}
