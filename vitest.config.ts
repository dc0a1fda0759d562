import { defineConfig } from 'vitest/config';

// The whole suite runs twice: once on the embedded backend (PGlite + PostGIS in
// WASM, the default of `npm start`) and once on a real PostgreSQL/PostGIS server.
// Tests that do not touch a database run once, in the `unit` project: test/unit/
// and the pure suites that sit beside the database tests of their area.
const dbTests = ['test/**/*.test.ts'];
const unitTests = [
  'test/unit/**/*.test.ts',
  'test/analysis/allocation.test.ts',
  'test/browser/client-route.test.ts',
  'test/data/generate.test.ts',
  'test/maps/units.test.ts',
  'test/risk/rules.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 180_000,
    projects: [
      { extends: true, test: { name: 'unit', include: unitTests } },
      {
        extends: true,
        test: {
          name: 'embedded',
          include: dbTests,
          exclude: unitTests,
          // TEST_SHARED_DB=1: one embedded database per worker, lent to one file at a
          // time and reset between files (test/setup/shared-db.ts); the worker must then
          // outlive a file. Off by default until a whole-project run passes with it.
          ...(process.env.TEST_SHARED_DB === '1' ? { isolate: false } : {}),
          env: { TEST_BACKEND: 'embedded' },
          globalSetup: ['test/setup/global-db.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: dbTests,
          exclude: unitTests,
          env: { TEST_BACKEND: 'postgres' },
          globalSetup: ['test/setup/global-db.ts'],
        },
      },
    ],
  },
});
