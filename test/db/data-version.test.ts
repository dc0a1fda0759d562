import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { testApp, type TestApp } from '../helpers/test-app.ts';
import { bumpDataVersion } from '../../server/db/data-version.ts';

/**
 * Rows written directly in SQL (psql, an ETL job) move the data version, once per
 * transaction (migration 010), so caches keyed on it answer from the new data;
 * writes through the server still move it by exactly one.
 */
let t: TestApp<'editor'>;
beforeAll(async () => {
  t = await testApp({ keys: { editor: 'editor' } });
});
afterAll(() => t?.close());

const version = async () => Number((await t.db.query<{ v: number }>('SELECT version AS v FROM data_version')).rows[0].v);
const insertShelter = `INSERT INTO shelters (district_id, name_zh, setting, shelter_class, effective_area_m2, capacity, geom)
  VALUES ('huadu', '直接写入的场所', 'outdoor', 'fixed', 12000, 8000, ST_SetSRID(ST_MakePoint(113.22, 23.40), 4326))`;

describe('the data version and writes made in SQL', () => {
  it('one statement on a feature table moves it by one', async () => {
    const v0 = await version();
    await t.db.query(insertShelter);
    expect(await version()).toBe(v0 + 1);
    await t.db.query("UPDATE shelters SET capacity = capacity + 1 WHERE name_zh = '直接写入的场所'");
    expect(await version()).toBe(v0 + 2);
    await t.db.query("DELETE FROM shelters WHERE name_zh = '直接写入的场所'");
    expect(await version()).toBe(v0 + 3);
  });

  it('a transaction writing several tables moves it by one, and the server’s own bump in it gets that version', async () => {
    const v0 = await version();
    const inTx = await t.db.tx(async (q) => {
      await q.query(insertShelter);
      await q.query("UPDATE risk_points SET responsible_unit = responsible_unit WHERE id = (SELECT min(id) FROM risk_points)");
      await q.query("UPDATE streets SET name_en = name_en WHERE district_id = 'huadu'");
      return bumpDataVersion(q);
    });
    expect(inTx).toBe(v0 + 1);
    expect(await version()).toBe(v0 + 1);
    // …and nothing moves when the transaction is rolled back
    await expect(
      t.db.tx(async (q) => {
        await q.query(insertShelter);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await version()).toBe(v0 + 1);
  });

  it('an edit through the API still moves it by exactly one', async () => {
    const v0 = await version();
    const p = (await t.db.query<{ x: number; y: number }>("SELECT ST_X(p) AS x, ST_Y(p) AS y FROM (SELECT ST_PointOnSurface(geom) AS p FROM districts WHERE id = 'huadu') s")).rows[0];
    const r = await request(t.app)
      .post('/ogc/collections/risk_points/items')
      .set('authorization', t.bearer.editor)
      .send({ type: 'Feature', geometry: { type: 'Point', coordinates: [p.x, p.y] }, properties: { name_zh: '版本测试点', district_id: 'huadu', level: 'blue', category: 'gas', responsible_unit: '花都区应急管理局' } })
      .expect(201);
    expect(await version()).toBe(v0 + 1);
    const audit = await t.db.query<{ data_version: number }>("SELECT data_version FROM audit_log WHERE layer = 'risk_points' AND feature_id = $1", [String(r.body.id)]);
    expect(Number(audit.rows[0].data_version)).toBe(v0 + 1);
  });

  it('a cached OGC count sees a row inserted in SQL', async () => {
    const matched = async () => (await request(t.app).get('/ogc/collections/shelters/items?limit=1&numberMatched=exact').expect(200)).body.numberMatched as number;
    const before = await matched();
    expect(await matched()).toBe(before); // now cached
    await t.db.query(insertShelter);
    expect(await matched()).toBe(before + 1);
  });
});
