import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientRoutes, CLIENT_CSP } from '../../server/routes/client.ts';
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
});
