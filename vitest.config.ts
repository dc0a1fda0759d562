import { defineConfig } from 'vitest/config';

// The whole suite runs twice: once on the embedded backend (PGlite + PostGIS in
// WASM, the default of `npm start`) and once on a real PostgreSQL/PostGIS server.
// Tests that do not touch a database run once, in the `unit` project.
const dbTests = ['test/**/*.test.ts'];
const unitTests = ['test/unit/**/*.test.ts'];

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
