/**
 * 2SFCA / E2SFCA on the grid fixture (see coverage.test.ts for the layout).
 * Hand computation with the Gaussian kernel W(d) = (e^(−½(d/r)²) − e^(−½)) / (1 − e^(−½)), r = 500 m:
 *   S1 at col 0 row 1 reaches 100 residents at 0 m, 400 at 300 m, 400 at 300·√2 m
 *   S2 at col 4 row 1 reaches 400 at 0 m, 600 at 300 m, 400 at 300·√2 m
 *   R_j = area_j / Σ P·W;  A_i = Σ R_j·W(d_ij)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { testApp } from '../helpers/test-app.ts';
import type { Db } from '../../server/db/types.ts';
import { decayWeight, twoStepCatchment } from '../../server/analysis/catchment.ts';
import { computeReach, cellGrid } from '../../server/analysis/reach.ts';
import { expectGolden, loadGridFixture } from './fixture-db.ts';
import { mulberry32 } from './random.ts';

const gauss = (d: number, r = 500) => (Math.exp(-0.5 * (d / r) ** 2) - Math.exp(-0.5)) / (1 - Math.exp(-0.5));
const DIAG = 300 * Math.SQRT2;

let db: Db;
let app: Express;
beforeAll(async () => {
  ({ db, app } = await testApp());
  await loadGridFixture(db);
});
afterAll(async () => db?.close());

describe('decay kernels', () => {
  it('none is 1 inside the radius; gaussian falls from 1 to 0 at the radius; steps are 1, 0.68, 0.22 by thirds', () => {
    expect([0, 250, 500, 501].map((d) => decayWeight('none', d, 500))).toEqual([1, 1, 1, 0]);
    expect(decayWeight('gaussian', 0, 500)).toBe(1);
    expect(decayWeight('gaussian', 500, 500)).toBeCloseTo(0, 12);
    expect(decayWeight('gaussian', 300, 500)).toBeCloseTo(0.58134, 5);
    expect([100, 300, 450, 600].map((d) => decayWeight('steps', d, 500))).toEqual([1, 0.68, 0.22, 0]);
  });
});

describe('2SFCA on the grid', () => {
  it('classic 2SFCA: R1 = 600/900, R2 = 2100/1400 (coverage.test.ts checks the per-unit means)', async () => {
    const { body } = await request(app).get('/analysis/coverage?district=fixture_grid&shelters=true').expect(200);
    expect(body.shelters.map((s: { catchment_m2_per_resident: number }) => s.catchment_m2_per_resident)).toEqual([0.6667, 1.5]);
  });

  it('Gaussian E2SFCA: ratios and community means by hand', async () => {
    const { body } = await request(app).get('/analysis/coverage?district=fixture_grid&unit=community&decay=gaussian&shelters=true').expect(200);
    const d1 = 100 + 400 * gauss(300) + 400 * gauss(DIAG);
    const d2 = 400 + 600 * gauss(300) + 400 * gauss(DIAG);
    const r1 = 600 / d1, r2 = 2100 / d2;
    expect(body.shelters[0].catchment_m2_per_resident).toBeCloseTo(r1, 3);
    expect(body.shelters[1].catchment_m2_per_resident).toBeCloseTo(r2, 3);
    expect(body.parameters.decay).toBe('gaussian');
    const u = Object.fromEntries(body.units.map((x: { id: string }) => [x.id, x]));
    // ea = cols 3–4: (4,1) 400 at 0 m; (3,1) 200 and (4,0),(4,2) 100+100 at 300 m; (3,0),(3,2) 100+100 at 300√2 m
    const ea = (r2 * (400 + 400 * gauss(300) + 200 * gauss(DIAG))) / 1000;
    // eb = cols 5–7: only col 5 is reached: (5,1) 200 at 300 m, (5,0),(5,2) 100+100 at 300√2 m
    const eb = (r2 * (200 * gauss(300) + 200 * gauss(DIAG))) / 1400;
    expect(u['fixture_grid-ea'].catchment_m2_per_resident).toBeCloseTo(ea, 3);
    expect(u['fixture_grid-eb'].catchment_m2_per_resident).toBeCloseTo(eb, 3);
    // all supply is distributed: the district mean is total area ÷ residents whatever the kernel
    expect(body.total.catchment_m2_per_resident).toBeCloseTo(2700 / 4200, 3);
    const { links: _l, parameters: { data_version: _v, ...params }, ...rest } = body;
    expectGolden('grid-coverage-gaussian', { ...rest, parameters: params });
  });

  it('E2SFCA steps: 0.68 at 300 m and 0.22 at 424 m', async () => {
    const { body } = await request(app).get('/analysis/coverage?district=fixture_grid&decay=steps&shelters=true').expect(200);
    expect(body.shelters[0].catchment_m2_per_resident).toBeCloseTo(600 / (100 + 400 * 0.68 + 400 * 0.22), 3);
  });
});

describe('2SFCA invariants on random data', () => {
  it('Σ residents × access = Σ area of shelters with someone in reach, for every kernel', () => {
    const rand = mulberry32(3);
    const cells = Array.from({ length: 400 }, (_, i) => ({ id: i, lon: 113 + rand() * 0.1, lat: 23 + rand() * 0.1, residents: Math.floor(rand() * 500), streetId: null, communityId: null }));
    const shelters = Array.from({ length: 30 }, () => ({ lon: 113 + rand() * 0.12 - 0.01, lat: 23 + rand() * 0.12 - 0.01, shelterClass: rand() < 0.7 ? ('emergency' as const) : ('fixed' as const) }));
    const supply = shelters.map(() => 500 + rand() * 5000);
    const reach = computeReach(cells, cellGrid(cells), shelters, { emergency: 500, fixed: 1500, central: 3000 });
    for (const decay of ['none', 'gaussian', 'steps'] as const) {
      const res = twoStepCatchment(cells, reach, supply, decay);
      const distributed = cells.reduce((s, c, i) => s + c.residents * res.access[i], 0);
      const expected = supply.reduce((s, a, j) => s + (res.demand[j] > 0 ? a : 0), 0);
      expect(distributed).toBeCloseTo(expected, 6);
      expect(res.access.every((a) => Number.isFinite(a) && a >= 0)).toBe(true);
    }
  });
});
