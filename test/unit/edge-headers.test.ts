import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Histogram, Registry } from 'prom-client';
import { edgeHeadersIntoApp, installEdge } from '../../server/http/edge.ts';
import { requestIdHook } from '../../server/http/request-id.ts';
import { securityHeaders, API_CSP } from '../../server/http/security-headers.ts';
import { corsHook } from '../../server/http/cors.ts';
import { addressRateLimit } from '../../server/http/rate-limit.ts';
import { AppMetrics } from '../../server/http/metrics.ts';
import { silentLogger } from '../../server/log.ts';
import { writeEdgeHead } from '../../server/http/edge.ts';
import { installFastPath } from '../../tiles/fast-path.ts';
import { TileCache } from '../../tiles/cache.ts';

/**
 * The edge's headers reach every answer exactly once, whichever way it is written:
 * a cached tile replayed before Express (one writeHead of a prepared list), a hook's
 * own answer (429) and an answer of the app (setHeader, then the defaults at writeHead).
 */
const ORIGIN = 'https://map.example.org';
const TILE = '/tiles/risk_points/10/834/444.mvt';
const BODY = Buffer.from('tile bytes');
const VARY = 'Authorization, Origin, Accept-Encoding';

let server: http.Server;
let port: number;
const metrics = new AppMetrics({}, silentLogger);

beforeAll(async () => {
  const app = express();
  app.use(edgeHeadersIntoApp);
  app.get('/layers', (_req, res) => {
    res.vary('Accept-Encoding');
    res.set('Content-Security-Policy', "default-src 'self'");
    res.json({ ok: true });
  });
  const cache = new TileCache(1e6);
  const headers = { ETag: '"abc"', 'Cache-Control': 'public, max-age=30', Vary: VARY, 'Content-Type': 'application/vnd.mapbox-vector-tile', 'Content-Length': String(BODY.length), 'X-Tile-Cache': 'hit' };
  const notModifiedHeaders = { ETag: '"abc"', 'Cache-Control': 'public, max-age=30', Vary: VARY };
  cache.set({ key: `a:${TILE}`, status: 200, body: BODY, etag: '"abc"', layers: ['risk_points'], tile: { z: 10, x: 834, y: 444 }, headers, notModifiedHeaders, replayable: true }, cache.epoch);
  const stats = { answered: 0 };
  installFastPath(app as unknown as Parameters<typeof installFastPath>[0], cache, stats, undefined, writeEdgeHead);
  installEdge(app, [requestIdHook, metrics.hook, securityHeaders({ crossOrigin: true, trustProxy: 1 }), corsHook([ORIGIN]), addressRateLimit(4, 0)!]);
  server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Status, body and every header line as sent (names lower-cased, repeats kept). */
function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; lines: [string, string][] }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, headers: { origin: ORIGIN, 'x-forwarded-proto': 'https', ...headers }, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const lines: [string, string][] = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2) lines.push([res.rawHeaders[i].toLowerCase(), res.rawHeaders[i + 1]]);
          resolve({ status: res.statusCode!, body: Buffer.concat(chunks), lines });
        });
      })
      .on('error', reject);
  });
}

/** The one value of `name`; fails when the header is missing or sent twice. */
function once(lines: [string, string][], name: string): string {
  const values = lines.filter(([n]) => n === name).map(([, v]) => v);
  expect(values, name).toHaveLength(1);
  return values[0];
}

function expectEdgeHeaders(lines: [string, string][], remaining: string, secure = true): void {
  expect(once(lines, 'x-request-id')).toMatch(/^[0-9a-f]{32}$/);
  expect(once(lines, 'x-content-type-options')).toBe('nosniff');
  // A tile, JSON or a problem is no document: helmet's document-only headers stay off it.
  expect(lines.some(([n]) => n === 'x-frame-options' || n === 'cross-origin-opener-policy')).toBe(false);
  expect(once(lines, 'cross-origin-resource-policy')).toBe('cross-origin');
  if (secure) expect(once(lines, 'strict-transport-security')).toMatch(/max-age=/);
  else expect(lines.some(([n]) => n === 'strict-transport-security')).toBe(false);
  expect(once(lines, 'access-control-allow-origin')).toBe(ORIGIN);
  expect(once(lines, 'access-control-expose-headers')).toMatch(/ETag/);
  expect(once(lines, 'ratelimit-policy')).toBe('"addr";q=4;w=60');
  expect(once(lines, 'ratelimit')).toMatch(new RegExp(`^"addr";r=${remaining};t=\\d+$`));
}

