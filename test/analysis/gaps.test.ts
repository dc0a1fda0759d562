/**
 * Coverage gaps on the grid fixture (layout in coverage.test.ts). Uncovered
 * populated cells: col 2 (3 cells, 900 residents) and cols 6–7 without the two
 * empty cells (4 cells, 1000 residents) — two separate polygons, larger first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import * as turf from '@turf/turf';
import { testApp } from '../helpers/test-app.ts';
import type { Db } from '../../server/db/types.ts';
import { dissolveGaps } from '../../server/analysis/gaps.ts';
import type { AnalysisServices } from '../../server/analysis/service.ts';
import { cellId, expectGolden, fixtureToLonLat, loadGridFixture } from './fixture-db.ts';

let db: Db;
let app: Express;
const origin: [number, number] = [101.0, 23.0];
beforeAll(async () => {
  ({ db, app } = await testApp());
  await loadGridFixture(db);
});
afterAll(async () => db?.close());

describe('GET /analysis/coverage/gaps', () => {
  it('returns the uncovered areas as dissolved polygons with their residents, largest first', async () => {
    const { body } = await request(app).get('/analysis/coverage/gaps?district=fixture_grid').expect(200);
    expect(body.uncovered_residents).toBe(1900);
    expect(body.gap_count).toBe(2);
    expect(body.gaps.map((g: { rank: number; residents: number; cells: number }) => [g.rank, g.residents, g.cells])).toEqual([
      [1, 1000, 4],
      [2, 900, 3],
    ]);
    const [east, west] = body.gaps;
    expect(east.geometry.type).toBe('Polygon');
    expect(east.area_m2).toBeGreaterThan(360_000 * 0.995);
    expect(east.area_m2).toBeLessThan(360_000 * 1.005);
    expect(west.area_m2).toBeCloseTo(270_000, -3);
    // the western gap is exactly column 2: x 600–900 m, y 0–900 m
    const [minX, minY, maxX, maxY] = turf.bbox(west.geometry);
    const [x0, y0] = fixtureToLonLat(origin, 600, 0);
    const [x1, y1] = fixtureToLonLat(origin, 900, 900);
    expect([minX, minY, maxX, maxY].map((v) => v.toFixed(5))).toEqual([x0, y0, x1, y1].map((v) => v.toFixed(5)));
    expect(body.parameters.radii_m.emergency).toBe(500);
    const { links: _l, parameters: { data_version: _v, ...params }, gaps, ...rest } = body;
    expectGolden('grid-gaps', { ...rest, parameters: params, gaps: gaps.map(({ geometry: _g, ...g }: { geometry: unknown }) => g) });
  });

  it('agrees with the coverage table for any parameters: gap residents add up to the uncovered residents', async () => {
    for (const q of ['', '&radius=200', '&shelter_status=standby', '&radius_emergency=350', '&shelter_status=open,closed']) {
      const gaps = await request(app).get(`/analysis/coverage/gaps?district=fixture_grid${q}`).expect(200);
      const cov = await request(app).get(`/analysis/coverage?district=fixture_grid${q}`).expect(200);
      expect(gaps.body.uncovered_residents, q).toBe(cov.body.total.uncovered_residents);
    }
    const none = await request(app).get('/analysis/coverage/gaps?district=fixture_grid&shelter_status=standby').expect(200);
    expect(none.body.gaps).toHaveLength(1);
    expect(none.body.gaps[0].residents).toBe(4200);
    const all = await request(app).get('/analysis/coverage/gaps?district=fixture_grid&shelter_status=open,closed').expect(200);
    expect(all.body).toMatchObject({ uncovered_residents: 0, gap_count: 0, gaps: [] });
  });

  it('f=geojson is a FeatureCollection with stable ids; limit keeps the largest', async () => {
    const r = await request(app).get('/analysis/coverage/gaps?district=fixture_grid&f=geojson&limit=1').expect(200).expect('content-type', /geo\+json/);
    expect(r.body.type).toBe('FeatureCollection');
    expect(r.body.features).toHaveLength(1);
    expect(r.body.features[0]).toMatchObject({ type: 'Feature', id: 'fixture_grid-1', properties: { district_id: 'fixture_grid', rank: 1, residents: 1000, cells: 4 } });
    expect(r.body.uncovered_residents).toBe(1900);
  });

  it('cells touching only at a corner are separate gaps, each cell counted once', async () => {
    const gaps = await dissolveGaps(db, [cellId(5, 0), cellId(6, 1)]);
    expect(gaps.map((g) => g.residents)).toEqual([400, 100]);
  });
});

describe('gapFeatures (the coverage_gaps layer)', () => {
  it('gives the same gaps as the endpoint, for one district or all', async () => {
    const { coverage } = app.locals.analysis as AnalysisServices;
    const one = await coverage.gapFeatures({ district: 'fixture_grid' }, undefined);
    expect(one.features.map((f) => [f.id, f.properties.residents])).toEqual([
      ['fixture_grid-1', 1000],
      ['fixture_grid-2', 900],
    ]);
    expect(one.features[0].properties).toMatchObject({ district_id: 'fixture_grid', rank: 1, cells: 4, synthetic: true });
    const all = await coverage.gapFeatures({}, undefined);
    expect(all.features.filter((f) => f.properties.district_id === 'fixture_grid')).toEqual(one.features);
    // 700 m reaches all of col 2 (600 m, or 671 m diagonally) and col 6 from S2; col 7 (900 m) stays uncovered
    const wider = await coverage.gapFeatures({ district: 'fixture_grid' }, undefined, { radii: { emergency: 700 } });
    expect(wider.features.map((f) => f.properties.residents)).toEqual([200]);
  });
});
