import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { testDb } from '../setup/db.ts';
import { ConfigError, loadConfig } from '../../server/config.ts';
import { API_CSP } from '../../server/http/security-headers.ts';
import { TILE_CSP } from '../../tiles/engine.ts';
import type { Db } from '../../server/db/types.ts';
import { appOn } from '../helpers/test-app.ts';

/** Security headers on every answer, CORS when configured, and no links built from a foreign Host. */
let db: Db;
let app: Express;
const TILE = '/tiles/risk_points/8/208/111.mvt';

beforeAll(async () => {
  db = await testDb();
  app = appOn(db);
});
afterAll(async () => db?.close());

/** The headers that protect any answer; documents (HTML) also get helmet's document-only ones. */
const expectSecurityHeaders = (r: request.Response) => {
  expect(r.headers['x-content-type-options']).toBe('nosniff');
  expect(r.headers['content-security-policy']).toBeTruthy();
  expect(r.headers['referrer-policy']).toBeTruthy();
  // These tests speak plain HTTP: HSTS only goes over HTTPS (below).
  expect(r.headers['strict-transport-security']).toBeUndefined();
  expect(r.headers['cross-origin-resource-policy']).toBe('same-origin');
  const documentOnly = [r.headers['x-frame-options'], r.headers['cross-origin-opener-policy'], r.headers['x-dns-prefetch-control']];
  if (/^text\/html/.test(r.headers['content-type'] ?? '')) expect(documentOnly).toEqual(['SAMEORIGIN', 'same-origin', 'off']);
  else expect(documentOnly).toEqual([undefined, undefined, undefined]);
};

describe('security headers (helmet) on every response', () => {
  it('JSON, errors (404, 400) and OGC pages', async () => {
    const health = await request(app).get('/health').expect(200);
    expectSecurityHeaders(health);
    expect(health.headers['content-security-policy']).toBe(API_CSP);
    expectSecurityHeaders(await request(app).get('/no/such/route').expect(404));
    expectSecurityHeaders(await request(app).get('/analysis/coverage?district=huadu&radius=0x10').expect(400));
    expectSecurityHeaders(await request(app).get('/ogc/api?f=html').expect(200));
  });

  it('tiles answered by the fast path from the cache, and 304s', async () => {
    const first = await request(app).get(TILE).expect(200);
    const hit = await request(app).get(TILE);
    expect(hit.headers['x-tile-cache']).toBe('hit');
    expect((app.locals.tileFastPath as { answered: number }).answered).toBeGreaterThan(0);
    expectSecurityHeaders(hit);
    // Binary data no browser renders: the strictest CSP, on the first answer, on replays and on 304s.
    expect([first.headers['content-security-policy'], hit.headers['content-security-policy']]).toEqual([TILE_CSP, TILE_CSP]);
    const notModified = await request(app).get(TILE).set('if-none-match', first.headers.etag).expect(304);
    expectSecurityHeaders(notModified);
    expect(notModified.headers['content-security-policy']).toBe(TILE_CSP);
  });

  it('answers of the edge hooks themselves (413, 421)', async () => {
    expectSecurityHeaders(await request(app).post('/analysis/area-summary').set('content-type', 'application/json').set('content-length', String(6 * 1024 * 1024)).send('').expect(413));
    expectSecurityHeaders(await request(app).get('/health').set('host', 'evil.invalid').expect(421));
  });

  it('the map page keeps its own CSP', async () => {
    const r = await request(app).get('/');
    // 200 when the client is built, else a 503 problem; either way helmet's headers and, when served, the page CSP.
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    if (r.status === 200) expect(r.headers['content-security-policy']).toMatch(/script-src 'self'/);
  });
});

