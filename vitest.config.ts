import fs from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { defineConfig } from 'vitest/config';
import { SERVER_WORKER } from './server/build.ts';
import SlowFirst from './test/setup/sequencer.ts';

// The whole suite runs twice: once on the embedded backend (PGlite + PostGIS in
// WASM, the default of `npm start`) and once on a real PostgreSQL/PostGIS server.
// Tests that do not touch a database run once, in the `unit` project: test/unit/
// and the pure suites that sit beside the database tests of their area.
const dbTests = ['test/**/*.test.ts'];
const sharedDb = process.env.TEST_SHARED_DB !== '0';
// The analysis worker threads of the apps the database projects build in-process load the
// server bundle's worker module (server/work/pool.ts), which their global setup builds.
const bundledWorker = { ONEMAP_WORKER_MODULE: pathToFileURL(SERVER_WORKER).href };
const unitTests = [
  'test/unit/**/*.test.ts',
  'test/analysis/allocation.test.ts',
  'test/browser/client-route.test.ts',
  'test/data/generate.test.ts',
  'test/maps/units.test.ts',
  'test/risk/rules.test.ts',
];

// Browser suites drive the real server in Chromium and take minutes each, while the
// server code under them is tested on both backends by the API tests. So each browser
// file runs on one backend: the embedded one (the default of `npm start`) unless listed
// here. Live updates across pages and server restarts run on PostgreSQL, where changes
// travel through LISTEN/NOTIFY.
type Backend = 'embedded' | 'postgres';
const browserOn: Record<string, Backend | 'both'> = {
  'test/browser/edit-import.test.ts': 'postgres',
  'test/browser/replica-client.test.ts': 'postgres',
  'test/browser/wall.test.ts': 'postgres',
};
const browserTests = fs
  .readdirSync(fileURLToPath(new URL('./test/browser/', import.meta.url)))
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => `test/browser/${f}`)
  .filter((f) => !unitTests.includes(f));
/** Files a database project leaves out: the pure suites, and browser suites meant for the other backend. */
const notOn = (backend: Backend) => [...unitTests, ...browserTests.filter((f) => ![backend, 'both'].includes(browserOn[f] ?? 'embedded'))];

export default defineConfig({
  test: {
    // Vitest's default is one worker per core less one: a single worker on the 2-core
    // machines this runs on. Most test time is spent waiting on a database, a server
    // process or Chromium, so three files at a time keep two cores busy.
    maxWorkers: 3,
    // Long files first, so none starts near the end (test/setup/sequencer.ts).
    sequence: { sequencer: SlowFirst },
    testTimeout: 60_000,
    hookTimeout: 180_000,
    projects: [
      // No database and no per-file state: one module graph per worker, not one per file.
      { extends: true, test: { name: 'unit', include: unitTests, isolate: false } },
      {
        extends: true,
        test: {
          name: 'embedded',
          include: dbTests,
          exclude: notOn('embedded'),
          // One embedded database per worker, lent to one file at a time and reset
          // between files (test/setup/shared-db.ts), so the worker must outlive a file.
          // TEST_SHARED_DB=0: every file opens its own copy, in a fresh worker.
          ...(sharedDb ? { isolate: false } : {}),
          env: { TEST_BACKEND: 'embedded', ...bundledWorker },
          globalSetup: ['test/setup/global-db.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: dbTests,
          exclude: notOn('postgres'),
          // As on the embedded project: one database per worker, lent to one file at a time
          // and reset between files, and the server modules imported once per worker.
          // Copies a file makes for itself (a server process's, a second database) are
          // dropped when it ends (test/setup/after-file.ts). TEST_SHARED_DB=0: a fresh
          // worker and a database of its own per file.
          ...(sharedDb ? { isolate: false } : {}),
          env: { TEST_BACKEND: 'postgres', ...bundledWorker },
          globalSetup: ['test/setup/global-db.ts'],
          setupFiles: ['test/setup/after-file.ts'],
        },
      },
    ],
  },
});
