/**
 * The demo data in the database carries the figures the five plans give,
 * exactly. The numbers are written out here (not imported from data/plan.ts)
 * so a slip in the generator's own table cannot pass unnoticed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../server/db/types.ts';
import { testDb } from '../setup/db.ts';

let db: Db;
beforeAll(async () => {
  db = await testDb();
});
afterAll(async () => db?.close());

type Breakdown = Record<string, number>;

/** One row per plan figure: rows of `table` in `district`, grouped by `by`. Zero entries must be absent. */
const BREAKDOWNS: { district: string; table: string; by: string; expected: Breakdown }[] = [
  // Yuexiu
  { district: 'yuexiu', table: 'streets', by: 'kind', expected: { street: 18 } },
  { district: 'yuexiu', table: 'risk_points', by: 'level', expected: { red: 0, orange: 1, yellow: 21, blue: 124 } },
  { district: 'yuexiu', table: 'shelters', by: "'all'", expected: { all: 35 } },
  { district: 'yuexiu', table: 'flood_points', by: 'kind', expected: { waterlogging: 3 } },
  { district: 'yuexiu', table: 'geohazard_sites', by: "'all'", expected: { all: 1 } },
  // Huadu
  { district: 'huadu', table: 'streets', by: 'kind', expected: { street: 4, town: 6 } },
  { district: 'huadu', table: 'risk_points', by: 'level', expected: { red: 1, orange: 3, yellow: 27, blue: 120 } },
  { district: 'huadu', table: 'shelters', by: "'all'", expected: { all: 139 } },
  { district: 'huadu', table: 'flood_points', by: 'kind', expected: { black_spot: 12, drainage_hazard: 23 } },
  { district: 'huadu', table: 'geohazard_sites', by: 'kind', expected: { rockfall: 22, landslide: 11, collapse: 4, subsidence: 2 } },
  { district: 'huadu', table: 'geohazard_sites', by: 'scale', expected: { medium: 21, small: 18 } },
  { district: 'huadu', table: 'networks', by: 'kind', expected: { oil_pipeline: 1 } },
  // Wujiang: the plan gives no counts; its streets and towns are the public list.
  { district: 'wujiang', table: 'streets', by: 'kind', expected: { street: 2, town: 5 } },
  // Pingshan
  { district: 'pingshan', table: 'streets', by: 'kind', expected: { street: 6 } },
  { district: 'pingshan', table: 'communities', by: "'all'", expected: { all: 23 } },
  { district: 'pingshan', table: 'shelters', by: 'setting', expected: { indoor: 45, outdoor: 27 } },
  { district: 'pingshan', table: 'geohazard_sites', by: "'all'", expected: { all: 95 } },
  { district: 'pingshan', table: 'flood_points', by: 'kind', expected: { waterlogging: 40 } },
  // Jianghai
  { district: 'jianghai', table: 'streets', by: 'kind', expected: { street: 3 } },
  { district: 'jianghai', table: 'communities', by: "'all'", expected: { all: 42 } },
  { district: 'jianghai', table: 'hazard_sources', by: 'kind', expected: { production: 11, storage: 29, gas_station: 22, trading: 128 } },
  { district: 'jianghai', table: 'hazard_sources', by: 'major_hazard::text', expected: { true: 4, false: 186 } },
  { district: 'jianghai', table: 'geohazard_sites', by: "'all'", expected: { all: 21 } },
];

/** Resource kinds the plans count; other kinds may exist and are not checked here. */
const RESOURCES: { district: string; expected: Breakdown }[] = [
  { district: 'huadu', expected: { petrol_station: 68, rescue_team: 26 } },
  { district: 'pingshan', expected: { reservoir: 19, material_depot: 7, rescue_team: 50, fire_station: 13 } },
];

