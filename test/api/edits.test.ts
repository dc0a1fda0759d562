import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { testApp } from '../helpers/test-app.ts';
import type { Db } from '../../server/db/types.ts';

let db: Db;
let app: Express;
let editor: string;
let viewer: string;
let pingshanEditor: string;
beforeAll(async () => {
  ({ db, app, bearer: { editor, viewer, pingshanEditor } } = await testApp({ keys: { editor: { role: 'editor', name: 'planner Chen' }, viewer: 'viewer', pingshanEditor: { role: 'editor', districts: ['pingshan'], name: 'pingshan desk' } } }));
});
afterAll(async () => db?.close());

// A point well inside Huadu (its outline is tested in test/data).
const huaduPoint = async () => {
  const r = await db.query<{ x: number; y: number }>("SELECT ST_X(p) AS x, ST_Y(p) AS y FROM (SELECT ST_PointOnSurface(geom) AS p FROM districts WHERE id = 'huadu') s");
  return [r.rows[0].x, r.rows[0].y];
};

const riskFeature = (coordinates: number[], extra: Record<string, unknown> = {}) => ({
  type: 'Feature',
  geometry: { type: 'Point', coordinates },
  properties: { name_zh: '新增风险点', district_id: 'huadu', level: 'orange', category: 'gas', responsible_unit: '花都区应急管理局', ...extra },
});

/** Every table an edit could touch, summarised; a refused request must leave it unchanged. */
async function checksum(): Promise<string> {
  const r = await db.query<{ s: string }>(
    `SELECT md5(string_agg(t, '|' ORDER BY t)) AS s FROM (
       SELECT 'r' || id || level || version || coalesce(deleted_at::text, '') || ST_AsText(geom) AS t FROM risk_points
       UNION ALL SELECT 'a' || id FROM audit_log
       UNION ALL SELECT 'v' || version FROM data_version) x`,
  );
  return r.rows[0].s;
}

