import pg from 'pg';
import { openEmbedded } from '../server/db/embedded.ts';
import { openPostgres } from '../server/db/postgres.ts';
import { prepareDatabase } from '../server/db/prepare.ts';
import type { Db } from '../server/db/types.ts';

/**
 * A seeded database for a bench: embedded in memory, or — with DATABASE_URL —
 * a fresh database created next to the one named (onemap_bench_<pid>) and
 * dropped afterwards, so a bench never writes into yours.
 */
export async function openBenchDb(): Promise<{ db: Db; cleanup: () => Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    const db = await openEmbedded();
    await prepareDatabase(db, { demoData: true });
    return { db, cleanup: () => db.close() };
  }
  const name = `onemap_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  const u = new URL(url);
  u.pathname = `/${name}`;
  const db = await openPostgres({ connectionString: u.toString(), max: 4 });
  await prepareDatabase(db, { demoData: true });
  return {
    db,
    cleanup: async () => {
      await db.close();
      await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      await admin.end();
    },
  };
}