describe('Strict-Transport-Security only over HTTPS (RFC 6797 §7.2)', () => {
  let proxied: Express;
  beforeAll(() => {
    proxied = appOn(db, { TRUST_PROXY: '1' });
  });
  const https = (r: request.Test) => r.set('x-forwarded-proto', 'https');

  it("behind a trusted proxy, X-Forwarded-Proto: https brings it to JSON, errors and the map page; http and no header do not", async () => {
    for (const url of ['/health', '/no/such/route', '/']) {
      expect((await https(request(proxied).get(url))).headers['strict-transport-security']).toMatch(/^max-age=\d+/);
      expect((await request(proxied).get(url).set('x-forwarded-proto', 'http')).headers['strict-transport-security']).toBeUndefined();
      expect((await request(proxied).get(url)).headers['strict-transport-security']).toBeUndefined();
    }
    // The first value of a list, as Express reads req.protocol.
    expect((await request(proxied).get('/health').set('x-forwarded-proto', 'HTTPS, http')).headers['strict-transport-security']).toMatch(/max-age=/);
  });

  it('a cached tile replayed by the fast path carries it per request, not as the first caller got it', async () => {
    const tile = '/tiles/risk_points/9/426/222.mvt';
    await request(proxied).get(tile);
    const secure = await https(request(proxied).get(tile));
    expect(secure.headers['x-tile-cache']).toBe('hit');
    expect(secure.headers['strict-transport-security']).toMatch(/max-age=/);
    const plain = await request(proxied).get(tile);
    expect(plain.headers['x-tile-cache']).toBe('hit');
    expect(plain.headers['strict-transport-security']).toBeUndefined();
    expect(plain.headers['x-content-type-options']).toBe('nosniff');
  });

  it('without trusted proxies (TRUST_PROXY=0) the header from the client is ignored', async () => {
    expect((await https(request(app).get('/health'))).headers['strict-transport-security']).toBeUndefined();
  });
});

