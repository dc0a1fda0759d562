/**
 * Prepares one seeded database per test run and backend: migrations applied and
 * demo data loaded once, then copied: one copy per test worker, put back to the
 * seeded state between the files it serves, and a copy of its own for a file that
 * asks (test/setup/db.ts), so writes never leak between files.
 *
 * The seeding runs in a process of its own (test/setup/seed-template.ts) that this
 * setup starts and does not wait for: making the embedded database takes tens of
 * seconds of one core, and test files that need no seeded database (the unit
 * project, and files still importing their modules) run meanwhile. Workers wait
 * for its ready file before the first copy (`seeded()` in test/setup/db.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { ensureServerBuilt } from '../../server/build.ts';
import { tsxArgs } from '../helpers/server-process.ts';

export const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDir: string;
    templateDbUrl: string;
    scratchDir: string;
    /** Written once the seeded database is complete (JSON, `SeedReady` of test/setup/seed-template.ts). */
    seedReadyFile: string;
  }
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Starts the seeding process. Its ready file appears when it succeeds; when it fails,
 * the file says why, so waiting workers fail at once rather than at their timeout.
 */
function seed(backend: string, target: string, readyFile: string): { done: Promise<void>; child: ChildProcess } {
  const child = spawn(process.execPath, tsxArgs('test/setup/seed-template.ts', [backend, target, readyFile]), {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<void>((resolve) => {
    child.on('close', (code, signal) => {
      if (!fs.existsSync(readyFile)) {
        const error = `seeding the ${backend} test database failed (exit ${code ?? signal}):\n${stderr}`;
        console.error(error);
        fs.writeFileSync(readyFile, JSON.stringify({ error }));
      }
      resolve();
    });
  });
  return { done, child };
}

export default async function setup(project: TestProject) {
  const backend = project.name;
  // The server bundle the tests' server processes run (test/helpers/server-process.ts), built
  // here once while the seeding starts rather than by the first workers to start a server.
  const building = ensureServerBuilt();
  const runId = `${process.pid}_${Date.now().toString(36)}`;
  const scratchDir = fs.mkdtempSync(path.join(os.tmpdir(), `onemap-test-${backend}-`));
  project.provide('scratchDir', scratchDir);

  const readyFile = path.join(scratchDir, 'seeded.json');
  project.provide('seedReadyFile', readyFile);

  if (backend === 'embedded') {
    const templateDir = path.join(scratchDir, 'template');
    const seeding = seed(backend, templateDir, readyFile);
    project.provide('templateDir', templateDir);
    project.provide('templateDbUrl', '');
    await building;
    return async () => {
      await stop(seeding);
      fs.rmSync(scratchDir, { recursive: true, force: true });
    };
  }

  const adminUrl = process.env.TEST_DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  // Drop what an interrupted earlier run left behind (its databases and seeded throwaway cluster), only of runs
  // whose process is gone, so parallel test runs on one server leave each other alone.
  const stale = await admin.query(`SELECT datname FROM pg_database WHERE datname ~ '^onemap_t(pl)?_[0-9]+_'`);
  for (const r of stale.rows) {
    const pid = Number(/^onemap_t(?:pl)?_(\d+)_/.exec(r.datname)![1]);
    if (processAlive(pid)) continue;
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(r.datname)} WITH (FORCE)`).catch(() => {});
    if (r.datname.startsWith('onemap_tpl_')) fs.rmSync(seededClusterDir(withDatabase(adminUrl, r.datname)), { recursive: true, force: true });
  }
  const templateName = `onemap_tpl_${runId}`;
  await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(templateName)}`);
  await admin.end();
  const templateUrl = withDatabase(adminUrl, templateName);
  const seeding = seed(backend, templateUrl, readyFile);
  project.provide('templateDir', '');
  project.provide('templateDbUrl', templateUrl);
  await building;

  return async () => {
    await stop(seeding);
    // One DROP per copy, a hundred or so per run: four at a time rather than one after another.
    const pool = new pg.Pool({ connectionString: adminUrl, max: 4 });
    const mine = await pool.query(`SELECT datname FROM pg_database WHERE datname LIKE $1 OR datname = $2`, [`onemap_t_${runId}%`, templateName]);
    await Promise.all(mine.rows.map((r) => pool.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(r.datname)} WITH (FORCE)`).catch(() => {})));
    await pool.end();
    fs.rmSync(scratchDir, { recursive: true, force: true });
    fs.rmSync(seededClusterDir(templateUrl), { recursive: true, force: true });
  };
}

/** Ends a seeding still running (a run cut short) and waits for it to be gone. */
async function stop(seeding: ReturnType<typeof seed>): Promise<void> {
  if (seeding.child.exitCode === null && seeding.child.signalCode === null) seeding.child.kill('SIGKILL');
  await seeding.done;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Where the run whose seeded database is `templateDbUrl` keeps its seeded throwaway
 * cluster (test/helpers/throwaway-pg.ts): outside the scratch directory, which the
 * postgres user may not enter.
 */
export function seededClusterDir(templateDbUrl: string): string {
  return path.join(os.tmpdir(), `onemap-pg-template-${new URL(templateDbUrl).pathname.slice(1)}`);
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
