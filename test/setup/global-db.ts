/**
 * Prepares one seeded database per test run and backend: migrations applied and
 * demo data loaded once (the embedded PostGIS takes seconds to load), then every
 * test file opens its own copy (test/setup/db.ts), so writes never leak between files.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openEmbedded } from '../../server/db/embedded.ts';
import { openPostgres } from '../../server/db/postgres.ts';
import { prepareDatabase } from '../../server/db/prepare.ts';
import { createKey } from '../../server/auth/keys.ts';
import type { Db } from '../../server/db/types.ts';

export const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDir: string;
    templateDbUrl: string;
    scratchDir: string;
    /** An editor key stored in the seeded database, for servers the browser suites start on a copy. */
    browserEditorKey: string;
  }
}

export default async function setup(project: TestProject) {
  const backend = project.name;
  const runId = `${process.pid}_${Date.now().toString(36)}`;
  const scratchDir = fs.mkdtempSync(path.join(os.tmpdir(), `onemap-test-${backend}-`));
  project.provide('scratchDir', scratchDir);

  if (backend === 'embedded') {
    const templateDir = path.join(scratchDir, 'template');
    const db = await openEmbedded({ dataDir: templateDir });
    await prepareDatabase(db, { demoData: true });
    project.provide('browserEditorKey', await browserKey(db));
    await db.close();
    project.provide('templateDir', templateDir);
    project.provide('templateDbUrl', '');
    return async () => fs.rmSync(scratchDir, { recursive: true, force: true });
  }

  const adminUrl = process.env.TEST_DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  // Drop what an interrupted earlier run left behind — only databases of runs
  // whose process is gone, so parallel test runs on one server leave each other alone.
  const stale = await admin.query(`SELECT datname FROM pg_database WHERE datname ~ '^onemap_t(pl)?_[0-9]+_'`);
  for (const r of stale.rows) {
    const pid = Number(/^onemap_t(?:pl)?_(\d+)_/.exec(r.datname)![1]);
    if (!processAlive(pid)) await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(r.datname)} WITH (FORCE)`).catch(() => {});
  }
  const templateName = `onemap_tpl_${runId}`;
  await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(templateName)}`);
  const templateUrl = withDatabase(adminUrl, templateName);
  const db = await openPostgres({ connectionString: templateUrl, max: 2 });
  await prepareDatabase(db, { demoData: true });
  project.provide('browserEditorKey', await browserKey(db));
  await db.close();
  await admin.end();
  project.provide('templateDir', '');
  project.provide('templateDbUrl', templateUrl);

  return async () => {
    // One DROP per copy, a hundred or so per run: four at a time rather than one after another.
    const pool = new pg.Pool({ connectionString: adminUrl, max: 4 });
    const mine = await pool.query(`SELECT datname FROM pg_database WHERE datname LIKE $1 OR datname = $2`, [`onemap_t_${runId}%`, templateName]);
    await Promise.all(mine.rows.map((r) => pool.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(r.datname)} WITH (FORCE)`).catch(() => {})));
    await pool.end();
    fs.rmSync(scratchDir, { recursive: true, force: true });
  };
}

/**
 * The browser suites' server needs an editor key in its copy of the database. Made here,
 * where the template is open anyway: made per suite, it cost an extra open of the embedded
 * database in the test worker (seconds of CPU) before the server process opened it again.
 */
async function browserKey(db: Db): Promise<string> {
  return (await createKey(db, { name: 'browser test', role: 'editor' })).key;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
