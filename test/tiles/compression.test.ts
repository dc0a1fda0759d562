import http from 'node:http';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb } from '../setup/db.ts';
import { listenApp } from '../helpers/listen.ts';
import { decodeTile } from './helpers/decode.ts';
import type { Db } from '../../server/db/types.ts';
import { tileContaining } from '../../tiles/tile-coords.ts';
import { negotiateEncoding } from '../../tiles/content-encoding.ts';

/**
 * Compression by Accept-Encoding on real HTTP (no client that decodes for us):
 * tiles once per cached tile and encoding, with their own ETag; GeoJSON pages and
 * CSV through the middleware; never for a client that did not ask.
 */
let db: Db;
let server: Awaited<ReturnType<typeof listenApp>>;
beforeAll(async () => {
  db = await testDb();
  server = await listenApp(db);
});
afterAll(async () => {
  await server?.close();
  await db?.close();
});

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function get(path: string, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    http
      .get(`${server.base}${path}`, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

const decode = (r: Raw) =>
  r.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(r.body) : r.headers['content-encoding'] === 'br' ? zlib.brotliDecompressSync(r.body) : r.body;

describe('compression', () => {
  it('negotiates br over gzip, honours q=0 and *', () => {
    expect(negotiateEncoding(undefined)).toBe('identity');
    expect(negotiateEncoding('gzip, deflate, br, zstd')).toBe('br');
    expect(negotiateEncoding('gzip, deflate')).toBe('gzip');
    expect(negotiateEncoding('br;q=0, gzip')).toBe('gzip');
    expect(negotiateEncoding('gzip;q=0.5, br;q=0.2')).toBe('gzip');
    expect(negotiateEncoding('*')).toBe('br');
    expect(negotiateEncoding('*;q=0')).toBe('identity');
    expect(negotiateEncoding('identity')).toBe('identity');
  });

  it('tiles: the same features in every encoding, an ETag per encoding, Vary, compressed once per cached tile', async () => {
    const t = tileContaining(113.27, 23.13, 12);
    const url = `/tiles/risk_points,shelters/${t.z}/${t.x}/${t.y}.mvt`;
    const plain = await get(url);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.vary).toMatch(/Accept-Encoding/);
    expect(plain.body.length).toBeGreaterThan(1000);
    const etags = new Set([plain.headers.etag]);
    for (const [accept, coding] of [['gzip', 'gzip'], ['gzip, deflate, br', 'br']] as const) {
      const r = await get(url, { 'accept-encoding': accept });
      expect(r.headers['content-encoding']).toBe(coding);
      expect(r.headers.vary).toMatch(/Accept-Encoding/);
      expect(Number(r.headers['content-length'])).toBe(r.body.length);
      expect(r.body.length).toBeLessThan(plain.body.length);
      expect(decode(r).equals(plain.body)).toBe(true);
      expect(Object.keys(decodeTile(decode(r)))).toEqual(['risk_points', 'shelters']);
      etags.add(r.headers.etag);
      // A revalidation in the same encoding is a 304; the tag of another encoding is not.
      expect((await get(url, { 'accept-encoding': accept, 'if-none-match': r.headers.etag! })).status).toBe(304);
      expect((await get(url, { 'if-none-match': r.headers.etag! })).status).toBe(200);
    }
    expect(etags.size).toBe(3);
    // (That hits do not compress again is checked on the cache itself in test/unit/tiles-cache.test.ts.)
    const again = await get(url, { 'accept-encoding': 'gzip' });
    expect(again.headers['x-tile-cache']).toBe('hit');
    expect(decode(again).equals(plain.body)).toBe(true);
  });

  it('a GeoJSON page and CSV are compressed when asked, and only then', async () => {
    const page = '/ogc/collections/risk_points/items?limit=1000';
    const plain = await get(page);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    for (const coding of ['gzip', 'br']) {
      const r = await get(page, { 'accept-encoding': coding });
      expect(r.headers['content-encoding']).toBe(coding);
      expect(r.headers.vary).toMatch(/Accept-Encoding/i);
      expect(r.body.length).toBeLessThan(plain.body.length / 3);
      expect(JSON.parse(decode(r).toString('utf8')).features).toHaveLength(JSON.parse(plain.body.toString('utf8')).features.length);
    }
    const csv = await get('/ogc/collections/shelters/items?f=csv&limit=1000', { 'accept-encoding': 'gzip' });
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.headers['content-encoding']).toBe('gzip');
    expect(decode(csv).toString('utf8').split('\n')[0]).toContain('name_zh');
    // Bad input is still a readable problem, compressed or not.
    const bad = await get('/ogc/collections/risk_points/items?limit=-1', { 'accept-encoding': 'gzip' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(decode(bad).toString('utf8')).param).toBe('limit');
  });
});
