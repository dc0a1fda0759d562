import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { testDb } from '../setup/db.ts';
import { createKey } from '../../server/auth/keys.ts';
import type { Db, QueryOptions } from '../../server/db/types.ts';
import { appOn } from '../helpers/test-app.ts';

let db: Db;
let app: Express;
/** Key lookups reaching the database (each verification of a well-formed key makes one, then one scrypt). */
let keyLookups = 0;
beforeAll(async () => {
  db = await testDb();
  // Count key lookups: a throttled attempt must not reach the database nor hash.
  const counting = new Proxy(db, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (prop !== 'query' || typeof v !== 'function') return typeof v === 'function' ? v.bind(target) : v;
      return (sql: string, params?: unknown[], options?: QueryOptions) => {
        if (/FROM api_keys WHERE id = \$1/.test(sql)) keyLookups++;
        return v.call(target, sql, params, options);
      };
    },
  });
  app = appOn(counting, { TRUST_PROXY: '1' });
});
afterAll(async () => db?.close());
afterEach(() => vi.useRealTimers());

const forge = (key: string) => key.slice(0, -4) + (key.endsWith('AAAA') ? 'BBBB' : 'AAAA');
const get = (client: string, auth: string) => request(app).get('/layers').set('x-forwarded-for', client).set('authorization', `Bearer ${auth}`);

describe('failed-authentication throttle', () => {
  it('after 5 free failures locks the address and the key id out with 429 + Retry-After, without hashing', async () => {
    const { key } = await createKey(db, { name: 'target', role: 'admin' });
    for (let i = 0; i < 6; i++) await get('198.51.100.20', forge(key)).expect(401);
    const before = keyLookups;
    const locked = await get('198.51.100.20', forge(key));
    expect(locked.status).toBe(429);
    expect(locked.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(locked.text)).toMatchObject({ status: 429, param: 'Authorization' });
    // The key id is locked from other addresses too (a distributed guess), briefly.
    const elsewhere = await get('198.51.100.21', forge(key));
    expect(elsewhere.status).toBe(429);
    expect(Number(elsewhere.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(keyLookups).toBe(before);
    // Anonymous reads from the attacking address still work: only credentials are throttled.
    await request(app).get('/layers').set('x-forwarded-for', '198.51.100.20').expect(200);
  });

  it('back-off doubles with each further failure', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { key } = await createKey(db, { name: 'target 2', role: 'viewer' });
    const client = '198.51.100.30';
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) await get(client, forge(key)).expect(401);
    for (let i = 0; i < 4; i++) {
      const r = await get(client, forge(key)).expect(429);
      waits.push(Number(r.headers['retry-after']));
      vi.setSystemTime(Date.now() + waits[i] * 1000); // wait it out, then fail again
      await get(client, forge(key)).expect(401);
    }
    expect(waits).toEqual([1, 2, 4, 8]);
  });

  it('the real holder, proven before, is never locked out by guesses at the key id', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { key } = await createKey(db, { name: 'duty officer', role: 'editor' });
    await get('198.51.100.40', key).expect(200);
    vi.setSystemTime(Date.now() + 61_000); // the verification cache has expired
    for (let i = 0; i < 12; i++) await get(`198.51.100.${41 + i}`, forge(key)); // spread over addresses
    expect((await get('198.51.100.60', forge(key))).status).toBe(429);
    // The holder verifies (one scrypt) and passes, from a new address too.
    await get('198.51.100.61', key).expect(200);
  });

  it('a holder who never used the key waits at most a minute, and other keys are unaffected', async () => {
    const { key } = await createKey(db, { name: 'new laptop', role: 'viewer' });
    const other = (await createKey(db, { name: 'other desk', role: 'viewer' })).key;
    for (let i = 0; i < 30; i++) await get(`203.0.113.${i + 1}`, forge(key));
    const r = await get('203.0.113.99', key);
    expect(r.status).toBe(429);
    expect(Number(r.headers['retry-after'])).toBeLessThanOrEqual(60);
    await get('203.0.113.99', other).expect(200);
  });

  it('malformed credentials count against the address', async () => {
    for (let i = 0; i < 6; i++) await get('198.51.100.70', 'hunter2').expect(401);
    expect((await get('198.51.100.70', 'hunter2')).status).toBe(429);
    await get('198.51.100.71', 'hunter2').expect(401);
  });
});
