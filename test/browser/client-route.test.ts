import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import zlib from 'node:zlib';
import { clientRoutes, CLIENT_CSP } from '../../server/routes/client.ts';
import { precompress } from '../../client/build.ts';
import { errorMiddleware, notFoundHandler } from '../../server/http/errors.ts';
import { silentLogger } from '../../server/log.ts';
import type { AppContext } from '../../server/context.ts';

// How the server hands out the built client: a stand-in build directory, no database needed.
let dir: string;
const app = (d: string) => {
  const a = express();
  a.use(clientRoutes({} as AppContext, { dir: d }));
  a.use(notFoundHandler);
  a.use(errorMiddleware(silentLogger));
  return a;
};

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onemap-client-'));
  fs.mkdirSync(path.join(dir, 'assets'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>one map</title><script type="module" src="/assets/index-abc123.js"></script>');
  fs.writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
  fs.writeFileSync(path.join(dir, 'assets', 'map-def456.js'), 'export const layers = ["risk_points", "shelters"];\n'.repeat(200));
  precompress(dir);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('GET / (the built client)', () => {
  it('serves index.html revalidated on every load, with a policy that keeps the page on this origin', async () => {
    const res = await request(app(dir)).get('/').expect(200);
    expect(res.type).toBe('text/html');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['content-security-policy']).toBe(CLIENT_CSP);
    expect(CLIENT_CSP).toContain("default-src 'self'");
    expect(CLIENT_CSP).toContain("connect-src 'self'");
    expect(res.text).toContain('/assets/index-abc123.js');
  });

  it('serves hashed assets for a year and answers 404 problem+json for missing ones', async () => {
    const res = await request(app(dir)).get('/assets/index-abc123.js').expect(200);
    expect(res.headers['cache-control']).toMatch(/max-age=31536000.*immutable/);
    const missing = await request(app(dir)).get('/assets/nope.js').expect(404);
    expect(missing.type).toBe('application/problem+json');
  });

  it('says how to build the client when it has not been built', async () => {
    const res = await request(app(path.join(dir, 'absent'))).get('/').expect(503);
    expect(res.type).toBe('application/problem+json');
    expect(res.body.detail).toContain('npm run build:client');
  });

  it('hands out the brotli or gzip file written at build time to clients that accept it, the plain file otherwise', async () => {
    // Small files are not worth compressing; text files of 1 kB or more get both forms.
    expect(fs.existsSync(path.join(dir, 'assets', 'index-abc123.js.br'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'assets', 'map-def456.js.gz'))).toBe(true);
    const original = fs.readFileSync(path.join(dir, 'assets', 'map-def456.js'));
    const raw = (req: request.Test) =>
      req.buffer(true).parse((res, cb) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => cb(null, Buffer.concat(chunks)));
      });
    const br = await raw(request(app(dir)).get('/assets/map-def456.js').set('Accept-Encoding', 'gzip, br'));
    expect(br.status).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toMatch(/javascript/);
    expect(br.headers.vary).toMatch(/Accept-Encoding/);
    expect(br.headers['cache-control']).toMatch(/max-age=31536000.*immutable/);
    expect(Number(br.headers['content-length'])).toBeLessThan(original.length / 5);
    // (superagent decodes br and gzip itself, so the body is what the browser would see.)
    expect((br.body as Buffer).equals(original)).toBe(true);
    expect(zlib.brotliDecompressSync(fs.readFileSync(path.join(dir, 'assets', 'map-def456.js.br'))).equals(original)).toBe(true);
    const gz = await request(app(dir)).get('/assets/map-def456.js').set('Accept-Encoding', 'gzip');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.etag).not.toBe(br.headers.etag);
    expect(gz.text).toBe(original.toString('utf8'));
    const plain = await request(app(dir)).get('/assets/map-def456.js').set('Accept-Encoding', 'identity');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.text).toBe(original.toString('utf8'));
    // An asset too small to have been compressed goes as it is.
    const small = await request(app(dir)).get('/assets/index-abc123.js').set('Accept-Encoding', 'br').expect(200);
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(small.text).toBe('console.log(1)');
  });

  it.each([
    '/assets/..%2Findex.html',
    '/assets/..%2findex.html',
    '/assets/%2e%2e/index.html',
    '/assets/%2E%2E%2Findex.html',
    '/assets/..%5Cindex.html',
    '/assets/../index.html',
    '/assets/./index-abc123.js',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/assets/%E0%A4%A',
  ])('refuses %s with 400 naming the path, before any file is read', async (url) => {
    const res = await request(app(dir)).get(url).expect(400);
    expect(res.type).toBe('application/problem+json');
    expect(res.body.param).toBe('path');
    expect(res.text).not.toContain('<title>one map</title>');
  });
});
