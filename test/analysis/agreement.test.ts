/**
 * Three independent computations of radius coverage agree on every district in
 * the database (the demo districts and the grid fixture):
 *   1. the service (tangent-plane metres on the WGS84 ellipsoid, grid index, in Node),
 *   2. PostGIS ST_DWithin on geography (spheroid), one SQL statement,
 *   3. Turf: @turf/circle (64-gon on a sphere) and point-in-polygon.
 * Service and PostGIS must give the same cells (up to a millimetre at the radius).
 * Turf works on a sphere with polygonal circles, so it may differ only for cells
 * within 0.7 % of a radius from a shelter (sphere vs ellipsoid ≤ 0.5 %, 64-gon sag 0.12 %).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as turf from '@turf/turf';
import { testDb } from '../setup/db.ts';
import type { Db } from '../../server/db/types.ts';
import { analysisServices } from '../../server/analysis/service.ts';
import { coverageQuery, gapsQuery, sitingQuery } from '../../server/analysis/params.ts';
import { ANONYMOUS } from '../../catalog/access.ts';
import { distanceM } from '../../server/analysis/geodesy.ts';
import { loadGridFixture } from './fixture-db.ts';
import { configureWorkerPool, workerPoolOptions } from '../../server/work/shared.ts';
import { loadConfig } from '../../server/config.ts';
import { TEST_ENV } from '../helpers/test-env.ts';

let db: Db;
let districts: string[] = [];
beforeAll(async () => {
  // The service runs without an app, so the worker pool gets the tests' budget here (test-env.ts).
  configureWorkerPool(workerPoolOptions(loadConfig(TEST_ENV)));
  db = await testDb();
  await loadGridFixture(db);
  districts = (await db.query<{ id: string }>('SELECT id FROM districts ORDER BY id')).rows.map((r) => r.id);
});
afterAll(async () => db?.close());

// Each cell's point and each shelter's position made geography once, not once per pair.
const POSTGIS_COVERED = `
  WITH c AS MATERIALIZED (SELECT id, ST_PointOnSurface(geom)::geography AS g FROM population_cells WHERE district_id = $1),
       s AS MATERIALIZED (
    SELECT geom::geography AS g, CASE shelter_class WHEN 'emergency' THEN $3::float8 WHEN 'fixed' THEN $4::float8 ELSE $5::float8 END AS radius
      FROM shelters WHERE district_id = $1 AND deleted_at IS NULL AND status = ANY($2::text[]) AND usable)
  SELECT c.id::int8 AS id FROM c
  WHERE EXISTS (SELECT 1 FROM s WHERE ST_DWithin(c.g, s.g, s.radius))
  ORDER BY c.id`;

describe('service, PostGIS and Turf agree on radius coverage', () => {
  it('for every district, with the default radii and with radius=800', { timeout: 180_000 }, async () => {
    const { models } = analysisServices(db);
    let compared = 0;
    for (const district of districts) {
      for (const query of [{ district }, { district, radius: '800' }]) {
        const q = coverageQuery.parse(query);
        const settings = await models.settings(q, undefined);
        const version = await models.dataVersion(undefined);
        const { loaded, analysis } = await models.analysis(district, settings, 'none', version, undefined);
        const { cells, shelters } = loaded.snapshot;
        // the shelters coverage counts by default: of the counted statuses, and not stored as unusable (hazard zones flagged at load)
        const usable = shelters.filter((s) => settings.statuses.includes(s.status) && s.usable !== false);
        const ours = new Set(cells.filter((_, i) => analysis.covered[i]).map((c) => c.id));

        const pg = await db.query<{ id: number }>(POSTGIS_COVERED, [district, settings.statuses, settings.radii.emergency, settings.radii.fixed, settings.radii.central]);
        const theirs = new Set(pg.rows.map((r) => Number(r.id)));
        const nearestEdge = (cellId: number) => {
          const c = cells.find((x) => x.id === cellId)!;
          return Math.min(...usable.map((s) => Math.abs(distanceM(s.lon, s.lat, c.lon, c.lat) - settings.radii[s.shelterClass])));
        };
        for (const id of ours) if (!theirs.has(id)) expect(nearestEdge(id), `${district} cell ${id}: service only`).toBeLessThan(0.001);
        for (const id of theirs) if (!ours.has(id)) expect(nearestEdge(id), `${district} cell ${id}: PostGIS only`).toBeLessThan(0.001);

        // Turf: circles as 64-gons, point in polygon, bbox first
        const circles = usable.map((s) => {
          const circle = turf.circle([s.lon, s.lat], settings.radii[s.shelterClass] / 1000, { steps: 64, units: 'kilometers' });
          return { circle, bbox: turf.bbox(circle) };
        });
        const residentsBy = { ours: 0, turf: 0 };
        for (const c of cells) {
          const inTurf = circles.some(({ circle, bbox }) => c.lon >= bbox[0] && c.lon <= bbox[2] && c.lat >= bbox[1] && c.lat <= bbox[3] && turf.booleanPointInPolygon([c.lon, c.lat], circle));
          if (inTurf) residentsBy.turf += c.residents;
          if (ours.has(c.id)) residentsBy.ours += c.residents;
          if (inTurf !== ours.has(c.id)) {
            const tolerance = 0.007 * Math.max(...Object.values(settings.radii));
            expect(nearestEdge(c.id), `${district} cell ${c.id}: Turf ${inTurf}, service ${ours.has(c.id)}`).toBeLessThan(tolerance);
          }
        }
        const total = cells.reduce((s, c) => s + c.residents, 0);
        if (total > 0) expect(Math.abs(residentsBy.turf - residentsBy.ours) / total, district).toBeLessThan(0.01);
        compared += cells.length;
      }
    }
    expect(compared).toBeGreaterThan(0);
  });
});

describe('stable results', () => {
  it('two independent computations of every district give identical coverage, gaps and siting', { timeout: 180_000 }, async () => {
    for (const district of districts) {
      const run = async () => {
        const service = analysisServices(db); // no shared cache
        return {
          coverage: await service.coverage.coverage(coverageQuery.parse({ district, unit: 'community', decay: 'gaussian', shelters: 'true' }), undefined),
          gaps: await service.coverage.gaps(gapsQuery.parse({ district }), undefined),
          siting: await service.siting.siting(sitingQuery.parse({ district, k: '5', capacity_aware: 'true' }), ANONYMOUS, undefined),
        };
      };
      const [a, b] = [await run(), await run()];
      expect(JSON.stringify(b), district).toBe(JSON.stringify(a));
      expect(JSON.stringify(a)).not.toMatch(/NaN|Infinity/);
      expect(a.gaps.uncovered_residents).toBe(a.coverage.total.uncovered_residents);
    }
  });
});
