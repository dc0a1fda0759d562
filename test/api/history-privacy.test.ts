import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { testDb } from '../setup/db.ts';
import { createKey } from '../../server/auth/keys.ts';
import type { Db } from '../../server/db/types.ts';
import { appOn } from '../helpers/test-app.ts';

let db: Db;
let app: Express;
let editor: string;
let editorId: string;
let viewer: string;
let admin: string;
let featureId: number;
beforeAll(async () => {
  db = await testDb();
  app = appOn(db);
  const e = await createKey(db, { name: 'planner Chen', role: 'editor' });
  editor = `Bearer ${e.key}`;
  editorId = e.record.id;
  viewer = `Bearer ${(await createKey(db, { name: 'wall', role: 'viewer' })).key}`;
  admin = `Bearer ${(await createKey(db, { name: 'ops', role: 'admin' })).key}`;
  const p = await db.query<{ x: number; y: number }>("SELECT ST_X(p) AS x, ST_Y(p) AS y FROM (SELECT ST_PointOnSurface(geom) AS p FROM districts WHERE id = 'huadu') s");
  const created = await request(app)
    .post('/ogc/collections/risk_points/items')
    .set('authorization', editor)
    .send({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [p.rows[0].x, p.rows[0].y] },
      properties: { name_zh: '历史测试点', district_id: 'huadu', level: 'orange', category: 'gas', responsible_unit: '花都区应急管理局' },
    })
    .expect(201);
  featureId = Number(created.body.id);
  const etag = created.headers.etag;
  await request(app)
    .patch(`/ogc/collections/risk_points/items/${featureId}`)
    .set('authorization', editor)
    .set('if-match', etag)
    .send({ type: 'Feature', properties: { level: 'red' } })
    .expect(200);
});
afterAll(async () => db?.close());

const history = (auth: string) => request(app).get(`/ogc/collections/risk_points/items/${featureId}/history`).set('authorization', auth).expect(200);

describe('feature history: who made a change', () => {
  it('viewers see a stable pseudonym, never the key id or its name', async () => {
    const r = await history(viewer);
    const actors = r.body.history.map((h: { actor: string }) => h.actor);
    expect(actors).toHaveLength(2);
    expect(actors[0]).toMatch(/^key#[0-9a-f]{10}$/);
    expect(actors[1]).toBe(actors[0]); // the same key, recognisably
    expect(r.text).not.toContain(editorId);
    expect(r.text).not.toContain('planner Chen');
    // Stable across requests (and processes: it depends on the key id only).
    expect((await history(viewer)).body.history[0].actor).toBe(actors[0]);
  });

  it.each([
    ['editors', () => editor],
    ['admins', () => admin],
  ])('%s see the key id and name', async (_who, auth) => {
    const r = await history(auth());
    expect(r.body.history[0].actor).toBe(`key:${editorId} (planner Chen)`);
  });

  it('anonymous callers get no history at all (401)', async () => {
    const r = await request(app).get(`/ogc/collections/risk_points/items/${featureId}/history`);
    expect(r.status).toBe(401);
  });
});

describe('inspections and assessments: who recorded them', () => {
  let pointId: number;
  let sourceId: number;
  beforeAll(async () => {
    pointId = Number((await db.query<{ id: number }>("SELECT id::int8 AS id FROM risk_points WHERE district_id = 'huadu' AND deleted_at IS NULL ORDER BY id LIMIT 1")).rows[0].id);
    sourceId = Number((await db.query<{ id: number }>("SELECT id::int8 AS id FROM hazard_sources WHERE district_id = 'huadu' AND deleted_at IS NULL ORDER BY id LIMIT 1")).rows[0].id);
    await request(app).post(`/risk/points/${pointId}/inspections`).set('authorization', editor).send({ date: '2026-10-01', inspector: '王检查' }).expect(201);
    await request(app)
      .put(`/risk/hazard-sources/${sourceId}/substances`)
      .set('authorization', editor)
      .send({ people_exposed: 10, substances: [{ name_zh: '甲醇', q_t: 60, threshold_t: 500 }] })
      .expect(200);
  });
  const inspections = (auth?: string) => {
    const r = request(app).get(`/risk/points/${pointId}/inspections`);
    return (auth ? r.set('authorization', auth) : r).expect(200);
  };
  const pseudonym = async () => (await history(viewer)).body.history[0].actor as string;

  it('viewers and anonymous callers see recorded_by as the same pseudonym as in history', async () => {
    for (const r of [await inspections(viewer), await inspections()]) {
      expect(r.body.inspections[0].recorded_by).toBe(await pseudonym());
      expect(r.text).not.toContain(editorId);
      expect(r.text).not.toContain('planner Chen');
    }
  });

  it('the inspection inside a history entry names its recorder the same way', async () => {
    const r = await request(app).get(`/ogc/collections/risk_points/items/${pointId}/history`).set('authorization', viewer).expect(200);
    const last = r.body.history.at(-1);
    expect(last.after.inspection.recorded_by).toBe(await pseudonym());
    expect(r.text).not.toContain(editorId);
    expect(r.text).not.toContain('planner Chen');
  });

  it('viewers see assessed_by as the pseudonym', async () => {
    const r = await request(app).get(`/risk/hazard-sources/${sourceId}/assessment`).set('authorization', viewer).expect(200);
    expect(r.body.assessed_by).toBe(await pseudonym());
    expect(r.text).not.toContain(editorId);
    expect(r.text).not.toContain('planner Chen');
  });

  it('editors and admins see the key id and name', async () => {
    for (const auth of [editor, admin]) {
      expect((await inspections(auth)).body.inspections[0].recorded_by).toBe(`key:${editorId} (planner Chen)`);
      const a = await request(app).get(`/risk/hazard-sources/${sourceId}/assessment`).set('authorization', auth).expect(200);
      expect(a.body.assessed_by).toBe(`key:${editorId} (planner Chen)`);
    }
  });
});
