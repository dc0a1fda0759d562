/**
 * Generic coverage of a point layer on the grid fixture (layout in coverage.test.ts):
 * a fire station at the centre of cell (2,1). Within 400 m: col 2 (900) and the
 * cells straight east and west, (1,1) 200 and (3,1) 200 — the diagonals are 424 m away.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { testApp } from '../helpers/test-app.ts';
import type { Db } from '../../server/db/types.ts';
import { fixtureToLonLat, loadGridFixture } from './fixture-db.ts';

let db: Db;
let app: Express;
beforeAll(async () => {
  ({ db, app } = await testApp());
  await loadGridFixture(db);
  const [lon, lat] = fixtureToLonLat([101, 23], 750, 450);
  const [lon2, lat2] = fixtureToLonLat([101, 23], 2250, 150);
  await db.query(
    `INSERT INTO resources (district_id, street_id, name_zh, kind, synthetic, geom) VALUES
       ('fixture_grid', 'fixture_grid-west', '测试消防站', 'fire_station', true, ST_SetSRID(ST_MakePoint($1, $2), 4326)),
       ('fixture_grid', 'fixture_grid-east', '测试救援队', 'rescue_team', true, ST_SetSRID(ST_MakePoint($3, $4), 4326))`,
    [lon, lat, lon2, lat2],
  );
  await db.query('UPDATE data_version SET version = version + 1');
});
afterAll(async () => db?.close());

const get = (q: string) => request(app).get(`/analysis/resource-coverage?district=fixture_grid${q}`);

describe('GET /analysis/resource-coverage', () => {
  it('residents within a radius of a kind of resource, per street and in total, against a one-per-N target', async () => {
    const { body } = await get('&kind=fire_station&radius=400&target_residents_per_resource=1000').expect(200);
    expect(body.total).toMatchObject({ residents: 4200, covered_residents: 1300, resources: 1, residents_per_resource: 4200, meets_target: false, resources_needed: 5, resources_short: 4 });
    const west = body.units.find((u: { id: string }) => u.id === 'fixture_grid-west');
    expect(west).toMatchObject({ residents: 1800, covered_residents: 1100, resources: 1 });
    expect(body.parameters).toMatchObject({ layer: 'resources', kind: 'fire_station', radius_m: 400, radius_source: 'radius' });
  });

  it('minutes at a speed: 1 minute at the default 500 m/min reaches the diagonals too (cols 1–3)', async () => {
    const a = await get('&kind=fire_station&minutes=1').expect(200);
    expect(a.body.total.covered_residents).toBe(600 + 900 + 400);
    expect(a.body.parameters).toMatchObject({ radius_m: 500, minutes: 1, speed_m_per_min: 500, radius_source: 'minutes × speed' });
    const b = await get('&kind=fire_station&minutes=1&speed=400').expect(200);
    expect(b.body.total.covered_residents).toBe(1300);
  });

  it('every kind when none is given; other point layers too', async () => {
    const all = await get('&radius=400').expect(200);
    expect(all.body.total.resources).toBe(2);
    const shelters = await get('&layer=shelters&radius=500').expect(200);
    expect(shelters.body.total.covered_residents).toBe(4200 - 900); // all three shelters, closed one included: only col 2 is out of reach
  });

  it('refuses bad layers, kinds and radii by name', async () => {
    for (const [q, param] of [
      ['&kind=fire_station', 'radius'],
      ['&kind=castle&radius=100', 'kind'],
      ['&layer=streets&radius=100', 'layer'],
      ['&layer=hazard_sources&radius=100', 'layer'],
      ['&radius=100&minutes=2', 'minutes'],
      ['&minutes=200', 'minutes'],
      ['&radius=0', 'radius'],
    ]) {
      const r = await get(q).expect(400);
      expect(JSON.parse(r.text).param, q).toBe(param);
    }
    await request(app).get('/analysis/resource-coverage?district=atlantis&radius=100').expect(404);
  });
});
