import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { testApp } from '../helpers/test-app.ts';
import type { Db } from '../../server/db/types.ts';

/**
 * Idempotency-Key on the writes that add something: a new feature (POST …/items), a
 * shelter check-in or check-out, and an inspection. A client whose answer was lost sends
 * the request again with the same key and gets the first answer; nothing is written twice.
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

describe('POST /shelters/{id}/checkins and /checkouts with Idempotency-Key', () => {
  let shelter: number;
  beforeAll(async () => {
    const r = await db.query<{ id: number }>("SELECT id FROM shelters WHERE district_id = 'huadu' AND status = 'open' AND deleted_at IS NULL AND capacity - occupancy > 100 ORDER BY id LIMIT 1");
    shelter = Number(r.rows[0].id);
  });
  const occupancy = async () => (await db.query<{ n: number }>('SELECT occupancy AS n FROM shelters WHERE id = $1', [shelter])).rows[0].n;
  const records = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM shelter_checkins WHERE shelter_id = $1', [shelter])).rows[0].n;
  const move = (path: 'checkins' | 'checkouts', people: number, key?: string) => {
    const r = request(app).post(`/shelters/${shelter}/${path}`).set('authorization', desk);
    return (key === undefined ? r : r.set('idempotency-key', key)).send({ people });
  };

  it('a check-in sent again with its key counts the people once and answers as the first time', async () => {
    const [before, logged] = [await occupancy(), await records()];
    const first = await move('checkins', 7, '"bus-14-arrived"').expect(200);
    expect(first.body.occupancy).toBe(before + 7);
    const again = await move('checkins', 7, '"bus-14-arrived"').expect(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await occupancy()).toBe(before + 7);
    expect(await records()).toBe(logged + 1);
  });

  it('two sends at once count once; the key with another count or direction is a 422 naming it', async () => {
    const before = await occupancy();
    const [a, b] = await Promise.all([move('checkins', 3, 'bus-15'), move('checkins', 3, 'bus-15')]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(b.body).toEqual(a.body);
    expect(await occupancy()).toBe(before + 3);
    for (const r of [await move('checkins', 4, 'bus-15').expect(422), await move('checkouts', 3, 'bus-15').expect(422)]) {
      expect(JSON.parse(r.text).param).toBe('Idempotency-Key');
    }
    expect(await occupancy()).toBe(before + 3);
    // A refusal takes no key: more people out than are in is a 409, and the key then serves a valid checkout.
    await move('checkouts', 100_000, 'leaving').expect(409);
    await move('checkouts', 3, 'leaving').expect(200);
    expect(await occupancy()).toBe(before);
  });
});

describe('POST /risk/points/{id}/inspections with Idempotency-Key', () => {
  it('recorded once; the answer sent again is the first one, its data version included', async () => {
    const point = Number((await db.query<{ id: number }>("SELECT id FROM risk_points WHERE district_id = 'huadu' AND deleted_at IS NULL ORDER BY id LIMIT 1")).rows[0].id);
    const records = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM risk_inspections WHERE risk_point_id = $1', [point])).rows[0].n;
    const before = await records();
    const inspect = (date: string) =>
      request(app).post(`/risk/points/${point}/inspections`).set('authorization', desk).set('idempotency-key', '"round-2026-12-07"').send({ date, inspector: '巡查员李' });
    const first = await inspect('2026-12-06').expect(201);
    expect(first.body.data_version).toBeGreaterThan(0);
    const again = await inspect('2026-12-06').expect(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await records()).toBe(before + 1);
    expect(JSON.parse((await inspect('2026-12-05').expect(422)).text).param).toBe('Idempotency-Key');
    expect(await records()).toBe(before + 1);
  });
});
