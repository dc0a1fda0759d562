/**
 * GET /analysis/coverage on the hand-made grid (test/fixtures/analysis/grid.json).
 *
 * The fixture, worked out by hand (cells are 300 m; "col" runs west→east):
 *   residents per column: 300 600 900 | 400 600 400 800 200   (total 4200)
 *   streets: West = cols 0–2 (1800), East = cols 3–7 (2400)
 *   communities: wa = cols 0–1 (900), wb = col 2 (900), ea = cols 3–4 (1000), eb = cols 5–7 (1400)
 *   S1 emergency, 600 m², at the centre of col 0 row 1: within 500 m of cols 0–1 (0, 300 or 424 m), not col 2 (600 m)
 *   S2 emergency, 2100 m², at col 4 row 1: reaches cols 3–5
 *   S3 fixed, closed: not counted by default
 * So covered = cols 0–1 + cols 3–5 = 900 + 1400 = 2300 of 4200.
 * Capacity on the area basis at the district target 1.5 m²: S1 400, S2 1400 people.
 * 2SFCA: R1 = 600/900 = 2/3 m² per resident, R2 = 2100/1400 = 1.5; cols 0–1 reach 2/3, cols 3–5 reach 1.5.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { testApp } from '../helpers/test-app.ts';
import type { Db } from '../../server/db/types.ts';
import { expectGolden, loadGridFixture } from './fixture-db.ts';

let db: Db;
let app: Express;
beforeAll(async () => {
  ({ db, app } = await testApp());
  await loadGridFixture(db);
});
afterAll(async () => db?.close());

/** The default answer (capacity on the class basis). */
const coverageDefault = (query: string) => request(app).get(`/analysis/coverage?district=fixture_grid${query}`).expect(200);
/** The answers below are worked by hand on the area basis (capacity = area ÷ the district's 1.5 m²); the class basis has its own test. */
const coverage = (query: string) => coverageDefault(/capacity_basis|m2_per_person/.test(query) ? query : `&capacity_basis=area${query}`);
const byId = (units: { id: string; [k: string]: unknown }[]) => Object.fromEntries(units.map((u) => [u.id, u]));

describe('coverage per street', () => {
  it('counts covered residents, area per resident, catchment and unsheltered residents by hand', async () => {
    const { body } = await coverage('');
    expect(body.district).toEqual({ id: 'fixture_grid', name_zh: '测试网格区', name_en: 'Fixture Grid District' });
    expect(body.unit).toBe('street');
    const u = byId(body.units);
    expect(u['fixture_grid-west']).toMatchObject({
      residents: 1800,
      covered_residents: 900,
      uncovered_residents: 900,
      covered_pct: 50,
      shelters: 1,
      shelter_area_m2: 600,
      area_per_resident_m2: 0.333,
      target_m2_per_resident: 1.5,
      meets_target: false,
      area_shortfall_m2: 2100,
      capacity: 400,
      catchment_m2_per_resident: 0.333,
      catchment_meets_target: false,
      residents_below_target_by_catchment: 1800,
      sheltered_residents: 400,
      unsheltered_residents: 1400,
    });
    expect(u['fixture_grid-east']).toMatchObject({
      residents: 2400,
      covered_residents: 1400,
      covered_pct: 58.33,
      shelters: 1,
      shelter_area_m2: 2100,
      area_per_resident_m2: 0.875,
      area_shortfall_m2: 1500,
      capacity: 1400,
      catchment_m2_per_resident: 0.875,
      residents_below_target_by_catchment: 1000,
      sheltered_residents: 1400,
      unsheltered_residents: 1000,
    });
    expect(body.total).toMatchObject({
      residents: 4200,
      covered_residents: 2300,
      covered_pct: 54.76,
      shelters: 2,
      shelter_area_m2: 2700,
      area_per_resident_m2: 0.643,
      area_shortfall_m2: 3600,
      capacity: 1800,
      catchment_m2_per_resident: 0.643,
      residents_below_target_by_catchment: 2800,
      sheltered_residents: 1800,
      unsheltered_residents: 2400,
      unsheltered_pct: 57.14,
    });
    expect(body.unassigned_residents).toBe(0);
  });

  it('echoes the parameters used: radii and their source, statuses, target, capacity basis, method', async () => {
    const { body } = await coverageDefault('');
    expect(body.parameters).toMatchObject({
      radii_m: { emergency: 500, fixed: 2000, central: 3000 },
      radius_source: { emergency: 'default', fixed: 'default', central: 'default' },
      walking_speed_m_per_min: 50,
      shelter_status: ['open', 'standby', 'full'],
      capacity_basis: 'class',
      m2_per_person: null,
      m2_per_person_by_class: { emergency: 1, fixed: 2, central: 2 },
      m2_per_person_by_stay_class: { I: 4.5, II: 3, III: 2 },
      occupancy: 'ignore',
      target_m2_per_resident: 1.5,
      target_source: 'fixture',
      decay: 'none',
      shelters_counted: 2,
      excluded_shelters: [],
      shelters_not_counted: 1,
    });
    expect(typeof body.parameters.data_version).toBe('number');
    expect(Object.keys(body.method)).toEqual(['coverage', 'area_per_resident', 'catchment', 'allocation']);
    for (const link of body.links) expect(link.href).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/analysis\//);
  });
});