describe('CORS (CORS_ORIGINS)', () => {
  const A = 'https://map.example.org';
  const B = 'https://wall.example.org';
  let cors: Express;
  let other: Express;
  beforeAll(() => {
    // Also lists the hosts (tested below): each app holds a database connection for LISTEN.
    cors = appOn(db, { CORS_ORIGINS: `${A}, ${B}`, ALLOWED_HOSTS: 'onemap.bureau.local,127.0.0.1' });
    other = appOn(db, { CORS_ORIGINS: '*', PUBLIC_URL: 'https://map.example.org' });
  });

  it('off by default: no Access-Control headers, preflight not answered', async () => {
    const r = await request(app).get('/layers').set('origin', A).expect(200);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    const p = await request(app).options('/layers').set('origin', A).set('access-control-request-method', 'GET');
    expect(p.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('a listed origin reads tiles, OGC, catalogue, analyses and risk reads; Vary: Origin', async () => {
    for (const url of ['/layers', '/ogc/collections', '/analysis/nearest-shelters?lon=113.2&lat=23.4&n=1', '/risk/geohazards', '/tiles/risk_points.json']) {
      const r = await request(cors).get(url).set('origin', A).expect(200);
      expect(r.headers['access-control-allow-origin']).toBe(A);
      expect(r.headers.vary).toMatch(/Origin/);
    }
    const other = await request(cors).get('/layers').set('origin', 'https://evil.example').expect(200);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    // Not in scope: live events, writes, health.
    const health = await request(cors).get('/health').set('origin', A).expect(200);
    expect(health.headers['access-control-allow-origin']).toBeUndefined();
    expect(health.headers['cross-origin-resource-policy']).toBe('cross-origin');
  });

  it('a cached tile replayed by the fast path names the origin of each caller, not of the first', async () => {
    const tile = '/tiles/risk_points/9/427/222.mvt';
    const a = await request(cors).get(tile).set('origin', A);
    expect(a.headers['access-control-allow-origin']).toBe(A);
    const b = await request(cors).get(tile).set('origin', B);
    expect(b.headers['x-tile-cache']).toBe('hit');
    expect(b.headers['access-control-allow-origin']).toBe(B);
    expect(b.headers.vary).toMatch(/Origin/);
    const none = await request(cors).get(tile);
    expect(none.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('preflight: 204 for a listed origin; 403 problems for other origins, methods or an Authorization header', async () => {
    const ok = await request(cors).options('/analysis/area-summary').set('origin', A).set('access-control-request-method', 'POST').set('access-control-request-headers', 'content-type').expect(204);
    expect(ok.headers['access-control-allow-origin']).toBe(A);
    expect(ok.headers['access-control-allow-methods']).toMatch(/POST/);
    expectSecurityHeaders({ ...ok, headers: { ...ok.headers, 'cross-origin-resource-policy': 'same-origin' } } as unknown as request.Response);
    const origin = await request(cors).options('/layers').set('origin', 'https://evil.example').set('access-control-request-method', 'GET').expect(403);
    expect(JSON.parse(origin.text).param).toBe('Origin');
    const write = await request(cors).options('/ogc/collections/risk_points/items').set('origin', A).set('access-control-request-method', 'POST').expect(403);
    expect(JSON.parse(write.text).param).toBe('Access-Control-Request-Method');
    const key = await request(cors).options('/layers').set('origin', A).set('access-control-request-method', 'GET').set('access-control-request-headers', 'authorization').expect(403);
    expect(JSON.parse(key.text).param).toBe('Access-Control-Request-Headers');
  });

  it('CORS_ORIGINS=* answers any origin with *', async () => {
    const r = await request(other).get('/layers').set('origin', 'https://anyone.example').expect(200);
    expect(r.headers['access-control-allow-origin']).toBe('*');
  });

  it('a malformed CORS_ORIGINS or ALLOWED_HOSTS stops start-up naming the variable', () => {
    expect(() => loadConfig({ CORS_ORIGINS: 'ftp://x.example' })).toThrow(ConfigError);
    expect(() => loadConfig({ CORS_ORIGINS: 'https://a.example/path' })).toThrow(/CORS_ORIGINS/);
    expect(() => loadConfig({ ALLOWED_HOSTS: 'map.example:8080' })).toThrow(/ALLOWED_HOSTS/);
  });

describe('Host allow-list: no links to a foreign Host in cacheable answers', () => {
  it('with PUBLIC_URL unset, an unlisted Host → 421 naming Host (TileJSON, OGC, tiles alike)', async () => {
    for (const url of ['/tiles/risk_points.json', '/ogc', TILE]) {
      const r = await request(app).get(url).set('host', 'evil.invalid').expect(421);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(r.text).param).toBe('Host');
    }
  });

  it('a foreign Host is refused between allowed ones, and an allowed one answered between foreign ones', async () => {
    for (const host of ['localhost:8080', 'evil.invalid', 'evil.invalid', 'localhost:8080', 'localhost.evil.invalid', '127.0.0.1', 'evil.invalid:80']) {
      const r = await request(app).get('/tiles/risk_points.json').set('host', host);
      expect(r.status, host).toBe(host.includes('evil') ? 421 : 200);
    }
  });

  it('the localhost names are allowed by default and give links on themselves', async () => {
    const r = await request(app).get('/tiles/risk_points.json').set('host', 'localhost:8080').expect(200);
    expect(r.body.tiles[0]).toMatch(/^http:\/\/localhost:8080\/tiles\//);
  });

  it('ALLOWED_HOSTS lists the names; PUBLIC_URL makes Host irrelevant', async () => {
    const r = await request(cors).get('/tiles/risk_points.json').set('host', 'OneMap.bureau.local:3000').expect(200);
    expect(r.body.tiles[0]).toMatch(/^http:\/\/onemap\.bureau\.local:3000\//i);
    await request(cors).get('/tiles/risk_points.json').set('host', 'localhost').expect(421);
    const p = await request(other).get('/tiles/risk_points.json').set('host', 'evil.invalid').expect(200);
    expect(p.body.tiles[0]).toMatch(/^https:\/\/map\.example\.org\/tiles\//);
    expect(p.text).not.toMatch(/evil\.invalid/);
  });
});
});
