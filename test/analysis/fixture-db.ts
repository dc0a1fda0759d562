/**
 * Loads the hand-made analysis fixtures (test/fixtures/analysis/*.json) into a
 * test database, and compares results with golden files (REGEN=1 rewrites them).
 */
import fs from 'node:fs';
import path from 'node:path';
import { expectGolden as expectJsonGolden } from '../helpers/golden.ts';
import type { Db, Queryable } from '../../server/db/types.ts';

export const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/analysis');

export interface GridFixture {
  district: { id: string; adcode: number; name_zh: string; name_en: string; shelter_target_m2: number; target_source: string };
  origin: [number, number];
  cell_size_m: number;
  /** residents[row][col], row 0 south. */
  residents: number[][];
  streets: { id: string; name_zh: string; name_en: string; cols: [number, number] }[];
  communities: { id: string; street: string; name_zh: string; name_en: string; cols: [number, number] }[];
  shelters: {
    id: number;
    name_zh: string;
    shelter_class: string;
    setting: string;
    status: string;
    /** [col, row] of the cell whose centre the shelter sits on. */
    cell: [number, number];
    effective_area_m2: number;
    capacity: number;
    occupancy: number;
  }[];
}

export function readFixture<T = GridFixture>(name: string): T {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8')) as T;
}

/**
 * Fixture metres → lon/lat with a flat-earth scale at the origin (WGS84 radii of curvature).
 * Computed here independently of the service's geodesy; across a 2.4 km fixture the
 * scale error is far below the margins the hand-computed answers rely on.
 */
export function fixtureToLonLat(origin: [number, number], x: number, y: number): [number, number] {
  const a = 6378137, f = 1 / 298.257223563, e2 = f * (2 - f);
  const phi = (origin[1] * Math.PI) / 180;
  const w = 1 - e2 * Math.sin(phi) ** 2;
  const kx = ((a / Math.sqrt(w)) * Math.cos(phi) * Math.PI) / 180;
  const ky = ((a * (1 - e2)) / w ** 1.5 * Math.PI) / 180;
  return [origin[0] + x / kx, origin[1] + y / ky];
}

export const cellId = (col: number, row: number, cols = 8) => 900001 + row * cols + col;

function rect(origin: [number, number], x0: number, y0: number, x1: number, y1: number) {
  const ring = [
    fixtureToLonLat(origin, x0, y0),
    fixtureToLonLat(origin, x1, y0),
    fixtureToLonLat(origin, x1, y1),
    fixtureToLonLat(origin, x0, y1),
    fixtureToLonLat(origin, x0, y0),
  ];
  return JSON.stringify({ type: 'MultiPolygon', coordinates: [[ring]] });
}

async function insertDistrict(q: Queryable, d: GridFixture['district'], geojson: string) {
  await q.query(
    `INSERT INTO districts (id, adcode, name_zh, name_en, city_zh, city_en, population, population_source, shelter_target_m2, target_source, synthetic, source, geom)
     VALUES ($1, $2, $3, $4, '测试市', 'Fixture City', 0, 'fixture', $5, $6, true, 'test fixture', ST_GeomFromGeoJSON($7))`,
    [d.id, d.adcode, d.name_zh, d.name_en, d.shelter_target_m2, d.target_source, geojson],
  );
}

