import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { testDb } from '../setup/db.ts';
import { buildApp } from '../../server/app.ts';
import { loadConfig } from '../../server/config.ts';
import { createLogger } from '../../server/log.ts';
import type { Db } from '../../server/db/types.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { requestIdHook, requestIdOf } from '../../server/http/request-id.ts';

let db: Db;
let app: Express;
const lines: string[] = [];
beforeAll(async () => {
  db = await testDb();
  app = buildApp({ db, config: loadConfig({}), log: createLogger('debug', (l) => lines.push(l)) });
  await app.locals.ready;
});
afterAll(async () => db?.close());

/** The JSON log lines of one request, found by its id; they are written when the answer is done. */
async function linesOf(id: string): Promise<Record<string, unknown>[]> {
  for (let i = 0; i < 50; i++) {
    const found = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.reqId === id);
    if (found.length) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
  return [];
}

/** A fresh id: 16 random bytes in hexadecimal. */
const FRESH = /^[0-9a-f]{32}$/;

describe('request ids and structured logs', () => {
  it('every answer carries a fresh X-Request-Id, and one JSON log line names it', async () => {
    const a = await request(app).get('/layers').expect(200);
    const b = await request(app).get('/layers').expect(200);
    expect(a.headers['x-request-id']).toMatch(FRESH);
    expect(b.headers['x-request-id']).not.toBe(a.headers['x-request-id']);
    const [line] = await linesOf(a.headers['x-request-id']);
    expect(line).toMatchObject({ level: 'info', msg: 'request', method: 'GET', url: '/layers', route: '/layers', status: 200 });
    expect(typeof line.ms).toBe('number');
    expect(typeof line.time).toBe('string');
  });

  it('fresh ids stay distinct past the refill of their pool of random bytes (256 ids)', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const req = { headers: {} } as IncomingMessage;
      requestIdHook(req, {} as ServerResponse);
      const id = requestIdOf(req)!;
      expect(id).toMatch(FRESH);
      ids.add(id);
    }
    expect(ids.size).toBe(1000);
  });

  it('keeps a sane id from a proxy and replaces anything else', async () => {
    const kept = await request(app).get('/layers').set('x-request-id', 'edge-7f3a.b:42_x').expect(200);
    expect(kept.headers['x-request-id']).toBe('edge-7f3a.b:42_x');
    for (const bad of ['has space', 'x'.repeat(129), 'semi;colon', '"quoted"', '']) {
      const r = await request(app).get('/layers').set('x-request-id', bad).expect(200);
      expect(r.headers['x-request-id']).toMatch(FRESH);
    }
  });

  it('covers refusals and cached tiles answered before Express; tile lines are debug', async () => {
    const bad = await request(app).get('/ogc/collections/shelters/items?limit=abc').expect(400);
    expect(bad.headers['x-request-id']).toMatch(FRESH);
    expect((await linesOf(bad.headers['x-request-id']))[0]).toMatchObject({ level: 'info', status: 400 });

    const tile = '/tiles/shelters,streets/8/208/111.mvt'; // a layer list of its own: the first request misses
    await request(app).get(tile);
    const cached = await request(app).get(tile);
    expect(cached.headers['x-request-id']).toMatch(FRESH);
    expect((await linesOf(cached.headers['x-request-id']))[0]).toMatchObject({ level: 'debug', route: '/tiles/:layers/:z/:x/:y.mvt' });
  });

  it('a cached tile never replays the id of the request that filled the cache, with or without a key', async () => {
    const { createKey } = await import('../../server/auth/keys.ts');
    const key = (await createKey(db, { name: 'wall', role: 'viewer' })).key;
    for (const auth of [undefined, `Bearer ${key}`]) {
      const ids = new Set<string>();
      for (let i = 0; i < 3; i++) {
        const req = request(app).get('/tiles/shelters,communities/8/208/111.mvt');
        const r = await (auth ? req.set('authorization', auth) : req);
        expect(r.status).toBeLessThan(300);
        ids.add(r.headers['x-request-id']);
      }
      expect(ids.size).toBe(3);
    }
  });

  it('a failure is logged at error with the request id, and the answer does not leak it', async () => {
    const broken = new Proxy(db, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (prop === 'query') return async () => Promise.reject(new Error('simulated database fault'));
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const failing = buildApp({ db: broken, config: loadConfig({}), log: createLogger('info', (l) => lines.push(l)) });
    const r = await request(failing).get('/ogc/collections/shelters/items?limit=1');
    expect(r.status).toBe(500);
    expect(r.text).not.toContain('simulated');
    const logged = await linesOf(r.headers['x-request-id']);
    expect(logged.map((l) => l.level)).toEqual(['error', 'error']);
    expect(String(logged[0].msg)).toContain('simulated database fault');
    expect(logged[1]).toMatchObject({ msg: 'request', status: 500 });
  });
});
