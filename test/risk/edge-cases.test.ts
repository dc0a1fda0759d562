/**
 * Hand-worked edge cases of exposure, scenarios, the area summary and nearest
 * shelters, on the grid fixture (layout in test/analysis/coverage.test.ts:
 * 300 m cells, 8 columns × 3 rows; S1 open at (150, 450) m, S2 open at
 * (1350, 450), S3 closed at (2250, 450)) with a neighbouring district east of
 * it (x 2400–3300 m) whose box overlaps the fixture district's grown box.
 *
 * Flood-prone spots, all active and flooding above 40 mm/h:
 * - F1 (own, east street) at (1410, 450): 60 m from S2, inside its 100 m zone;
 * - F2 (own, east street) at (2300, 450): 50 m from the closed S3;
 * - F3 (neighbour's) at (2500, 450): 100 m across the border, 250 m from S3.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { testDb } from '../setup/db.ts';
import { appOn } from '../helpers/test-app.ts';
import type { Db } from '../../server/db/types.ts';
import { fixtureToLonLat, loadGridFixture } from '../analysis/fixture-db.ts';

const origin: [number, number] = [101, 23];
const at = (x: number, y: number) => fixtureToLonLat(origin, x, y);
const rect = (x0: number, y0: number, x1: number, y1: number) => ({ type: 'Polygon', coordinates: [[at(x0, y0), at(x1, y0), at(x1, y1), at(x0, y1), at(x0, y0)]] });
const [F1, F2, F3] = [990001, 990002, 990003];
const [S1, S2, S3] = [900001, 900002, 900003];

let db: Db;
let app: Express;
beforeAll(async () => {
  db = await testDb();
  await loadGridFixture(db);
  const next = JSON.stringify({ type: 'MultiPolygon', coordinates: [rect(2400, 0, 3300, 900).coordinates] });
  await db.tx(async (q) => {
    await q.query(
      `INSERT INTO districts (id, adcode, name_zh, name_en, city_zh, city_en, population, population_source, shelter_target_m2, target_source, synthetic, source, geom)
       VALUES ('fixture_next', 999903, '测试邻区', 'Fixture Next District', '测试市', 'Fixture City', 0, 'fixture', 1.5, 'fixture', true, 'test fixture', ST_GeomFromGeoJSON($1))`,
      [next],
    );
    await q.query(`INSERT INTO streets (id, district_id, name_zh, name_en, kind, population, synthetic, geom) VALUES ('fixture_next-s', 'fixture_next', '邻街道', 'Next Subdistrict', 'street', 0, true, ST_GeomFromGeoJSON($1))`, [next]);
    const spot = (id: number, district: string, street: string, x: number) =>
      q.query(
        `INSERT INTO flood_points (id, district_id, street_id, name_zh, kind, threshold_mm_h, status, synthetic, geom)
         VALUES ($1, $2, $3, $4, 'waterlogging', 40, 'active', true, ST_SetSRID(ST_MakePoint($5, $6), 4326))`,
        [id, district, street, `内涝点${id}`, ...at(x, 450)],
      );
    await spot(F1, 'fixture_grid', 'fixture_grid-east', 1410);
    await spot(F2, 'fixture_grid', 'fixture_grid-east', 2300);
    await spot(F3, 'fixture_next', 'fixture_next-s', 2500);
    await q.query('UPDATE data_version SET version = version + 1');
  });
  app = appOn(db);
});
afterAll(async () => db?.close());

describe('scenario: a neighbouring district’s hazards are counted apart', () => {
  it('41 mm/h floods F1, F2 and F3; only F1 and F2 are the district’s, F3 is listed as a neighbour’s; alert streets are the district’s own', async () => {
    const { body } = await request(app).post('/analysis/scenario').send({ district: 'fixture_grid', rainfall_mm_h: 41 }).expect(200);
    expect(body.flood_points.considered).toBe(2);
    expect(body.flood_points.active.map((f: { id: number }) => f.id)).toEqual([F1, F2]);
    expect(body.neighbouring_hazards.flood_points).toEqual({
      considered: 1,
      active: [{ id: F3, district_id: 'fixture_next', name_zh: `内涝点${F3}`, kind: 'waterlogging', threshold_mm_h: 40, rainfall_mm_h: 41 }],
    });
    expect(body.neighbouring_hazards.shelters_closed).toEqual([]);
    expect(body.alert_streets).toEqual(['fixture_grid-east']);
    expect(body.shelters.closed.map((s: { id: number }) => s.id)).toEqual([S2]);
    expect(body.shelters.already_closed).toEqual([S3]);
  });

  it('a shelter closed by a neighbour’s spot says so', async () => {
    // a spot of the neighbour 40 m east of the border, 190 m from S3 — S3 is closed, so move S3's status to open
    await db.query(`UPDATE shelters SET status = 'open' WHERE id = $1`, [S3]);
    await db.query(`UPDATE flood_points SET geom = ST_SetSRID(ST_MakePoint($1, $2), 4326) WHERE id = $3`, [...at(2300, 450), F3]);
    await db.query(`UPDATE flood_points SET deleted_at = now() WHERE id = $1`, [F2]);
    await db.query('UPDATE data_version SET version = version + 1');
    try {
      const { body } = await request(app).post('/analysis/scenario').send({ district: 'fixture_grid', rainfall_mm_h: 41 }).expect(200);
      expect(body.flood_points.active.map((f: { id: number }) => f.id)).toEqual([F1]);
      expect(body.neighbouring_hazards.shelters_closed).toEqual([S3]);
      const s3 = body.shelters.closed.find((s: { id: number }) => s.id === S3);
      expect(s3.reasons[0]).toMatchObject({ hazard: 'flood_point', id: F3, neighbouring_district: 'fixture_next', flag: 'unusable' });
    } finally {
      await db.query(`UPDATE shelters SET status = 'closed' WHERE id = $1`, [S3]);
      await db.query(`UPDATE flood_points SET geom = ST_SetSRID(ST_MakePoint($1, $2), 4326) WHERE id = $3`, [...at(2500, 450), F3]);
      await db.query(`UPDATE flood_points SET deleted_at = NULL WHERE id = $1`, [F2]);
      await db.query('UPDATE data_version SET version = version + 1');
    }
  });
});

describe('exposure: a closed shelter is out of service, not "unusable"', () => {
  it('S2 is unusable (60 m from F1); S3 lies 50 m from F2 but is closed: counted apart', async () => {
    const { body } = await request(app).get('/analysis/exposure?district=fixture_grid').expect(200);
    expect(body.shelters).toMatchObject({ total: 3, closed: 1, closed_ids: [S3], unusable: 1, at_risk: 0, not_flagged: 1 });
    expect(body.shelters.flagged.map((s: { id: number; flag: string }) => [s.id, s.flag])).toEqual([[S2, 'unusable']]);
    expect(body.coverage.excluded_shelters).toEqual([S2]);
  });
});

describe('area summary: the statuses coverage counts', () => {
  it('the east end holds only the closed S3: listed, but no area or capacity counted', async () => {
    const { body } = await request(app).post('/analysis/area-summary').send(rect(1500, 0, 2400, 900)).expect(200);
    expect(body.shelters).toMatchObject({
      total: 1,
      by_status: { closed: 1 },
      statuses_counted: ['open', 'standby', 'full'],
      counted: 0,
      effective_area_m2: 0,
      capacity: 0,
      occupancy: 0,
      free_capacity: 0,
      area_per_resident_m2: 0,
    });
  });

  it('shelter_status=closed counts it when asked; a bad status or unknown parameter is refused by name', async () => {
    const { body } = await request(app).post('/analysis/area-summary?shelter_status=open,closed').send(rect(1500, 0, 2400, 900)).expect(200);
    expect(body.shelters).toMatchObject({ statuses_counted: ['open', 'closed'], counted: 1, capacity: 2000, effective_area_m2: 3000 });
    const bad = await request(app).post('/analysis/area-summary?shelter_status=shut').send(rect(1500, 0, 2400, 900)).expect(400);
    expect(JSON.parse(bad.text).param).toBe('shelter_status');
    const unknown = await request(app).post('/analysis/area-summary?status=open').send(rect(1500, 0, 2400, 900)).expect(400);
    expect(JSON.parse(unknown.text).param).toBe('status');
  });
});

describe('nearest shelters never point into a hazard zone unless asked', () => {
  const [lon, lat] = at(1050, 450); // S2 300 m east (60 m from F1), S1 900 m west
  it('S2 is left out by default; include_exposed=true lists it with the zone it lies in', async () => {
    const safe = await request(app).get(`/analysis/nearest-shelters?lon=${lon}&lat=${lat}&n=2&district=fixture_grid`).expect(200);
    expect(safe.body.shelters.map((s: { id: number }) => s.id)).toEqual([S1]);
    expect(safe.body.parameters.include_exposed).toBe(false);
    expect(safe.body.shelters[0]).not.toHaveProperty('hazard_zone');
    const all = await request(app).get(`/analysis/nearest-shelters?lon=${lon}&lat=${lat}&n=2&district=fixture_grid&include_exposed=true`).expect(200);
    expect(all.body.shelters.map((s: { id: number }) => s.id)).toEqual([S2, S1]);
    expect(all.body.shelters[0].hazard_zone).toMatchObject({ hazard: 'flood_point', id: F1, within_m: 100 });
    expect(all.body.shelters[0].hazard_zone.distance_m).toBeCloseTo(60, 0);
    expect(all.body.shelters[1].hazard_zone).toBeNull();
    const batch = await request(app).post('/analysis/nearest-shelters').send({ points: [[lon, lat]], n: 1, district: 'fixture_grid' }).expect(200);
    expect(batch.body.results[0].shelters.map((s: { id: number }) => s.id)).toEqual([S1]);
    const batchAll = await request(app).post('/analysis/nearest-shelters').send({ points: [[lon, lat]], n: 1, district: 'fixture_grid', include_exposed: true }).expect(200);
    expect(batchAll.body.results[0].shelters[0]).toMatchObject({ id: S2, hazard_zone: { id: F1 } });
  });

  it('a treated spot is no hazard zone; a bad include_exposed is refused by name', async () => {
    await db.query(`UPDATE flood_points SET status = 'treated' WHERE id = $1`, [F1]);
    await db.query('UPDATE data_version SET version = version + 1');
    try {
      const r = await request(app).get(`/analysis/nearest-shelters?lon=${lon}&lat=${lat}&n=1&district=fixture_grid`).expect(200);
      expect(r.body.shelters.map((s: { id: number }) => s.id)).toEqual([S2]);
    } finally {
      await db.query(`UPDATE flood_points SET status = 'active' WHERE id = $1`, [F1]);
      await db.query('UPDATE data_version SET version = version + 1');
    }
    const bad = await request(app).get(`/analysis/nearest-shelters?lon=${lon}&lat=${lat}&include_exposed=maybe`).expect(400);
    expect(JSON.parse(bad.text).param).toBe('include_exposed');
    const badBody = await request(app).post('/analysis/nearest-shelters').send({ points: [[lon, lat]], include_exposed: 'yes' }).expect(400);
    expect(JSON.parse(badBody.text).param).toBe('include_exposed');
  });
});
