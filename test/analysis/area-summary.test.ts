/**
 * POST /analysis/area-summary on the grid fixture (layout in coverage.test.ts):
 * cols 0–1 hold 900 residents and S1; col 2 holds 900.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { testApp } from '../helpers/test-app.ts';
import type { Db } from '../../server/db/types.ts';
import { areaSummary } from '../../server/analysis/area-summary.ts';
import { ANONYMOUS } from '../../catalog/access.ts';
import { fixtureToLonLat, loadGridFixture } from './fixture-db.ts';

let db: Db;
let app: Express;
const origin: [number, number] = [101, 23];
beforeAll(async () => {
  ({ db, app } = await testApp());
  await loadGridFixture(db);
});
afterAll(async () => db?.close());

/** A rectangle in fixture metres. */
const rect = (x0: number, y0: number, x1: number, y1: number) => ({
  type: 'Polygon',
  coordinates: [[fixtureToLonLat(origin, x0, y0), fixtureToLonLat(origin, x1, y0), fixtureToLonLat(origin, x1, y1), fixtureToLonLat(origin, x0, y1), fixtureToLonLat(origin, x0, y0)]],
});
const summary = (body: unknown) => request(app).post('/analysis/area-summary').send(body as object);

describe('POST /analysis/area-summary', () => {
  it('sums residents, shelters and units inside a drawn polygon', async () => {
    const { body } = await summary(rect(0, 0, 600, 900)).expect(200);
    expect(body.residents).toBe(900);
    expect(body.population_cells).toBe(6);
    expect(body.area_m2).toBeGreaterThan(540_000 * 0.995);
    expect(body.area_m2).toBeLessThan(540_000 * 1.005);
    expect(body.shelters).toMatchObject({ total: 1, by_class: { emergency: 1 }, by_status: { open: 1 }, effective_area_m2: 600, capacity: 500, occupancy: 0, free_capacity: 500, area_per_resident_m2: 0.667 });
    expect(body.units.districts.map((u: { id: string }) => u.id)).toEqual(['fixture_grid']);
    expect(body.units.streets.map((u: { id: string }) => u.id)).toEqual(['fixture_grid-west']);
    // the community next door shares only the boundary: not included
    expect(body.units.communities.map((u: { id: string }) => u.id)).toEqual(['fixture_grid-wa']);
    expect(body.risk_points).toEqual({ total: 0, by_level: { red: 0, orange: 0, yellow: 0, blue: 0 } });
    expect(body.hazard_sources).toBeNull();
    expect(body.restricted).toEqual(['hazard_sources']);
  });

  it('apportions residents of cells cut by the boundary by area; accepts a Feature and a MultiPolygon', async () => {
    const half = await summary({ type: 'Feature', properties: {}, geometry: rect(0, 0, 750, 900) }).expect(200);
    expect(half.body.residents).toBe(900 + 450);
    const multi = await summary({ type: 'MultiPolygon', coordinates: [rect(0, 0, 300, 300).coordinates, rect(2100, 0, 2400, 300).coordinates] }).expect(200);
    expect(multi.body.residents).toBe(100 + 0);
    expect(multi.body.units.communities.map((u: { id: string }) => u.id)).toEqual(['fixture_grid-eb', 'fixture_grid-wa']);
  });

  it('counts risk points by level and shows hazard sources to callers allowed to see them', async () => {
    const [lon, lat] = fixtureToLonLat(origin, 150, 150);
    await db.query(
      `INSERT INTO risk_points (district_id, name_zh, category, level, responsible_unit, synthetic, geom)
       VALUES ('fixture_grid', '测试风险点', 'fire', 'red', '测试单位', true, ST_SetSRID(ST_MakePoint($1, $2), 4326)),
              ('fixture_grid', '测试风险点2', 'gas', 'blue', '测试单位', true, ST_SetSRID(ST_MakePoint($1, $2), 4326))`,
      [lon, lat],
    );
    await db.query(
      `INSERT INTO hazard_sources (district_id, name_zh, kind, major_hazard, level, synthetic, geom) VALUES ('fixture_grid', '测试企业', 'storage', true, 'orange', true, ST_SetSRID(ST_MakePoint($1, $2), 4326))`,
      [lon, lat],
    );
    await db.query('UPDATE data_version SET version = version + 1');
    const { body } = await summary(rect(0, 0, 600, 900)).expect(200);
    expect(body.risk_points).toEqual({ total: 2, by_level: { red: 1, orange: 0, yellow: 0, blue: 1 } });
    expect(body.hazard_sources).toBeNull();
    const privileged = await areaSummary(db, JSON.stringify(rect(0, 0, 600, 900)), { ...ANONYMOUS, canSeeRestricted: true, role: 'viewer' }, ['open', 'standby', 'full']);
    expect(privileged.hazard_sources).toEqual({ total: 1, by_level: { red: 0, orange: 1, yellow: 0, blue: 0 }, major_hazard: 1 });
    expect(privileged.restricted).toEqual([]);
  });

  it('refuses what is not a valid polygon of reasonable size, naming the field', async () => {
    const bowtie = { type: 'Polygon', coordinates: [[[101, 23], [101.01, 23.01], [101.01, 23], [101, 23.01], [101, 23]]] };
    const huge = { type: 'Polygon', coordinates: [[[100, 20], [101, 20], [101, 21], [100, 21], [100, 20]]] };
    const cases: [unknown, string, RegExp][] = [
      [{ type: 'Point', coordinates: [101, 23] }, 'type', /Polygon/],
      [{ type: 'Polygon', coordinates: [[[101, 23], [101.01, 23], [101.01, 23.01], [101, 23.01]]] }, 'coordinates.0', /end where it starts/],
      [{ type: 'Polygon', coordinates: [[[101, 23], [101.01, 23], [101, 23]]] }, 'coordinates.0', /at least 4/],
      [{ type: 'Polygon', coordinates: [[[201, 23], [101.01, 23], [101.01, 23.01], [201, 23]]] }, 'coordinates.0.0', /lon/],
      [bowtie, 'body', /not valid/i],
      [{ type: 'Feature', geometry: bowtie }, 'geometry', /not valid/i],
      [huge, 'body', /at most 2500 km²/],
      [{}, 'type', /./],
    ];
    for (const [body, param, detail] of cases) {
      const r = await summary(body).expect(400).expect('content-type', /problem\+json/);
      const problem = JSON.parse(r.text);
      expect(problem.param, JSON.stringify(body)).toBe(param);
      expect(problem.detail).toMatch(detail);
    }
  });
});
