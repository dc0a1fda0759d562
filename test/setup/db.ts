/**
 * `testDb()` gives a test file the seeded database on the backend of the
 * current vitest project (embedded or postgres), as if it were its own: on
 * postgres a copy made by TEMPLATE (cheap), on the embedded backend the test
 * worker's one database, put back to the seeded state (test/setup/shared-db.ts).
 *
 * `openTestDb()` always makes a separate copy and says where it is, for tests
 * that reopen it, hand it to a server process, or need two databases at once.
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

export const backend = (process.env.TEST_BACKEND ?? 'embedded') as BackendKind;

export interface TestDb {
  db: Db;
  /** Directory (embedded) or connection URL (postgres) of this copy, to reopen it. */
  location: string;
}

/** The seeded database for one test file; close it in afterAll. */
export async function testDb(): Promise<Db> {
  // vitest.config.ts turns sharing on together with `isolate: false` (a worker outlives a file).
  if (backend === 'embedded' && process.env.TEST_SHARED_DB === '1') {
    const lent = await borrowSharedDb(async () => (await openTestDb()).db);
    if (lent) return lent;
  }
  return (await openTestDb()).db;
}

export async function openTestDb(): Promise<TestDb> {
  const id = randomBytes(4).toString('hex');
  if (backend === 'embedded') {
    const dir = path.join(inject('scratchDir'), `db-${id}`);
    fs.cpSync(inject('templateDir'), dir, { recursive: true });
    return { db: await openEmbedded({ dataDir: dir }), location: dir };
  }
  const templateUrl = inject('templateDbUrl');
  const template = new URL(templateUrl).pathname.slice(1);
  const runId = template.replace(/^onemap_tpl_/, '');
  const name = `onemap_t_${runId}_${id}`;
  const admin = new pg.Client({ connectionString: templateUrl.replace(/\/[^/]*$/, '/postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE ${pg.escapeIdentifier(template)}`);
  } finally {
    await admin.end();
  }
  const url = templateUrl.replace(/\/[^/]*$/, `/${name}`);
  return { db: await openPostgres({ connectionString: url, max: 4 }), location: url };
}

/** Reopens a copy made by openTestDb (to test persistence across a restart). */
export async function reopenTestDb(location: string): Promise<Db> {
  return backend === 'embedded'
    ? openEmbedded({ dataDir: location })
    : openPostgres({ connectionString: location, max: 4 });
}