describe('coverage per community', () => {
  it('shows the administrative and the catchment view side by side', async () => {
    const { body } = await coverage('&unit=community');
    const u = byId(body.units);
    expect(Object.keys(u)).toEqual(['fixture_grid-ea', 'fixture_grid-eb', 'fixture_grid-wa', 'fixture_grid-wb']);
    expect(u['fixture_grid-wa']).toMatchObject({ residents: 900, covered_pct: 100, area_per_resident_m2: 0.667, catchment_m2_per_resident: 0.667, unsheltered_residents: 500 });
    expect(u['fixture_grid-wb']).toMatchObject({ residents: 900, covered_pct: 0, shelters: 0, area_per_resident_m2: 0, catchment_m2_per_resident: 0, unsheltered_residents: 900 });
    // ea holds the big square: 2.1 m² per resident inside its boundary, but it serves its neighbours too (1.5 by catchment)
    expect(u['fixture_grid-ea']).toMatchObject({ residents: 1000, covered_pct: 100, area_per_resident_m2: 2.1, meets_target: true, catchment_m2_per_resident: 1.5, catchment_meets_target: true, unsheltered_residents: 0 });
    // eb has no shelter of its own, yet col 5 reaches the square: 400 × 1.5 / 1400
    expect(u['fixture_grid-eb']).toMatchObject({ residents: 1400, covered_residents: 400, area_per_resident_m2: 0, catchment_m2_per_resident: 0.429, sheltered_residents: 400, unsheltered_residents: 1000 });
    expect(body.total.covered_residents).toBe(2300);
  });
});

describe('parameters change the answer as documented', () => {
  it('radius applies to every class; minutes × speed is the same thing', async () => {
    // 200 m: each shelter reaches only its own cell (S1 100, S2 400 residents)
    const a = await coverageDefault('&radius=200');
    expect(a.body.total.covered_residents).toBe(500);
    expect(a.body.parameters.radii_m).toEqual({ emergency: 200, fixed: 200, central: 200 });
    expect(a.body.parameters.radius_source.emergency).toBe('radius');
    // the link to the gaps asks the same question
    const gapsHref = a.body.links.find((l: { rel: string }) => l.rel === 'related').href;
    expect(gapsHref).toMatch(/\/analysis\/coverage\/gaps\?district=fixture_grid&radius=200&f=geojson$/);
    const b = await coverage('&minutes=4');
    expect(b.body.total.covered_residents).toBe(500);
    expect(b.body.parameters.radii_m.emergency).toBe(200);
    expect(b.body.parameters.radius_source.emergency).toBe('minutes × speed');
    const c = await coverage('&minutes=2&speed=100');
    expect(c.body.parameters.radii_m.fixed).toBe(200);
  });

  it('a per-class radius beats the all-class radius', async () => {
    const { body } = await coverage('&radius=200&radius_emergency=500');
    expect(body.parameters.radii_m).toEqual({ emergency: 500, fixed: 200, central: 200 });
    expect(body.total.covered_residents).toBe(2300);
  });

  it('shelter_status decides which shelters count: the closed fixed shelter reaches cols 1–7 within 2000 m', async () => {
    const { body } = await coverage('&shelter_status=open,closed');
    expect(body.total.covered_residents).toBe(4200);
    expect(body.total.shelters).toBe(3);
    expect(body.parameters.shelter_status).toEqual(['open', 'closed']);
    const onlyStandby = await coverage('&shelter_status=standby');
    expect(onlyStandby.body.total).toMatchObject({ covered_residents: 0, covered_pct: 0, shelters: 0, sheltered_residents: 0, unsheltered_residents: 4200 });
  });

  it('exclude_shelters leaves shelters out by id (e.g. exposed to a hazard)', async () => {
    const { body } = await coverage('&exclude_shelters=900002');
    expect(body.total).toMatchObject({ covered_residents: 900, shelters: 1, capacity: 400 });
    expect(body.parameters).toMatchObject({ excluded_shelters: [900002], shelters_not_counted: 2 });
  });

  it('class basis (default): the stated capacity where recorded, else area ÷ the class standard; target never changes it', async () => {
    // stated: S1 500, S2 1200
    const a = await coverageDefault('&shelters=true');
    expect(a.body.total).toMatchObject({ capacity: 1700, sheltered_residents: 1700 });
    expect(a.body.parameters).toMatchObject({ capacity_basis: 'class' });
    expect((await coverageDefault('&target=3')).body.total.capacity).toBe(1700);
    // S1 with no recorded capacity: 600 m² ÷ 1 m² (emergency, GB 50413) = 600; with stay class II (10–30 days): ÷ 3 m² = 200
    await db.query('UPDATE shelters SET capacity = 0 WHERE id = 900001');
    await db.query('UPDATE data_version SET version = version + 1');
    try {
      expect((await coverageDefault('')).body.total.capacity).toBe(600 + 1200);
      await db.query("UPDATE shelters SET stay_class = 'II' WHERE id = 900001");
      await db.query('UPDATE data_version SET version = version + 1');
      expect((await coverageDefault('')).body.total.capacity).toBe(200 + 1200);
      // the stated basis takes the recorded 0 as it is
      expect((await coverageDefault('&capacity_basis=stated')).body.total.capacity).toBe(1200);
    } finally {
      await db.query('UPDATE shelters SET capacity = 500, stay_class = NULL WHERE id = 900001');
      await db.query('UPDATE data_version SET version = version + 1');
    }
  });

  it('stated capacity and occupancy change the allocation', async () => {
    // stated: S1 500, S2 1200 → 1700 sheltered
    const a = await coverage('&capacity_basis=stated');
    expect(a.body.total).toMatchObject({ capacity: 1700, sheltered_residents: 1700, unsheltered_residents: 2500 });
    expect(a.body.parameters.m2_per_person).toBeNull();
    // minus 300 already housed in S2 → 500 + 900
    const b = await coverage('&capacity_basis=stated&occupancy=subtract');
    expect(b.body.total).toMatchObject({ capacity: 1400, sheltered_residents: 1400 });
    // 3 m² per person: S1 200, S2 700
    const c = await coverage('&m2_per_person=3');
    expect(c.body.total).toMatchObject({ capacity: 900, sheltered_residents: 900 });
  });

  it('target overrides the district target, and does not change capacity', async () => {
    const { body } = await coverage('&target=0.5&unit=community');
    expect(body.parameters).toMatchObject({ target_m2_per_resident: 0.5, target_source: 'target parameter', m2_per_person: 1.5 });
    expect(byId(body.units)['fixture_grid-wa'].meets_target).toBe(true);
    // on the area basis capacity stays area ÷ the district's 1.5 m²: S1 400 + S2 1400
    expect(body.total).toMatchObject({ capacity: 1800, sheltered_residents: 1800 });
  });

  it('shelters=true lists each counted shelter with its reach, 2SFCA ratio and load', async () => {
    const { body } = await coverage('&shelters=true');
    expect(body.shelters).toHaveLength(2);
    expect(body.shelters[0]).toMatchObject({ id: 900001, shelter_class: 'emergency', radius_m: 500, capacity: 400, residents_in_reach: 900, catchment_m2_per_resident: 0.6667, assigned_residents: 400, utilisation_pct: 100 });
    expect(body.shelters[1]).toMatchObject({ id: 900002, capacity: 1400, residents_in_reach: 1400, catchment_m2_per_resident: 1.5, assigned_residents: 1400 });
  });
});