/** Sums the plans give. */
const SUMS: { label: string; sql: string; params: unknown[]; expected: number }[] = [
  {
    label: 'Pingshan indoor shelter capacity 9,740',
    sql: `SELECT sum(capacity)::int AS v FROM shelters WHERE district_id = $1 AND setting = 'indoor'`,
    params: ['pingshan'],
    expected: 9_740,
  },
  {
    label: 'Pingshan outdoor shelter capacity 400,000',
    sql: `SELECT sum(capacity)::int AS v FROM shelters WHERE district_id = $1 AND setting = 'outdoor'`,
    params: ['pingshan'],
    expected: 400_000,
  },
  {
    label: 'Pingshan rescue teams 2,320 people',
    sql: `SELECT sum(personnel)::int AS v FROM resources WHERE district_id = $1 AND kind = 'rescue_team'`,
    params: ['pingshan'],
    expected: 2_320,
  },
  {
    label: 'Huadu residents in population cells 1,107,200',
    sql: `SELECT sum(residents)::int AS v FROM population_cells WHERE district_id = $1`,
    params: ['huadu'],
    expected: 1_107_200,
  },
  {
    label: 'Huadu district population 1,107,200',
    sql: `SELECT population AS v FROM districts WHERE id = $1`,
    params: ['huadu'],
    expected: 1_107_200,
  },
  {
    label: 'Jianghai major hazard sources 4',
    sql: `SELECT count(*)::int AS v FROM hazard_sources WHERE district_id = $1 AND major_hazard`,
    params: ['jianghai'],
    expected: 4,
  },
];

const TARGETS: Record<string, number> = { yuexiu: 1.5, huadu: 1.0, wujiang: 1.5, pingshan: 1.5, jianghai: 1.5 };
const ADCODES: Record<string, number> = { yuexiu: 440104, huadu: 440114, wujiang: 440203, pingshan: 440310, jianghai: 440704 };

function nonZero(b: Breakdown): Breakdown {
  return Object.fromEntries(Object.entries(b).filter(([, n]) => n !== 0));
}