/** Inserts the grid fixture; returns nothing, ids are fixed by the fixture. */
export async function loadGridFixture(db: Db, fx: GridFixture = readFixture('grid')): Promise<GridFixture> {
  const size = fx.cell_size_m;
  const rows = fx.residents.length;
  const cols = fx.residents[0].length;
  await db.tx(async (q) => {
    await insertDistrict(q, fx.district, rect(fx.origin, 0, 0, cols * size, rows * size));
    for (const s of fx.streets) {
      await q.query(
        `INSERT INTO streets (id, district_id, name_zh, name_en, kind, population, synthetic, geom) VALUES ($1, $2, $3, $4, 'street', 0, true, ST_GeomFromGeoJSON($5))`,
        [s.id, fx.district.id, s.name_zh, s.name_en, rect(fx.origin, s.cols[0] * size, 0, (s.cols[1] + 1) * size, rows * size)],
      );
    }
    for (const c of fx.communities) {
      await q.query(
        `INSERT INTO communities (id, district_id, street_id, name_zh, name_en, kind, population, synthetic, geom) VALUES ($1, $2, $3, $4, $5, 'community', 0, true, ST_GeomFromGeoJSON($6))`,
        [c.id, fx.district.id, c.street, c.name_zh, c.name_en, rect(fx.origin, c.cols[0] * size, 0, (c.cols[1] + 1) * size, rows * size)],
      );
    }
    const unitOf = (col: number) => ({
      street: fx.streets.find((s) => col >= s.cols[0] && col <= s.cols[1])!.id,
      community: fx.communities.find((c) => col >= c.cols[0] && col <= c.cols[1])!.id,
    });
    for (let row = 0; row < rows; row++) {
      for (let col = 0; col < cols; col++) {
        const u = unitOf(col);
        await q.query(
          `INSERT INTO population_cells (id, district_id, street_id, community_id, residents, synthetic, geom) VALUES ($1, $2, $3, $4, $5, true, ST_GeomFromGeoJSON($6))`,
          [cellId(col, row, cols), fx.district.id, u.street, u.community, fx.residents[row][col], rect(fx.origin, col * size, row * size, (col + 1) * size, (row + 1) * size)],
        );
      }
    }
    for (const s of fx.shelters) {
      const [lon, lat] = fixtureToLonLat(fx.origin, (s.cell[0] + 0.5) * size, (s.cell[1] + 0.5) * size);
      await q.query(
        `INSERT INTO shelters (id, district_id, street_id, name_zh, setting, shelter_class, effective_area_m2, capacity, occupancy, status, synthetic, geom)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, true, ST_SetSRID(ST_MakePoint($11, $12), 4326))`,
        [s.id, fx.district.id, unitOf(s.cell[0]).street, s.name_zh, s.setting, s.shelter_class, s.effective_area_m2, s.capacity, s.occupancy, s.status, lon, lat],
      );
    }
  });
  return fx;
}

/**
 * A district at latitude 23° with one emergency shelter and residents placed by
 * PostGIS (ST_Project on the ellipsoid) at given distances and azimuths from it.
 */
export async function loadMetresFixture(db: Db, placements: { id: number; metres: number; azimuthDeg: number; residents: number }[], origin: [number, number] = [100, 23]) {
  const [lon, lat] = origin;
  await db.tx(async (q) => {
    await insertDistrict(
      q,
      { id: 'fixture_metres', adcode: 999902, name_zh: '测试距离区', name_en: 'Fixture Metres District', shelter_target_m2: 1.5, target_source: 'fixture' },
      JSON.stringify({ type: 'MultiPolygon', coordinates: [[[[lon - 0.02, lat - 0.02], [lon + 0.02, lat - 0.02], [lon + 0.02, lat + 0.02], [lon - 0.02, lat + 0.02], [lon - 0.02, lat - 0.02]]]] }),
    );
    await q.query(
      `INSERT INTO shelters (id, district_id, name_zh, setting, shelter_class, effective_area_m2, capacity, status, synthetic, geom)
       VALUES (900101, 'fixture_metres', '距离测试场所', 'outdoor', 'emergency', 1000, 600, 'open', true, ST_SetSRID(ST_MakePoint($1, $2), 4326))`,
      [lon, lat],
    );
    for (const p of placements) {
      // a 2 m square centred on the projected point: ST_PointOnSurface of it is its centre
      await q.query(
        `WITH p AS (SELECT ST_Project(ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography, $4::float8, radians($5::float8))::geometry AS pt)
         INSERT INTO population_cells (id, district_id, residents, synthetic, geom)
         SELECT $1, 'fixture_metres', $6, true, ST_Multi(ST_Expand(pt, 0.00001)) FROM p`,
        [p.id, lon, lat, p.metres, p.azimuthDeg, p.residents],
      );
    }
  });
}

/** Compares `actual` with test/fixtures/analysis/expected/<name>.json; REGEN=1 rewrites the file. */
export function expectGolden(name: string, actual: unknown): void {
  expectJsonGolden(`analysis/expected/${name}.json`, actual);
}