describe('OGC API Features Part 4 edits', () => {
  it('create → read back → update with If-Match → stale If-Match 412 → delete → restore, with history', async () => {
    const coords = await huaduPoint();
    const created = await request(app).post('/ogc/collections/risk_points/items').set('authorization', editor).send(riskFeature(coords)).expect(201);
    expect(created.headers.location).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/ogc\/collections\/risk_points\/items\/\d+$/);
    expect(created.headers.etag).toBe('"v1"');
    const id = created.body.id;
    expect(created.body.properties).toMatchObject({ name_zh: '新增风险点', level: 'orange', synthetic: false });

    // Read back through OGC items: the ETag there is the one If-Match expects.
    const read = await request(app).get(`/ogc/collections/risk_points/items/${id}`).expect(200);
    expect(read.headers.etag).toBe('"v1"');
    expect(read.body.properties.name_zh).toBe('新增风险点');

    const updated = await request(app)
      .patch(`/ogc/collections/risk_points/items/${id}`)
      .set('authorization', editor)
      .set('if-match', read.headers.etag)
      .send({ type: 'Feature', properties: { level: 'red' } })
      .expect(200);
    expect(updated.headers.etag).toBe('"v2"');
    expect(updated.body.properties.level).toBe('red');
    expect(updated.body.properties.name_zh).toBe('新增风险点');

    // A second planner still holding v1 loses nothing silently: 412.
    const stale = await request(app)
      .patch(`/ogc/collections/risk_points/items/${id}`)
      .set('authorization', editor)
      .set('if-match', '"v1"')
      .send({ type: 'Feature', properties: { level: 'blue' } })
      .expect(412);
    expect(JSON.parse(stale.text).currentEtag).toBe('"v2"');

    await request(app).delete(`/ogc/collections/risk_points/items/${id}`).set('authorization', editor).expect(428);
    await request(app).delete(`/ogc/collections/risk_points/items/${id}`).set('authorization', editor).set('if-match', '"v2"').expect(204);
    await request(app).get(`/ogc/collections/risk_points/items/${id}`).expect(404);
    await request(app).delete(`/ogc/collections/risk_points/items/${id}`).set('authorization', editor).set('if-match', '*').expect(404);

    const restored = await request(app).post(`/ogc/collections/risk_points/items/${id}/restore`).set('authorization', editor).expect(200);
    expect(restored.body.properties.level).toBe('red');

    const history = await request(app).get(`/ogc/collections/risk_points/items/${id}/history`).set('authorization', viewer).expect(200);
    expect(history.body.history.map((h: { operation: string }) => h.operation)).toEqual(['insert', 'update', 'delete', 'restore']);
    expect(history.body.history[1].before.level).toBe('orange');
    expect(history.body.history[1].after.level).toBe('red');
    // Viewers see a pseudonym for the key (test/api/history-privacy.test.ts); editors see who.
    expect(history.body.history[0].actor).toMatch(/^key#/);
    const audited = await request(app).get(`/ogc/collections/risk_points/items/${id}/history`).set('authorization', editor).expect(200);
    expect(audited.body.history[0].actor).toContain('planner Chen');
  });

  it('role and district matrix', async () => {
    const coords = await huaduPoint();
    await request(app).post('/ogc/collections/risk_points/items').send(riskFeature(coords)).expect(401);
    await request(app).post('/ogc/collections/risk_points/items').set('authorization', viewer).send(riskFeature(coords)).expect(403);
    await request(app).post('/ogc/collections/risk_points/items').set('authorization', pingshanEditor).send(riskFeature(coords)).expect(403);
    await request(app).post('/ogc/collections/districts/items').set('authorization', editor).send(riskFeature(coords)).expect(405);
    await request(app).post('/ogc/collections/no_such_layer/items').set('authorization', editor).send(riskFeature(coords)).expect(404);
  });

  it.each([
    ['a level outside the four colours', (c: number[]) => riskFeature(c, { level: 'purple' }), 400, 'properties.level'],
    ['an unknown field', (c: number[]) => riskFeature(c, { colour: 'red' }), 400, 'properties.colour'],
    ['a missing required field', (c: number[]) => ({ ...riskFeature(c), properties: { name_zh: 'x', district_id: 'huadu', level: 'red', category: 'gas' } }), 400, 'properties.responsible_unit'],
    ['a line where a point belongs', (c: number[]) => ({ ...riskFeature(c), geometry: { type: 'LineString', coordinates: [c, [c[0] + 0.01, c[1]]] } }), 400, 'geometry'],
    ['a NaN-like coordinate', () => ({ ...riskFeature([0, 0]), geometry: { type: 'Point', coordinates: [1e308, 23] } }), 400, 'geometry.coordinates.0'],
    ['a point 2,000 km away from its district', () => riskFeature([100.0, 40.0]), 422, 'geometry'],
    ['not a Feature at all', () => ({ hello: 'world' }), 400, 'type'],
  ])('%s is refused (%s) and the database is unchanged', async (_name, make, status, param) => {
    const coords = await huaduPoint();
    const before = await checksum();
    const r = await request(app).post('/ogc/collections/risk_points/items').set('authorization', editor).send(make(coords)).expect(status);
    expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(JSON.parse(r.text).param).toBe(param);
    expect(await checksum()).toBe(before);
  });

  it('a malformed JSON body and an oversized body are 4xx and change nothing', async () => {
    const before = await checksum();
    await request(app).post('/ogc/collections/risk_points/items').set('authorization', editor).set('content-type', 'application/json').send('{"type":').expect(400);
    const huge = JSON.stringify({ type: 'Feature', properties: { name_zh: 'x'.repeat(6 * 1024 * 1024) } });
    await request(app).post('/ogc/collections/risk_points/items').set('authorization', editor).set('content-type', 'application/json').send(huge).expect(413);
    expect(await checksum()).toBe(before);
  });

  it('a pipeline LineString is stored as the MultiLineString of its table', async () => {
    const [x, y] = await huaduPoint();
    const r = await request(app)
      .post('/ogc/collections/networks/items')
      .set('authorization', editor)
      .send({
        type: 'Feature',
        geometry: { type: 'LineString', coordinates: [[x, y], [x + 0.01, y + 0.01]] },
        properties: { name_zh: '测试管道', district_id: 'huadu', kind: 'gas_pipeline', diameter_mm: 300 },
      })
      .expect(201);
    expect(r.body.geometry.type).toBe('MultiLineString');
  });
});