describe('plan figures per district', () => {
  it('has exactly the five districts with their adcodes and shelter targets', async () => {
    const r = await db.query<{ id: string; adcode: number; shelter_target_m2: number }>(
      'SELECT id, adcode, shelter_target_m2 FROM districts ORDER BY id',
    );
    expect(Object.fromEntries(r.rows.map((d) => [d.id, d.adcode]))).toEqual(ADCODES);
    expect(Object.fromEntries(r.rows.map((d) => [d.id, d.shelter_target_m2]))).toEqual(TARGETS);
  });

  it.each(BREAKDOWNS)('$district $table by $by', async ({ district, table, by, expected }) => {
    // table and by are constants of this file, not input.
    const r = await db.query<{ k: string; n: number }>(
      `SELECT ${by} AS k, count(*)::int AS n FROM ${table} WHERE district_id = $1 GROUP BY 1`,
      [district],
    );
    expect(Object.fromEntries(r.rows.map((x) => [String(x.k), x.n]))).toEqual(nonZero(expected));
  });

  it.each(RESOURCES)('$district resources', async ({ district, expected }) => {
    const r = await db.query<{ k: string; n: number }>(
      `SELECT kind AS k, count(*)::int AS n FROM resources WHERE district_id = $1 GROUP BY 1`,
      [district],
    );
    const actual = Object.fromEntries(r.rows.map((x) => [x.k, x.n]));
    for (const [kind, n] of Object.entries(expected)) expect(actual[kind] ?? 0, kind).toBe(n);
  });

  it.each(SUMS)('$label', async ({ sql, params, expected }) => {
    const r = await db.query<{ v: number }>(sql, params);
    expect(r.rows[0].v).toBe(expected);
  });

  it('Huadu oil pipeline is about 30 km long, Pingshan has gas pipelines and Jianghai drainage lines', async () => {
    const oil = await db.query<{ km: number }>(
      `SELECT sum(ST_Length(geom::geography))/1000 AS km FROM networks WHERE district_id = 'huadu' AND kind = 'oil_pipeline'`,
    );
    expect(oil.rows[0].km).toBeGreaterThan(28.5);
    expect(oil.rows[0].km).toBeLessThan(31.5);
    const lines = await db.query<{ district_id: string; kind: string; n: number }>(
      `SELECT district_id, kind, count(*)::int AS n FROM networks GROUP BY 1, 2`,
    );
    const n = (d: string, k: string) => lines.rows.find((x) => x.district_id === d && x.kind === k)?.n ?? 0;
    expect(n('pingshan', 'gas_pipeline')).toBeGreaterThan(0);
    expect(n('jianghai', 'drainage')).toBeGreaterThan(0);
  });

  it('the residents of every district, street and community add up', async () => {
    const districts = await db.query<{ id: string; population: number; cells: number; streets: number; communities: number }>(
      `SELECT d.id, d.population,
              (SELECT sum(residents)::int FROM population_cells c WHERE c.district_id = d.id) AS cells,
              (SELECT sum(population)::int FROM streets s WHERE s.district_id = d.id) AS streets,
              (SELECT sum(population)::int FROM communities m WHERE m.district_id = d.id) AS communities
         FROM districts d`,
    );
    for (const d of districts.rows) {
      expect({ id: d.id, cells: d.cells, streets: d.streets, communities: d.communities }).toEqual({
        id: d.id,
        cells: d.population,
        streets: d.population,
        communities: d.population,
      });
    }
    const mismatched = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM streets s
        WHERE s.population <> (SELECT coalesce(sum(residents), 0) FROM population_cells c WHERE c.street_id = s.id)`,
    );
    expect(mismatched.rows[0].n).toBe(0);
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM communities WHERE population = 0')).rows[0].n).toBe(0);
  });

  it('every district has streets above and streets below its shelter target (something for planners to find)', async () => {
    const r = await db.query<{ district_id: string; below: number; above: number }>(
      `WITH per_street AS (
         SELECT s.district_id, s.id,
                coalesce((SELECT sum(effective_area_m2) FROM shelters h WHERE h.street_id = s.id), 0) / s.population AS m2
           FROM streets s WHERE s.population > 0)
       SELECT p.district_id,
              count(*) FILTER (WHERE p.m2 < d.shelter_target_m2)::int AS below,
              count(*) FILTER (WHERE p.m2 >= d.shelter_target_m2)::int AS above
         FROM per_street p JOIN districts d ON d.id = p.district_id GROUP BY 1`,
    );
    expect(r.rows).toHaveLength(5);
    for (const row of r.rows) {
      expect(row.below, row.district_id).toBeGreaterThan(0);
      expect(row.above, row.district_id).toBeGreaterThan(0);
    }
  });
});

describe('attributes follow the grading rules', () => {
  it('assessed risk levels match D = L·E·C bands; manual ones give a reason', async () => {
    const r = await db.query<{ level: string; level_source: string; d: number | null; level_reason: string | null }>(
      `SELECT level, level_source, lec_l * lec_e * lec_c AS d, level_reason FROM risk_points`,
    );
    const band = (d: number) => (d > 320 ? 'red' : d > 160 ? 'orange' : d > 70 ? 'yellow' : 'blue');
    const assessed = r.rows.filter((x) => x.level_source === 'assessed');
    expect(assessed.length).toBeGreaterThan(r.rows.length / 2);
    for (const x of assessed) expect(band(x.d as number)).toBe(x.level);
    for (const x of r.rows.filter((x) => x.level_source === 'manual')) {
      expect(x.d).toBeNull();
      expect(x.level_reason).toBeTruthy();
    }
  });

  it('major hazard sources carry an R value graded per GB 18218; others none', async () => {
    const r = await db.query<{ major_hazard: boolean; r_value: number | null; level: string }>(
      'SELECT major_hazard, r_value, level FROM hazard_sources',
    );
    const grade = (v: number) => (v >= 100 ? 'red' : v >= 50 ? 'orange' : v >= 10 ? 'yellow' : 'blue');
    for (const x of r.rows) {
      if (x.major_hazard) expect(grade(x.r_value as number)).toBe(x.level);
      else expect(x.r_value).toBeNull();
    }
  });

  it('shelter capacity follows effective area at 1.5-2.2 m² per person and classes are known', async () => {
    const r = await db.query<{ n: number; bad: number; classes: number }>(
      `SELECT count(*)::int AS n,
              count(*) FILTER (WHERE effective_area_m2 / nullif(capacity, 0) NOT BETWEEN 1.5 AND 2.2)::int AS bad,
              count(DISTINCT shelter_class)::int AS classes
         FROM shelters`,
    );
    expect(r.rows[0].n).toBeGreaterThan(0);
    expect(r.rows[0].bad).toBe(0);
    expect(r.rows[0].classes).toBe(3);
  });

  it('geohazard sites threaten people and property in line with their scale', async () => {
    const r = await db.query<{ scale: string; min_people: number; max_people: number; max_loss: number }>(
      `SELECT scale, min(people_threatened) AS min_people, max(people_threatened) AS max_people, max(potential_loss_cny) AS max_loss
         FROM geohazard_sites GROUP BY scale`,
    );
    const small = r.rows.find((x) => x.scale === 'small');
    const medium = r.rows.find((x) => x.scale === 'medium');
    expect(small && small.min_people > 0 && small.max_people < 100 && small.max_loss < 5e6).toBe(true);
    expect(medium && medium.max_people > small!.max_people).toBe(true);
    const treated = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM geohazard_sites WHERE district_id = 'jianghai' AND status = 'treated'`,
    );
    expect(treated.rows[0].n).toBe(21);
  });
});
