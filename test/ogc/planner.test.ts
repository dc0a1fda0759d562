import { describe, expect, it } from 'vitest';
import { backend, copyTestDb, testDb } from '../setup/db.ts';
import { openEmbedded } from '../../server/db/embedded.ts';
import { openPostgres, plannerOptions } from '../../server/db/postgres.ts';
import { ConfigError, loadConfig } from '../../server/config.ts';
import type { Db } from '../../server/db/types.ts';

/** PG_PLANNER_SETTINGS: every connection starts with them, on both backends. */
async function reopen(settings: readonly (readonly [string, string])[]): Promise<Db> {
  const { location } = await copyTestDb();
  return backend === 'embedded'
    ? openEmbedded({ dataDir: location, plannerSettings: settings })
    : openPostgres({ connectionString: location, max: 3, plannerSettings: settings });
}

const show = async (db: Db, name: string) => (await db.query<Record<string, string>>(`SHOW ${name}`)).rows[0][name];

// Opening an embedded copy loads PostGIS (WASM): seconds when quiet, over a minute on a loaded machine.
const OPEN = 240_000;

describe('planner settings', () => {
  it('the default turns parallel workers and JIT off on every connection', async () => {
    const settings = loadConfig({}).PG_PLANNER_SETTINGS;
    expect(settings).toEqual([
      ['max_parallel_workers_per_gather', '0'],
      ['jit', 'off'],
    ]);
    const db = await reopen(settings);
    try {
      // several at once: each pooled connection has them, not just the first
      const values = await Promise.all([1, 2, 3].map(() => show(db, 'max_parallel_workers_per_gather')));
      expect(values).toEqual(['0', '0', '0']);
      expect(await show(db, 'jit')).toBe('off');
    } finally {
      await db.close();
    }
  }, OPEN);

  it('none keeps the server defaults', async () => {
    expect(loadConfig({ PG_PLANNER_SETTINGS: 'none' }).PG_PLANNER_SETTINGS).toEqual([]);
    expect(plannerOptions([])).toBeUndefined();
    // The test databases open with no planner settings, as PG_PLANNER_SETTINGS=none does (an
    // embedded copy of their own would cost seconds to open).
    const db = await testDb();
    try {
      expect(await show(db, 'jit')).toBe('on');
      // PostgreSQL's own default; PGlite is one process and ships with no parallel workers.
      expect(await show(db, 'max_parallel_workers_per_gather')).toBe(backend === 'embedded' ? '0' : '2');
    } finally {
      await db.close();
    }
  }, OPEN);

  it('a malformed value stops start-up naming the variable', () => {
    expect(() => loadConfig({ PG_PLANNER_SETTINGS: 'jit=off; DROP TABLE x' })).toThrow(ConfigError);
    expect(() => loadConfig({ PG_PLANNER_SETTINGS: 'jit' })).toThrow(/PG_PLANNER_SETTINGS/);
    expect(plannerOptions([['jit', 'off']])).toBe('-c jit=off');
  });
});
