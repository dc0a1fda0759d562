import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { testApp } from '../helpers/test-app.ts';
import type { Db } from '../../server/db/types.ts';

/**
 * Idempotency-Key on POST …/items: a planner whose answer was lost sends the new feature
 * again with the same key and gets the feature created the first time; one is created.
 */
let db: Db;
let app: Express;
let desk: string;
let second: string;
let at: number[];
beforeAll(async () => {
  ({ db, app, bearer: { desk, second } } = await testApp({ keys: { desk: { role: 'editor', name: 'duty desk' }, second: { role: 'editor', name: 'night desk' } } }));
  const r = await db.query<{ x: number; y: number }>("SELECT ST_X(p) AS x, ST_Y(p) AS y FROM (SELECT ST_PointOnSurface(geom) AS p FROM districts WHERE id = 'huadu') s");
  at = [r.rows[0].x, r.rows[0].y];
});
afterAll(async () => db?.close());

const feature = (name: string, coordinates = at) => ({
  type: 'Feature',
  geometry: { type: 'Point', coordinates },
  properties: { name_zh: name, district_id: 'huadu', level: 'orange', category: 'gas', responsible_unit: '花都区应急管理局' },
});
const named = async (name: string) => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM risk_points WHERE name_zh = $1', [name])).rows[0].n;
const create = (body: object, key?: string, auth = desk) => {
  const r = request(app).post('/ogc/collections/risk_points/items').set('authorization', auth);
  return (key === undefined ? r : r.set('idempotency-key', key)).send(body);
};

describe('POST /ogc/collections/{id}/items with Idempotency-Key', () => {
  it('sent again with its key: the feature created the first time, one row and one audit entry', async () => {
    const first = await create(feature('同键新增'), '"new-1"').expect(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await create(feature('同键新增'), '"new-1"').expect(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(new URL(again.headers.location).pathname).toBe(new URL(first.headers.location).pathname);
    expect(again.headers.etag).toBe(first.headers.etag);
    expect(again.body).toEqual(first.body);
    expect(await named('同键新增')).toBe(1);
    const audit = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE operation = 'insert' AND feature_id = $1", [String(first.body.id)]);
    expect(audit.rows[0].n).toBe(1);
  });

  it('two sends of the same request at once create one feature', async () => {
    const [a, b] = await Promise.all([create(feature('同时新增'), 'both-at-once'), create(feature('同时新增'), 'both-at-once')]);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.body.id).toBe(a.body.id);
    expect([a.headers['idempotent-replayed'], b.headers['idempotent-replayed']].filter(Boolean)).toEqual(['true']);
    expect(await named('同时新增')).toBe(1);
  });

  it('the key with other properties: 422 naming Idempotency-Key, nothing created; keys are per API key', async () => {
    await create(feature('改名前'), 'renamed').expect(201);
    const reused = await create(feature('改名后'), 'renamed').expect(422);
    expect(JSON.parse(reused.text).param).toBe('Idempotency-Key');
    expect(await named('改名后')).toBe(0);
    // Another desk's key of the same name is its own.
    await create(feature('改名前'), 'renamed', second).expect(201);
    expect(await named('改名前')).toBe(2);
  });

  it('a request refused takes no key: the key then serves the corrected request', async () => {
    // Outside Huadu: refused in the creating transaction, which rolls the key back with it.
    await create(feature('先错后对', [100, 40]), '"fix-then-send"').expect(422);
    const fixed = await create(feature('先错后对'), '"fix-then-send"').expect(201);
    expect(fixed.headers['idempotent-replayed']).toBeUndefined();
    expect(await named('先错后对')).toBe(1);
  });

  it('a malformed key is a 400 naming Idempotency-Key, and nothing is created', async () => {
    for (const bad of ['"open', 'two words', 'k'.repeat(256)]) {
      const r = await create(feature('坏键新增'), bad).expect(400);
      expect(JSON.parse(r.text).param).toBe('Idempotency-Key');
    }
    expect(await named('坏键新增')).toBe(0);
  });
});
