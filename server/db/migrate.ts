import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from './types.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../sql/migrations/', import.meta.url));

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Reads `sql/migrations/NNN_name.sql` in numeric order; the same files serve both backends. */
export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const files = fs.readdirSync(dir).filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f)).sort();
  return files.map((file) => ({
    version: Number(file.slice(0, 3)),
    name: file.replace(/\.sql$/, ''),
    sql: fs.readFileSync(path.join(dir, file), 'utf8'),
  }));
}

/**
 * Applies every migration not yet recorded in `schema_migrations`, each in its
 * own transaction together with its record, so a failed file leaves nothing
 * half-applied. Returns the migration level afterwards.
 */
export async function migrate(db: Db, log: (m: string) => void = () => {}, dir = MIGRATIONS_DIR): Promise<number> {
  await db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
  const done = new Set(
    (await db.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version),
  );
  for (const m of readMigrations(dir)) {
    if (done.has(m.version)) continue;
    log(`applying migration ${m.name}`);
    await db.tx(async (q) => {
      await q.exec(m.sql);
      await q.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
    });
  }
  return migrationLevel(db);
}

export async function migrationLevel(db: Db): Promise<number> {
  const r = await db.query<{ level: number | null }>('SELECT max(version)::int AS level FROM schema_migrations');
  return r.rows[0]?.level ?? 0;
}