describe('edge headers on every answer, each once', () => {
  it('a cached tile replayed before Express, and its 304', async () => {
    const hit = await get(TILE);
    expect(hit.status).toBe(200);
    expect(hit.body.equals(BODY)).toBe(true);
    expectEdgeHeaders(hit.lines, '3');
    expect(once(hit.lines, 'content-security-policy')).toBe(API_CSP);
    // The tile's own Vary (which names Origin) wins over the CORS hook's `Vary: Origin`.
    expect(once(hit.lines, 'vary')).toBe(VARY);
    expect(once(hit.lines, 'etag')).toBe('"abc"');
    expect(once(hit.lines, 'content-length')).toBe(String(BODY.length));
    // Over plain HTTP (no X-Forwarded-Proto: https from the trusted proxy): the same entry, no HSTS.
    const second = await get(TILE, { 'x-forwarded-proto': 'http' });
    expectEdgeHeaders(second.lines, '2', false);
    expect(once(second.lines, 'x-request-id')).not.toBe(once(hit.lines, 'x-request-id'));

    const notModified = await get(TILE, { 'if-none-match': '"abc"' });
    expect(notModified.status).toBe(304);
    expectEdgeHeaders(notModified.lines, '1');
    expect(once(notModified.lines, 'vary')).toBe(VARY);
  });

  it("an answer of the app: the hooks' headers are set before the route, which may add to Vary and set its own CSP", async () => {
    const page = await get('/layers', { 'x-forwarded-for': 'ignored' });
    expect(page.status).toBe(200);
    expectEdgeHeaders(page.lines, '0');
    expect(once(page.lines, 'vary')).toBe('Origin, Accept-Encoding');
    expect(once(page.lines, 'content-security-policy')).toBe("default-src 'self'");
  });

  it("a hook's own answer (429 from the rate limit)", async () => {
    const refused = await get(TILE);
    expect(refused.status).toBe(429);
    expectEdgeHeaders(refused.lines, '0');
    expect(once(refused.lines, 'retry-after')).toMatch(/^\d+$/);
    expect(once(refused.lines, 'content-type')).toMatch(/problem\+json/);
    expect(JSON.parse(refused.body.toString('utf8')).param).toBe('client address');
  });

  it('every answer above was counted, and the latency histogram reads as prom-client writes one', async () => {
    const text = await metrics.text();
    expect(text).toContain('onemap_http_requests_total{method="GET",route="/tiles/:layers/:z/:x/:y.mvt",status="200"} 2');
    expect(text).toContain('onemap_http_requests_total{method="GET",route="/tiles/:layers/:z/:x/:y.mvt",status="304"} 1');
    expect(text).toContain('onemap_http_requests_total{method="GET",route="/tiles/:layers/:z/:x/:y.mvt",status="429"} 1');
    expect(text).toContain('onemap_http_requests_total{method="GET",route="/layers",status="200"} 1');
    expect(text).toContain('onemap_http_request_duration_seconds_count{method="GET",route="/tiles/:layers/:z/:x/:y.mvt"} 4');
  });
});

describe('request latency histogram', () => {
  it('gives the exposition text of a prom-client Histogram fed the same observations', async () => {
    const ours = new AppMetrics({}, silentLogger);
    const registry = new Registry();
    const reference = new Histogram({
      name: 'onemap_http_request_duration_seconds',
      help: 'Time from the first byte of the request to the last byte of the answer, by route template',
      labelNames: ['method', 'route'] as const,
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    const seen: [string, string, number, number][] = [
      ['GET', '/tiles/a/1/2/3.mvt', 200, 0.0001],
      ['GET', '/tiles/a/1/2/3.mvt?level=red', 200, 0.002],
      ['HEAD', '/tiles/a/1/2/3.mvt', 200, 0.0031],
      ['GET', '/nowhere', 404, 0.7],
      ['GET', '/nowhere', 404, 45],
      ['POST', '/tiles/a/1/2/3.mvt', 405, 30],
    ];
    for (const [method, url, status, seconds] of seen) {
      const req = { method, url } as http.IncomingMessage;
      const res = { writableFinished: true, statusCode: status } as http.ServerResponse;
      ours.observe(req, res, seconds);
      reference.observe({ method, route: url.startsWith('/tiles/') ? '/tiles/:layers/:z/:x/:y.mvt' : '(other)' }, seconds);
    }
    const section = (text: string) => text.split('\n\n').find((s) => s.includes('# TYPE onemap_http_request_duration_seconds histogram'))?.trim();
    expect(section(await ours.registry.metrics())).toBe(section(await registry.metrics()));
  });
});
