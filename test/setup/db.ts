/**
 * `testDb()` gives a test file the seeded database on the backend of the
 * current vitest project (embedded or postgres), as if it were its own: the test
 * worker's one database, put back to the seeded state (test/setup/shared-db.ts).
 * On postgres that is a copy made by TEMPLATE when the worker first asks; a copy
 * per file cost a CREATE DATABASE, a DROP DATABASE with its checkpoint, and
 * connections that build every catalogue cache anew (docs/testing.md, Timings).
 *
 * `openTestDb()` always makes a separate copy and says where it is, for tests
 * that reopen it or need two databases at once; `copyTestDb()` makes one without
 * opening it, for a server or command-line process.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { openEmbedded } from '../../server/db/embedded.ts';
import { openPostgres } from '../../server/db/postgres.ts';
import type { BackendKind, Db } from '../../server/db/types.ts';
import { borrowSharedDb } from './shared-db.ts';
import type { SeedReady } from './seed-template.ts';
import { withDatabase } from './global-db.ts';

export const backend = (process.env.TEST_BACKEND ?? 'embedded') as BackendKind;

export interface TestCopy {
  /** Directory (embedded) or connection URL (postgres) of the copy, for reopenTestDb. */
  location: string;
  /** Points a server or command-line process at the copy: `DATA_DIR` or `DATABASE_URL`. */
  env: Record<string, string>;
}

export interface TestDb extends TestCopy {
  db: Db;
}

let ready: Promise<SeedReady> | undefined;

/**
 * Waits until the seeded database of this run is complete: the global setup makes it in a
 * process of its own while the first test files run (test/setup/global-db.ts).
 */
export function seeded(): Promise<SeedReady> {
  ready ??= (async () => {
    const file = inject('seedReadyFile');
    while (!fs.existsSync(file)) await new Promise((r) => setTimeout(r, 50));
    const answer = JSON.parse(fs.readFileSync(file, 'utf8')) as SeedReady | { error: string };
    if ('error' in answer) throw new Error(answer.error);
    return answer;
  })();
  return ready;
}

/** The seeded database for one test file; close it in afterAll. */
export async function testDb(): Promise<Db> {
  // vitest.config.ts runs the database projects with `isolate: false` (a worker outlives a file)
  // unless TEST_SHARED_DB=0.
  if (process.env.TEST_SHARED_DB !== '0') {
    // The worker's database outlives the file: not dropped when the file ends, but by the run's teardown.
    // Eight connections: one file after another builds apps on it, each holding one for its LISTEN while open.
    const lent = await borrowSharedDb(async () => reopenTestDb((await copyTestDb({ keep: true })).location, { max: 8 }));
    if (lent) return lent;
  }
  return (await openTestDb()).db;
}

/**
 * A copy of the seeded database, not opened here: for a server or CLI process
 * (`env`), or to open later with settings of its own. Opening the embedded
 * database costs seconds, so a test that only hands the copy on skips it.
 * A postgres copy is dropped when the test file ends, unless `keep` (the worker's
 * own, which the run's teardown drops).
 */
export async function copyTestDb(options: { keep?: boolean } = {}): Promise<TestCopy> {
  await seeded();
  const id = randomBytes(4).toString('hex');
  if (backend === 'embedded') {
    // DATA_DIR holds the embedded database in pgdata/.
    const dataDir = path.join(inject('scratchDir'), `db-${id}`);
    const location = path.join(dataDir, 'pgdata');
    fs.cpSync(inject('templateDir'), location, { recursive: true });
    return { location, env: { DATA_DIR: dataDir } };
  }
  const templateUrl = inject('templateDbUrl');
  const template = new URL(templateUrl).pathname.slice(1);
  const runId = template.replace(/^onemap_tpl_/, '');
  const name = `onemap_t_${runId}_${id}`;
  const admin = new pg.Client({ connectionString: withDatabase(templateUrl, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE ${pg.escapeIdentifier(template)}`);
  } finally {
    await admin.end();
  }
  const location = withDatabase(templateUrl, name);
  if (!options.keep) copiesOfThisFile.push(name);
  return { location, env: { DATABASE_URL: location } };
}

/** The postgres copies the running file made, dropped once it is done (test/setup/after-file.ts). */
const copiesOfThisFile: string[] = [];

/**
 * Drops the postgres copies of the file that just ended, those no longer in use (a drop
 * of one still in use fails, and the global setup's teardown drops it). Over a hundred
 * copies dropped at the end of a run took tens of seconds after the last test, each drop
 * forcing a checkpoint; dropped as each file ends, they overlap the files still running.
 */
export async function dropCopiesOfThisFile(): Promise<void> {
  const names = copiesOfThisFile.splice(0);
  if (backend !== 'postgres' || names.length === 0) return;
  const admin = new pg.Client({ connectionString: withDatabase(inject('templateDbUrl'), 'postgres') });
  admin.on('error', () => {});
  try {
    await admin.connect();
    for (const name of names) await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)}`).catch(() => {});
  } catch {
    // the teardown drops what is left
  } finally {
    await admin.end().catch(() => {});
  }
}

/** A separate, open copy of the seeded database, with where it is. */
export async function openTestDb(): Promise<TestDb> {
  const copy = await copyTestDb();
  return { db: await reopenTestDb(copy.location), ...copy };
}

/** Opens a copy made by copyTestDb or openTestDb again (to test persistence across a restart). */
export async function reopenTestDb(location: string, { max = 4 }: { max?: number } = {}): Promise<Db> {
  return backend === 'embedded'
    ? openEmbedded({ dataDir: location })
    : openPostgres({ connectionString: location, max });
}
