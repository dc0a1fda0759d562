/**
 * The one entry point for API tests: the app on the seeded test database, with
 * API keys made for it, in one call.
 *
 *   const t = await testApp({ keys: { editor: 'editor', viewer: 'viewer' } });
 *   request(t.app).get('/x').set('authorization', t.bearer.editor)
 *   afterAll(() => t.close());
 */
import type { Express } from 'express';
import { testDb } from '../setup/db.ts';
import { buildApp, type AppOptions } from '../../server/app.ts';
import { loadConfig } from '../../server/config.ts';
import { TEST_ENV } from './test-env.ts';
import { silentLogger } from '../../server/log.ts';
import { createKey } from '../../server/auth/keys.ts';
import type { Role } from '../../server/auth/keys.ts';
import type { Db } from '../../server/db/types.ts';

/** A role, or a role with districts and the name the key is stored under (default: the label). */
export type KeySpec = Role | { role: Role; districts?: string[]; name?: string };

export interface TestAppOptions<K extends string> {
  /** Keys to create, by label: `{ editor: 'editor', pingshan: { role: 'editor', districts: ['pingshan'] } }`. */
  keys?: Record<K, KeySpec>;
  /** Environment for loadConfig (defaults otherwise). */
  env?: Record<string, string>;
  /** Rows to add before the app is built. */
  seed?: (db: Db) => Promise<unknown>;
  /** Anything else buildApp takes (a ChangeBus to watch, …). */
  app?: Partial<Omit<AppOptions, 'db' | 'config' | 'log'>>;
  /** Only the database and keys: no app is built (tests of modules below the HTTP layer). */
  noApp?: boolean;
}

export interface TestApp<K extends string> {
  app: Express;
  db: Db;
  /** The raw key by label. */
  keys: Record<K, string>;
  /** `Bearer <key>` by label, for the Authorization header. */
  bearer: Record<K, string>;
  close(): Promise<void>;
}

/**
 * The app testApp builds, on a database the test already has: a second app with another
 * configuration, or the same one started again.
 */
export function appOn(db: Db, env: Record<string, string> = {}, app: TestAppOptions<never>['app'] = {}): Express {
  return buildApp({ db, config: loadConfig({ ...TEST_ENV, ...env }), log: silentLogger, ...app });
}

export async function testApp<K extends string = never>(options: TestAppOptions<K> = {}): Promise<TestApp<K>> {
  const db = await testDb();
  try {
    await options.seed?.(db);
    const keys = {} as Record<K, string>;
    const bearer = {} as Record<K, string>;
    for (const [label, spec] of Object.entries(options.keys ?? {}) as [K, KeySpec][]) {
      const s = typeof spec === 'string' ? { role: spec } : spec;
      const { key } = await createKey(db, { name: s.name ?? label, role: s.role, districts: s.districts });
      keys[label] = key;
      bearer[label] = `Bearer ${key}`;
    }
    const app = options.noApp ? (undefined as unknown as Express) : appOn(db, options.env, options.app);
    return { app, db, keys, bearer, close: () => db.close() };
  } catch (err) {
    await db.close();
    throw err;
  }
}
