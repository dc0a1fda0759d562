import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { createHmac } from 'node:crypto';
import { appOn, testApp } from '../helpers/test-app.ts';
import type { Db } from '../../server/db/types.ts';

let db: Db;
let app: Express;
let editor: string;
let viewer: string;
let pingshanEditor: string;
let shelterId: number;
beforeAll(async () => {
  ({ db, app, bearer: { editor, viewer, pingshanEditor } } = await testApp({ keys: { editor: { role: 'editor', districts: ['huadu'], name: 'huadu desk' }, viewer: 'viewer', pingshanEditor: { role: 'editor', districts: ['pingshan'], name: 'pingshan desk' } } }));
  const r = await db.query<{ id: number }>(
    `INSERT INTO shelters (district_id, name_zh, setting, shelter_class, effective_area_m2, capacity, status, geom)
     VALUES ('huadu', '容量测试场所', 'indoor', 'emergency', 100, 50, 'standby', ST_SetSRID(ST_MakePoint(113.22, 23.40), 4326))
     RETURNING id`,
  );
  shelterId = r.rows[0].id;
});
afterAll(async () => db?.close());

const occupancy = async () =>
  (await db.query<{ occupancy: number; status: string }>('SELECT occupancy, status FROM shelters WHERE id = $1', [shelterId])).rows[0];

describe('shelter check-in and check-out', () => {
  it('needs an editor key for the shelter district', async () => {
    await request(app).post(`/shelters/${shelterId}/checkins`).send({ people: 1 }).expect(401);
    await request(app).post(`/shelters/${shelterId}/checkins`).set('authorization', viewer).send({ people: 1 }).expect(403);
    await request(app).post(`/shelters/${shelterId}/checkins`).set('authorization', pingshanEditor).send({ people: 1 }).expect(403);
    expect(await occupancy()).toEqual({ occupancy: 0, status: 'standby' });
  });

  it.each([
    [{ people: 0 }, 'people'],
    [{ people: -3 }, 'people'],
    [{ people: 1.5 }, 'people'],
    [{ people: 'ten' }, 'people'],
    [{ people: 1, name: 'x' }, 'name'],
  ])('refuses %j with 400 naming %s and changes nothing', async (payload, field) => {
    const r = await request(app).post(`/shelters/${shelterId}/checkins`).set('authorization', editor).send(payload).expect(400);
    expect(JSON.parse(r.text).param).toBe(field);
    expect(await occupancy()).toEqual({ occupancy: 0, status: 'standby' });
  });

  it('404 for an unknown shelter, 400 for a bad id', async () => {
    await request(app).post('/shelters/99999999/checkins').set('authorization', editor).send({ people: 1 }).expect(404);
    const r = await request(app).post('/shelters/abc/checkins').set('authorization', editor).send({ people: 1 }).expect(400);
    expect(JSON.parse(r.text).param).toBe('id');
  });

  it('100 parallel check-ins into a 50-place shelter: exactly 50 accepted, 50 refused with 409', async () => {
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        request(app).post(`/shelters/${shelterId}/checkins`).set('authorization', editor).send({ people: 1, evacuee: `4401${i}` }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(50);
    expect(statuses.filter((s) => s === 409)).toHaveLength(50);
    // The problem's status is the HTTP status; the shelter's own is beside it.
    const refused = JSON.parse(results.find((r) => r.status === 409)!.text);
    expect(refused).toMatchObject({ status: 409, title: 'Not enough places', occupancy: 50, capacity: 50, shelter_status: 'full' });
    expect(await occupancy()).toEqual({ occupancy: 50, status: 'full' });
    const rows = await db.query<{ n: number; hashed: number }>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE evacuee_hash NOT LIKE '4401%')::int AS hashed FROM shelter_checkins WHERE shelter_id = $1`,
      [shelterId],
    );
    expect(rows.rows[0]).toEqual({ n: 50, hashed: 50 });
    const audit = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log WHERE layer = 'shelters' AND feature_id = $1 AND operation = 'checkin'`, [String(shelterId)]);
    expect(audit.rows[0].n).toBe(50);
  });

  it('check-out frees places and reopens a full shelter; cannot check out more than housed', async () => {
    const r = await request(app).post(`/shelters/${shelterId}/checkouts`).set('authorization', editor).send({ people: 5 }).expect(200);
    expect(r.body).toMatchObject({ occupancy: 45, free: 5, status: 'open' });
    const refused = await request(app).post(`/shelters/${shelterId}/checkouts`).set('authorization', editor).send({ people: 46 }).expect(409);
    expect(JSON.parse(refused.text)).toMatchObject({ occupancy: 45, capacity: 50 });
    expect(await occupancy()).toEqual({ occupancy: 45, status: 'open' });
  });
});

describe('evacuee references', () => {
  // A shelter of their own, so these tests do not depend on the occupancy the ones above leave.
  let shelter: number;
  beforeAll(async () => {
    const r = await db.query<{ id: number }>(
      `INSERT INTO shelters (district_id, name_zh, setting, shelter_class, effective_area_m2, capacity, status, geom)
       VALUES ('huadu', '登记测试场所', 'indoor', 'emergency', 100, 50, 'standby', ST_SetSRID(ST_MakePoint(113.23, 23.41), 4326))
       RETURNING id`,
    );
    shelter = r.rows[0].id;
  });
  const checkIn = (server: Express, evacuee: string) =>
    request(server).post(`/shelters/${shelter}/checkins`).set('authorization', editor).send({ people: 1, evacuee }).expect(200);
  const hashesOf = async (ids: number[]) =>
    (await db.query<{ h: string }>('SELECT evacuee_hash AS h FROM shelter_checkins WHERE id = ANY($1::bigint[]) ORDER BY id', [ids])).rows.map((r) => r.h);
  const lastCheckins = async (n: number) =>
    (await db.query<{ id: number }>('SELECT id FROM shelter_checkins WHERE shelter_id = $1 ORDER BY id DESC LIMIT $2', [shelter, n])).rows.map((r) => r.id).reverse();

  it('are stored as their HMAC-SHA256 under a key made for this installation and kept in its database, not under a key in the code', async () => {
    for (const evacuee of ['440103199001011234', ' 440103199001011234 ', '440103199001015678']) await checkIn(app, evacuee);
    const stored = await db.query<{ value: string }>(`SELECT value FROM installation_secrets WHERE name = 'evacuee_hash_key'`);
    expect(stored.rows).toHaveLength(1);
    const key = stored.rows[0].value;
    expect(Buffer.from(key, 'base64url')).toHaveLength(32);
    const [a, b, c] = await hashesOf(await lastCheckins(3));
    // The same person (spaces around the reference do not count), another person.
    expect(a).toBe(createHmac('sha256', key).update('440103199001011234').digest('base64url'));
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(a).not.toBe(createHmac('sha256', 'onemap-evacuee-reference').update('440103199001011234').digest('base64url'));
    // An app started again on the same database keeps the key.
    const again = appOn(db);
    await checkIn(again, '440103199001011234');
    expect(await hashesOf(await lastCheckins(1))).toEqual([a]);
  });

  it('are stored under EVACUEE_HASH_KEY when it is set', async () => {
    const own = appOn(db, { EVACUEE_HASH_KEY: 'a-key-kept-in-the-bureau-vault' });
    await checkIn(own, 'W-0042');
    expect(await hashesOf(await lastCheckins(1))).toEqual([createHmac('sha256', 'a-key-kept-in-the-bureau-vault').update('W-0042').digest('base64url')]);
  });
});
