import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { testDb } from '../setup/db.ts';
import { buildApp } from '../../server/app.ts';
import { loadConfig } from '../../server/config.ts';
import { silentLogger } from '../../server/log.ts';
import { createKey } from '../../server/auth/keys.ts';
import type { Db } from '../../server/db/types.ts';

let db: Db;
let viewerKey: string;
let otherKey: string;
// Every app holds a database connection for change notifications, so the
// tests share three: `limited` behind a trusted proxy (each test its own
// client address in X-Forwarded-For), `direct` without one, `unlimited`.
let limited: Express;
let direct: Express;
let unlimited: Express;
beforeAll(async () => {
  db = await testDb();
  viewerKey = (await createKey(db, { name: 'wall display', role: 'viewer' })).key;
  otherKey = (await createKey(db, { name: 'duty desk', role: 'viewer' })).key;
  limited = appWith({ RATE_LIMIT_PER_MIN: '3', RATE_LIMIT_KEY_PER_MIN: '2', TRUST_PROXY: '1' });
  direct = appWith({ RATE_LIMIT_PER_MIN: '2' });
  unlimited = appWith({ RATE_LIMIT_PER_MIN: '0', RATE_LIMIT_KEY_PER_MIN: '0' });
});
afterAll(async () => db?.close());

const appWith = (env: Record<string, string>) => buildApp({ db, config: loadConfig(env), log: silentLogger });
/** A request from `client` through the trusted proxy. */
const from = (client: string, method: 'get' | 'post', url: string) => request(limited)[method](url).set('x-forwarded-for', client);
const TILE = '/tiles/shelters/8/208/111.mvt';

function expectTooMany(r: request.Response, policy: string, param: string) {
  expect(r.status).toBe(429);
  expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
  expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  expect(Number(r.headers['retry-after'])).toBeLessThanOrEqual(60);
  expect(r.headers['ratelimit-policy']).toBe(policy);
  expect(r.headers['ratelimit']).toMatch(/;r=0;t=\d+$/);
  const body = JSON.parse(r.text);
  expect(body).toMatchObject({ status: 429, param });
  expect(body.detail).toMatch(/per minute/);
}

describe('per-address rate limit (RATE_LIMIT_PER_MIN)', () => {
  it('counts down in RateLimit headers, then answers 429 problem+json with Retry-After and changes nothing', async () => {
    const client = '198.51.100.1';
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await from(client, 'get', '/layers').expect(200);
      expect(r.headers['ratelimit-policy']).toBe('"addr";q=3;w=60');
      remaining.push(r.headers['ratelimit']);
    }
    expect(remaining.map((h) => /;r=(\d+);/.exec(h)?.[1])).toEqual(['2', '1', '0']);
    expectTooMany(await from(client, 'get', '/layers'), '"addr";q=3;w=60', 'client address');

    // A refused write changes nothing (it never reaches the route).
    const before = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM risk_points');
    const post = await from(client, 'post', '/ogc/collections/risk_points/items').send({ type: 'Feature' });
    expect(post.status).toBe(429);
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM risk_points')).rows[0].n).toBe(before.rows[0].n);
  });

  it('covers cached tiles answered by the fast path before Express', async () => {
    const client = '198.51.100.2';
    const first = await from(client, 'get', TILE);
    expect(first.status).toBe(200);
    const fastPath = limited.locals.tileFastPath as { answered: number };
    const answered = fastPath.answered;
    await from(client, 'get', TILE).expect(200);
    await from(client, 'get', TILE).expect(200);
    expect(fastPath.answered).toBe(answered + 2);
    const refused = await from(client, 'get', TILE);
    expectTooMany(refused, '"addr";q=3;w=60', 'client address');
    expect(fastPath.answered).toBe(answered + 2);
  });

  it('keeps one budget per address: X-Forwarded-For is ignored unless TRUST_PROXY says a proxy sets it', async () => {
    await request(direct).get('/layers').set('x-forwarded-for', '203.0.113.1').expect(200);
    await request(direct).get('/layers').set('x-forwarded-for', '203.0.113.2').expect(200);
    expect((await request(direct).get('/layers').set('x-forwarded-for', '203.0.113.3')).status).toBe(429);

    for (const client of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) {
      // The client forges an address to the left; the proxy appends the real one.
      for (const forged of ['10.0.0.9', '10.0.0.8', '10.0.0.7']) await from(`${forged}, ${client}`, 'get', '/layers').expect(200);
      expect((await from(`10.0.0.6, ${client}`, 'get', '/layers')).status).toBe(429);
    }
  });

  it('0 turns it off: no RateLimit headers, no 429', async () => {
    for (let i = 0; i < 5; i++) {
      const req = request(unlimited).get('/layers');
      const r = await (i % 2 ? req.set('authorization', `Bearer ${viewerKey}`) : req).expect(200);
      expect(r.headers['ratelimit']).toBeUndefined();
    }
  });
});

describe('per-key rate limit (RATE_LIMIT_KEY_PER_MIN)', () => {
  it('limits each key on its own; anonymous callers keep the address budget', async () => {
    // The same key from several addresses shares one budget.
    for (const client of ['192.0.2.1', '192.0.2.2']) {
      const r = await from(client, 'get', '/layers').set('authorization', `Bearer ${viewerKey}`).expect(200);
      expect(r.headers['ratelimit-policy']).toBe('"key";q=2;w=60');
    }
    expectTooMany(await from('192.0.2.3', 'get', '/layers').set('authorization', `Bearer ${viewerKey}`), '"key";q=2;w=60', 'Authorization');
    await from('192.0.2.1', 'get', '/layers').set('authorization', `Bearer ${otherKey}`).expect(200);
    const anon = await from('192.0.2.1', 'get', '/layers').expect(200);
    expect(anon.headers['ratelimit-policy']).toBe('"addr";q=3;w=60');
  });
});

describe('configuration', () => {
  it.each([
    ['RATE_LIMIT_PER_MIN', '-1', '="-1"'],
    ['RATE_LIMIT_PER_MIN', '0x10', '="0x10"'],
    ['RATE_LIMIT_KEY_PER_MIN', 'lots', '="lots"'],
    ['TRUST_PROXY', '11', '="11"'],
    // A secret's value is not repeated (test/unit/config.test.ts).
    ['METRICS_TOKEN', 'short', ' (value not shown)'],
  ])('%s=%s stops start-up naming the variable', (name, value, shown) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^invalid ${name}${shown.replace(/[()]/g, '\\$&')}: expected `));
  });

  it('defaults leave a wall display and a busy desk alone', () => {
    const c = loadConfig({});
    expect(c.RATE_LIMIT_PER_MIN).toBeGreaterThanOrEqual(3000);
    expect(c.RATE_LIMIT_KEY_PER_MIN).toBeGreaterThanOrEqual(c.RATE_LIMIT_PER_MIN);
    expect(c.TRUST_PROXY).toBe(0);
  });
});