describe('formats and stability', () => {
  it('f=geojson gives the units as features with their outlines', async () => {
    const r = await coverage('&f=geojson').expect('content-type', /application\/geo\+json/);
    expect(r.body.type).toBe('FeatureCollection');
    expect(r.body.features).toHaveLength(2);
    const west = r.body.features.find((f: { id: string }) => f.id === 'fixture_grid-west');
    expect(west.geometry.type).toBe('MultiPolygon');
    expect(west.properties.covered_residents).toBe(900);
    expect(r.body.total.covered_residents).toBe(2300);
    // `self` names the format answered, `alternate` the other
    const rel = (name: string) => r.body.links.find((l: { rel: string }) => l.rel === name);
    expect(rel('self')).toMatchObject({ type: 'application/geo+json', href: expect.stringMatching(/f=geojson$/) });
    expect(rel('alternate')).toMatchObject({ type: 'application/json', href: expect.stringMatching(/f=json$/) });
  });

  it('same inputs give byte-identical outputs; the answer matches the golden file', async () => {
    const a = await coverage('&unit=community&shelters=true');
    const again = await coverage('&unit=community&shelters=true');
    // (each supertest request listens on a new port, which only the links show)
    const port = /127\.0\.0\.1:\d+/g;
    expect(again.text.replace(port, 'host')).toBe(a.text.replace(port, 'host'));
    const reordered = await coverage('&shelters=true&unit=community');
    expect({ ...reordered.body, links: null }).toEqual({ ...a.body, links: null });
    const { links: _l, parameters, ...rest } = a.body;
    const { data_version: _v, ...params } = parameters;
    expectGolden('grid-coverage-community', { ...rest, parameters: params });
  });

  it('a district with no shelters at all is 0 % covered, not an error', async () => {
    await db.query(`UPDATE shelters SET deleted_at = now() WHERE district_id = 'fixture_grid'`);
    await db.query('UPDATE data_version SET version = version + 1');
    try {
      const { body } = await coverage('');
      expect(body.total).toMatchObject({ residents: 4200, covered_residents: 0, covered_pct: 0, shelters: 0, capacity: 0, catchment_m2_per_resident: 0, unsheltered_residents: 4200 });
      expect(JSON.stringify(body)).not.toMatch(/NaN|Infinity/);
    } finally {
      await db.query(`UPDATE shelters SET deleted_at = NULL WHERE district_id = 'fixture_grid'`);
      await db.query('UPDATE data_version SET version = version + 1');
    }
  });
});
