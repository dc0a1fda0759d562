/**
 * Nearest usable shelters. On the grid fixture (coverage.test.ts): from the
 * centre of cell (3,1), S2 is 300 m east and S1 900 m west; S3 is closed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { testApp } from '../helpers/test-app.ts';
import type { Db } from '../../server/db/types.ts';
import { fixtureToLonLat, loadGridFixture } from './fixture-db.ts';
import { mulberry32 } from './random.ts';

let db: Db;
let app: Express;
const [lon, lat] = fixtureToLonLat([101, 23], 1050, 450);
beforeAll(async () => {
  ({ db, app } = await testApp());
  await loadGridFixture(db);
});
afterAll(async () => db?.close());

const nearest = (query: string) => request(app).get(`/analysis/nearest-shelters?lon=${lon}&lat=${lat}${query}`);
const bump = () => db.query('UPDATE data_version SET version = version + 1');

describe('GET /analysis/nearest-shelters', () => {
  it('lists the nearest usable shelters with distance, walking time and free capacity', async () => {
    const { body } = await nearest('&n=2').expect(200);
    expect(body.shelters.map((s: { id: number }) => s.id)).toEqual([900002, 900001]);
    expect(body.shelters[0]).toMatchObject({ rank: 1, name_zh: '东甲广场', district_id: 'fixture_grid', status: 'open', capacity: 1200, occupancy: 300, free_capacity: 900, walking_minutes: 6 });
    expect(body.shelters[0].distance_m).toBeCloseTo(300, 0);
    expect(body.shelters[1].distance_m).toBeCloseTo(900, 0);
    expect(body.shelters[1].walking_minutes).toBe(18);
    expect(body.shelters[0]).not.toHaveProperty('contact_phone');
    expect(body.parameters).toMatchObject({ n: 2, shelter_status: ['open', 'standby'], include_full: false, walking_speed_m_per_min: 50 });
  });

  it('skips closed and full shelters unless full ones are asked for; honours district, max_distance and speed', async () => {
    const inDistrict = await nearest('&n=5&district=fixture_grid').expect(200);
    expect(inDistrict.body.shelters.map((s: { id: number }) => s.id)).toEqual([900002, 900001]); // S3 is closed
    await db.query(`UPDATE shelters SET occupancy = capacity WHERE id = 900002`);
    await bump();
    const full = await nearest('&n=1&district=fixture_grid').expect(200);
    expect(full.body.shelters.map((s: { id: number }) => s.id)).toEqual([900001]);
    const withFull = await nearest('&n=1&district=fixture_grid&include_full=true').expect(200);
    expect(withFull.body.shelters[0]).toMatchObject({ id: 900002, free_capacity: 0 });
    await db.query(`UPDATE shelters SET occupancy = 300 WHERE id = 900002`);
    await bump();
    const near = await nearest('&n=3&max_distance=500').expect(200);
    expect(near.body.shelters.map((s: { id: number }) => s.id)).toEqual([900002]);
    const fast = await nearest('&n=1&speed=100').expect(200);
    expect(fast.body.shelters[0].walking_minutes).toBe(3);
  });

  it('f=geojson gives points', async () => {
    const r = await nearest('&n=2&f=geojson').expect(200).expect('content-type', /geo\+json/);
    expect(r.body.features[0]).toMatchObject({ type: 'Feature', id: 900002, geometry: { type: 'Point' }, properties: { rank: 1, free_capacity: 900 } });
  });

  it('agrees with PostGIS ordering by geography distance for random points across the data (hazard zones left out)', async () => {
    const box = await db.query<{ x0: number; y0: number; x1: number; y1: number }>(
      `SELECT ST_XMin(e) AS x0, ST_YMin(e) AS y0, ST_XMax(e) AS x1, ST_YMax(e) AS y1 FROM (SELECT ST_Extent(geom)::geometry AS e FROM shelters WHERE district_id <> 'fixture_grid') t`,
    );
    const b = box.rows[0];
    if (b.x0 === null) return; // no demo shelters in this database
    // shelters inside the zone of an active flood-prone spot (100 m) or geohazard site (200 m), by PostGIS
    const exposed = await db.query<{ id: number }>(
      `SELECT s.id::int8 AS id FROM shelters s WHERE s.deleted_at IS NULL AND (
         EXISTS (SELECT 1 FROM flood_points f WHERE f.deleted_at IS NULL AND f.status = 'active' AND ST_DWithin(f.geom::geography, s.geom::geography, 100))
         OR EXISTS (SELECT 1 FROM geohazard_sites g WHERE g.deleted_at IS NULL AND g.status = 'active' AND ST_DWithin(g.geom::geography, s.geom::geography, 200)))`,
    );
    const left = exposed.rows.map((r) => Number(r.id));
    const rand = mulberry32(9);
    for (let t = 0; t < 25; t++) {
      const x = b.x0 + rand() * (b.x1 - b.x0), y = b.y0 + rand() * (b.y1 - b.y0);
      const ours = await request(app).get(`/analysis/nearest-shelters?lon=${x}&lat=${y}&n=4`).expect(200);
      const pg = await db.query<{ id: number; d: number }>(
        `SELECT id::int8 AS id, ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography) AS d FROM shelters
         WHERE deleted_at IS NULL AND status IN ('open', 'standby') AND capacity > occupancy AND NOT (id = ANY($3::int8[]))
         ORDER BY d, id LIMIT 4`,
        [x, y, left],
      );
      expect(ours.body.shelters.map((s: { id: number }) => s.id)).toEqual(pg.rows.map((r) => Number(r.id)));
      ours.body.shelters.forEach((s: { distance_m: number }, i: number) => expect(Math.abs(s.distance_m - pg.rows[i].d)).toBeLessThan(0.06));
    }
  });
});

describe('POST /analysis/nearest-shelters (batch)', () => {
  it('answers many points at once', async () => {
    const [lon2, lat2] = fixtureToLonLat([101, 23], 150, 150);
    const { body } = await request(app)
      .post('/analysis/nearest-shelters')
      .send({ points: [[lon, lat], [lon2, lat2]], n: 1, district: 'fixture_grid' })
      .expect(200);
    expect(body.results.map((r: { shelters: { id: number }[] }) => r.shelters[0].id)).toEqual([900002, 900001]);
    expect(body.results[1].shelters[0]).toMatchObject({ walking_minutes: 6, free_capacity: 500 });
  });

  it('refuses bad bodies by field', async () => {
    for (const [send, param] of [
      [{}, 'points'],
      [{ points: [] }, 'points'],
      [{ points: [[200, 23]] }, 'points.0.0'],
      [{ points: [[113, 23]], n: 0 }, 'n'],
    ] as const) {
      const r = await request(app).post('/analysis/nearest-shelters').send(send).expect(400);
      expect(JSON.parse(r.text).param, JSON.stringify(send)).toBe(param);
    }
    const unknown = await request(app).post('/analysis/nearest-shelters').send({ points: [[113, 23]], extra: 1 }).expect(400);
    expect(['extra', 'body']).toContain(JSON.parse(unknown.text).param);
  });
});
