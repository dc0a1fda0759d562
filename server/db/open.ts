import path from 'node:path';
import type { Config } from '../config.ts';
import { openEmbedded } from './embedded.ts';
import { openPostgres } from './postgres.ts';
import type { Db } from './types.ts';

/** Opens the backend the configuration asks for: DATABASE_URL set = real PostgreSQL, else embedded. */
export async function openDb(
  config: Pick<Config, 'DATABASE_URL' | 'dataDir' | 'PG_POOL_SIZE' | 'STATEMENT_TIMEOUT_TILES_MS' | 'STATEMENT_TIMEOUT_ITEMS_MS' | 'STATEMENT_TIMEOUT_ANALYSES_MS' | 'STATEMENT_TIMEOUT_IMPORTS_MS'> &
    Partial<Pick<Config, 'PG_PLANNER_SETTINGS'>>,
  log: (m: string) => void,
): Promise<Db> {
  if (config.DATABASE_URL) {
    log(`database: PostgreSQL at ${redact(config.DATABASE_URL)}`);
    return openPostgres({
      connectionString: config.DATABASE_URL,
      max: config.PG_POOL_SIZE,
      plannerSettings: config.PG_PLANNER_SETTINGS,
      statementTimeouts: {
        tiles: config.STATEMENT_TIMEOUT_TILES_MS,
        items: config.STATEMENT_TIMEOUT_ITEMS_MS,
        analyses: config.STATEMENT_TIMEOUT_ANALYSES_MS,
        imports: config.STATEMENT_TIMEOUT_IMPORTS_MS,
      },
      onListenLost: (channel, err) => log(`live updates paused: the LISTEN connection for ${channel} dropped (${err.message}); reconnecting`),
      onListenRestored: (channel) => log(`live updates resumed on ${channel}; caches of every layer dropped, as changes may have been missed`),
    });
  }
  log('database: embedded PostgreSQL + PostGIS (PGlite)');
  return openEmbedded({ dataDir: path.join(config.dataDir, 'pgdata'), onProgress: log, plannerSettings: config.PG_PLANNER_SETTINGS });
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
