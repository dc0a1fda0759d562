/**
 * Siting on candidate sites, on the grid fixture (layout in coverage.test.ts; 300 m cells,
 * uncovered: col 2 (900 residents) and cols 6–7 (1000)). Four sites, by hand:
 *   A park, col 2 row 1, 5,000 m²   — reaches cols 1–3: newly covers col 2 (+900)
 *   B square, col 7 row 1, 800 m²   — below the 1,000 m² minimum of an emergency shelter: skipped
 *   C school playground, col 6 row 1, area unknown — reaches cols 5–7: +1000, size not checked
 *   D stadium, col 4 row 1, 20,000 m² — reaches cols 3–5, all covered already: +0
 * Greedy, k = 3: C (+1000), A (+900), then nobody is left (stopped early).
 * As fixed shelters (≥ 1 ha): A and B are skipped, C and D stay.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { testApp } from '../helpers/test-app.ts';
import type { Db } from '../../server/db/types.ts';
import { bumpDataVersion } from '../../server/db/data-version.ts';
import { fixtureToLonLat, loadGridFixture, readFixture } from './fixture-db.ts';

let db: Db;
let app: Express;
const ids: Record<string, number> = {};

beforeAll(async () => {
  ({ db, app } = await testApp());
  await loadGridFixture(db);
  const fx = readFixture('grid');
  const at = (col: number, row: number) => fixtureToLonLat(fx.origin, (col + 0.5) * fx.cell_size_m, (row + 0.5) * fx.cell_size_m);
  const sites = [
    ['A', '甲公园', 'park', 5000, [2, 1]],
    ['B', '乙广场', 'square', 800, [7, 1]],
    ['C', '丙学校操场', 'school_playground', null, [6, 1]],
    ['D', '丁体育场', 'stadium', 20000, [4, 1]],
  ] as const;
  for (const [key, name, kind, area, [col, row]] of sites) {
    const [lon, lat] = at(col, row);
    const r = await db.query<{ id: number }>(
      `INSERT INTO candidate_sites (district_id, name_zh, kind, area_m2, ownership, synthetic, geom)
       VALUES ('fixture_grid', $1, $2, $3, 'public', true, ST_SetSRID(ST_MakePoint($4, $5), 4326)) RETURNING id::int8 AS id`,
      [name, kind, area, lon, lat],
    );
    ids[key] = Number(r.rows[0].id);
  }
  await bumpDataVersion(db);
});
afterAll(async () => db?.close());

const siting = (query: string) => request(app).get(`/analysis/siting?district=fixture_grid${query}`);

describe('GET /analysis/siting on candidate sites', () => {
  it('uses the district’s sites by default, names each pick, checks its size and lists the skipped', async () => {
    const { body } = await siting('&k=3').expect(200);
    expect(body.parameters.candidates).toEqual({ source: 'sites', chosen_by: 'default: the district has candidate sites', count: 3, skipped: 1, min_site_area_m2: 1000 });
    expect(body.sites.map((s: { candidate: { id: number }; newly_covered_residents: number }) => [s.candidate.id, s.newly_covered_residents])).toEqual([
      [ids.C, 1000],
      [ids.A, 900],
    ]);
    expect(body.stopped_early).not.toBeNull();
    expect(body.sites[0].site).toMatchObject({ name_zh: '丙学校操场', kind: 'school_playground', area_m2: null, large_enough: null, area_check: 'site area unknown: not checked' });
    expect(body.sites[1].site).toMatchObject({ name_zh: '甲公园', kind: 'park', area_m2: 5000, min_area_m2: 1000, large_enough: true });
    expect(body.skipped_sites).toEqual([
      { id: ids.B, name_zh: '乙广场', name_en: null, kind: 'square', area_m2: 800, reason: 'site area 800 m² is below the 1000 m² minimum site of an emergency shelter (GB 50413 §8.2.9)' },
    ]);
  });

  it('a fixed shelter needs 1 ha: the park and the square are skipped', async () => {
    const { body } = await siting('&k=2&class=fixed&candidates=sites').expect(200);
    expect(body.parameters.candidates).toMatchObject({ source: 'sites', count: 2, skipped: 2, min_site_area_m2: 10000 });
    expect(body.skipped_sites.map((s: { id: number }) => s.id)).toEqual([ids.A, ids.B]);
    for (const s of body.sites) expect([ids.C, ids.D]).toContain(s.candidate.id);
  });

  it('the grid and cells stay available by name', async () => {
    const { body } = await siting('&k=1&candidates=grid').expect(200);
    expect(body.parameters.candidates).toMatchObject({ source: 'grid', spacing_m: 250 });
    expect(body.skipped_sites).toBeUndefined();
  });

  it('capacity-aware: a site holds what its own area holds, not the default new-shelter area', async () => {
    // A shrinks to 1,000 m² (1,000 places at 1 m² per person); C leaves. Unsheltered within A's
    // reach: col 2's 900 plus col 1's 400 (S1 holds 500 of cols 0–1, col 0 first) = 1,300 > 1,000.
    await db.query('UPDATE candidate_sites SET area_m2 = 1000 WHERE id = $1', [ids.A]);
    await db.query('UPDATE candidate_sites SET deleted_at = now() WHERE id = $1', [ids.C]);
    await bumpDataVersion(db);
    const { body } = await siting('&k=1&capacity_aware=true').expect(200);
    expect(body.sites[0]).toMatchObject({ candidate: { source: 'candidate_sites', id: ids.A }, capacity: 1000, newly_sheltered_residents: 1000 });
    // the default 2,000 m² would have taken every one of the 1,300
    const { body: grid } = await siting('&k=1&capacity_aware=true&candidates=cells').expect(200);
    expect(grid.sites[0].newly_sheltered_residents).toBeGreaterThanOrEqual(1300);
  });

  it('without sites the grid is the default, and says so', async () => {
    await db.query('UPDATE candidate_sites SET deleted_at = now()');
    await bumpDataVersion(db);
    const { body } = await siting('&k=1').expect(200);
    expect(body.parameters.candidates).toMatchObject({ source: 'grid', chosen_by: 'default: the district has no candidate sites, so a grid' });
  });
});
