/**
 * Distances are metres on the ellipsoid, never degrees: at latitude 23° a
 * 500 m radius covers a resident 490 m east and not one 510 m east (the
 * residents are placed by PostGIS ST_Project, independently of the service).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { testApp } from '../helpers/test-app.ts';
import type { Db } from '../../server/db/types.ts';
import { distanceM } from '../../server/analysis/geodesy.ts';
import { PointGrid } from '../../server/analysis/point-grid.ts';
import { loadMetresFixture } from './fixture-db.ts';
import { mulberry32 } from './random.ts';

let db: Db;
let app: Express;
beforeAll(async () => {
  ({ db, app } = await testApp());
  // residents are powers of ten so the covered sum says exactly who was covered
  await loadMetresFixture(db, [
    { id: 900201, metres: 490, azimuthDeg: 90, residents: 1 },
    { id: 900202, metres: 510, azimuthDeg: 90, residents: 10 },
    { id: 900203, metres: 490, azimuthDeg: 0, residents: 100 },
    { id: 900204, metres: 510, azimuthDeg: 0, residents: 1000 },
    { id: 900205, metres: 499, azimuthDeg: 225, residents: 10000 },
    { id: 900206, metres: 501, azimuthDeg: 225, residents: 100000 },
  ]);
});
afterAll(async () => db?.close());

describe('a 500 m radius at latitude 23°', () => {
  it('covers residents 490 m east, 490 m north and 499 m south-west, not those at 510 m and 501 m', async () => {
    const { body } = await request(app).get('/analysis/coverage?district=fixture_metres&radius=500').expect(200);
    expect(body.total.covered_residents).toBe(1 + 100 + 10000);
    expect(body.total.residents).toBe(111111);
    // the default emergency radius is the same 500 m
    const byDefault = await request(app).get('/analysis/coverage?district=fixture_metres').expect(200);
    expect(byDefault.body.total.covered_residents).toBe(10101);
  });

  it('in degrees the same radius would be wrong: 490 m east is 0.0048° of longitude, 510 m north 0.0046° of latitude', async () => {
    const r = await db.query<{ id: number; dlon: number; dlat: number }>(
      `SELECT id::int AS id, ST_X(ST_PointOnSurface(geom)) - 100 AS dlon, ST_Y(ST_PointOnSurface(geom)) - 23 AS dlat FROM population_cells WHERE district_id = 'fixture_metres' ORDER BY id`,
    );
    const east490 = r.rows.find((x) => x.id === 900201)!;
    const north510 = r.rows.find((x) => x.id === 900204)!;
    // a degree-based radius (500 m ÷ 111 km per degree) would cover the far northern resident and miss the near eastern one
    expect(Math.abs(east490.dlon)).toBeGreaterThan(500 / 111_320);
    expect(Math.abs(north510.dlat)).toBeLessThan(0.0047);
  });
});

describe('geodesy matches PostGIS geography', () => {
  it('distanceM agrees with ST_Distance on the spheroid: < 1 mm up to 5 km, < 1 cm up to 300 km', async () => {
    const rand = mulberry32(7);
    const pairs: number[][] = [];
    for (let k = 0; k < 200; k++) {
      const lon = 112 + rand() * 3, lat = 21.5 + rand() * 4;
      const far = k % 4 === 0 ? 0.45 : k % 4 === 1 ? 2.5 : 0.045;
      pairs.push([lon, lat, lon + (rand() - 0.5) * far, lat + (rand() - 0.5) * far]);
    }
    const r = await db.query<{ d: number }>(
      `SELECT ST_Distance(ST_SetSRID(ST_MakePoint(a, b), 4326)::geography, ST_SetSRID(ST_MakePoint(c, d), 4326)::geography) AS d
       FROM unnest($1::float8[], $2::float8[], $3::float8[], $4::float8[]) WITH ORDINALITY AS t(a, b, c, d, n) ORDER BY n`,
      [pairs.map((p) => p[0]), pairs.map((p) => p[1]), pairs.map((p) => p[2]), pairs.map((p) => p[3])],
    );
    r.rows.forEach((row, k) => {
      const [a, b, c, d] = pairs[k];
      const ours = distanceM(a, b, c, d);
      if (row.d <= 5000) expect(Math.abs(ours - row.d), `pair ${k}: ${row.d} m`).toBeLessThan(0.001);
      else expect(Math.abs(ours - row.d), `pair ${k}: ${row.d} m`).toBeLessThan(0.01);
    });
  });
});

describe('PointGrid', () => {
  const rand = mulberry32(11);
  const n = 3000;
  const lons = Array.from({ length: n }, () => 113 + rand() * 0.5);
  const lats = Array.from({ length: n }, () => 23 + rand() * 0.4);
  // duplicates: ties must break by index
  for (let k = 0; k < 50; k++) {
    lons[n - 1 - k] = lons[k];
    lats[n - 1 - k] = lats[k];
  }
  const grid = new PointGrid(lons, lats);

  it('within() finds exactly the points a brute-force scan finds', () => {
    for (let q = 0; q < 50; q++) {
      const lon = 112.95 + rand() * 0.6, lat = 22.95 + rand() * 0.5, r = 200 + rand() * 3000;
      const found: number[] = [];
      grid.within(lon, lat, r, (i) => found.push(i));
      const brute = lons.map((_, i) => i).filter((i) => distanceM(lon, lat, lons[i], lats[i]) <= r);
      expect(found.sort((a, b) => a - b)).toEqual(brute);
    }
  });

  it('nearest() equals a brute-force sort (distance, then index), also far outside the data and with a filter', () => {
    const idx = new Int32Array(5), dist = new Float64Array(5);
    const queries = [...Array.from({ length: 100 }, () => [112.9 + rand() * 0.7, 22.9 + rand() * 0.6]), [lons[3], lats[3]], [100, 40], [116, 21]];
    for (const [lon, lat] of queries) {
      for (const accept of [undefined, (i: number) => i % 3 === 0]) {
        const got = grid.nearest(lon, lat, 5, idx, dist, accept);
        const brute = lons
          .map((_, i) => i)
          .filter((i) => !accept || accept(i))
          .map((i) => ({ i, d: distanceM(lon, lat, lons[i], lats[i]) }))
          .sort((a, b) => a.d - b.d || a.i - b.i)
          .slice(0, 5);
        expect(got).toBe(5);
        expect(Array.from(idx)).toEqual(brute.map((b) => b.i));
      }
    }
  });

  it('nearest() honours a maximum distance and an empty index', () => {
    const idx = new Int32Array(3), dist = new Float64Array(3);
    expect(grid.nearest(100, 40, 3, idx, dist, undefined, 1000)).toBe(0);
    expect(new PointGrid([], []).nearest(113, 23, 3, idx, dist)).toBe(0);
  });
});
