/**
 * Every bad input to /analysis/* is a 4xx problem+json naming the field, and
 * changes nothing; cached results follow edits (ChangeBus) and the data version.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { testApp } from '../helpers/test-app.ts';
import { ChangeBus } from '../../server/changes.ts';
import type { Db } from '../../server/db/types.ts';
import type { AnalysisServices } from '../../server/analysis/service.ts';
import { loadGridFixture } from './fixture-db.ts';

let db: Db;
let app: Express;
const changes = new ChangeBus();
beforeAll(async () => {
  ({ db, app } = await testApp({ app: { changes } }));
  await loadGridFixture(db);
});
afterAll(async () => db?.close());

const problem = async (path: string, status: number, param: string) => {
  const r = await request(app).get(path).expect(status).expect('content-type', /application\/problem\+json/);
  const body = JSON.parse(r.text);
  expect(body.status, path).toBe(status);
  expect(body.param, path).toBe(param);
  return body;
};

describe('bad input', () => {
  it('unknown district → 404 naming district, on every district endpoint', async () => {
    for (const path of ['/analysis/coverage', '/analysis/coverage/gaps', '/analysis/siting']) {
      const body = await problem(`${path}?district=atlantis`, 404, 'district');
      expect(body.detail).toContain('atlantis');
    }
    await problem('/analysis/nearest-shelters?lon=113&lat=23&district=atlantis', 404, 'district');
  });

  it('missing or malformed district → 400', async () => {
    await problem('/analysis/coverage', 400, 'district');
    await problem('/analysis/coverage?district=Huadu%3B', 400, 'district');
  });

  it('radius ≤ 0, not a number, absurd (> 50 km), or both radius and minutes → 400 naming the parameter', async () => {
    for (const [q, param] of [
      ['radius=0', 'radius'],
      ['radius=-5', 'radius'],
      ['radius=abc', 'radius'],
      ['radius=', 'radius'],
      ['radius=50001', 'radius'],
      ['radius_fixed=1e9', 'radius_fixed'],
      ['minutes=0', 'minutes'],
      ['minutes=500&speed=2000', 'minutes'],
      ['minutes_central=5&radius_central=100', 'minutes_central'],
      ['radius=100&minutes=5', 'minutes'],
      ['speed=0', 'speed'],
    ]) {
      const body = await problem(`/analysis/coverage?district=fixture_grid&${q}`, 400, param);
      expect(body['invalid-params'][0].reason.length).toBeGreaterThan(3);
    }
  });

  it('other parameters: enums, lists, unknown and repeated parameters', async () => {
    for (const [q, param] of [
      ['unit=province', 'unit'],
      ['decay=linear', 'decay'],
      ['shelter_status=open,broken', 'shelter_status'],
      ['capacity_basis=guess', 'capacity_basis'],
      ['m2_per_person=0', 'm2_per_person'],
      ['exclude_shelters=12,abc', 'exclude_shelters'],
      ['f=xml', 'f'],
      ['radius_emergncy=500', 'radius_emergncy'],
      ['radius=500&radius=600', 'radius'],
    ]) {
      await problem(`/analysis/coverage?district=fixture_grid&${q}`, 400, param);
    }
    await problem('/analysis/coverage/gaps?district=fixture_grid&limit=0', 400, 'limit');
  });

  it('k ≤ 0 or > 100, bad spacing or class → 400', async () => {
    for (const [q, param] of [
      ['k=0', 'k'],
      ['k=101', 'k'],
      ['k=2.5', 'k'],
      ['spacing=10', 'spacing'],
      ['class=palace', 'class'],
      ['capacity_aware=maybe', 'capacity_aware'],
      ['area_m2=-1', 'area_m2'],
    ]) {
      await problem(`/analysis/siting?district=fixture_grid&${q}`, 400, param);
    }
  });

  it('nearest-shelters: coordinates and n', async () => {
    await problem('/analysis/nearest-shelters?lat=23', 400, 'lon');
    await problem('/analysis/nearest-shelters?lon=181&lat=23', 400, 'lon');
    await problem('/analysis/nearest-shelters?lon=113&lat=-91', 400, 'lat');
    await problem('/analysis/nearest-shelters?lon=113&lat=23&n=0', 400, 'n');
    await problem('/analysis/nearest-shelters?lon=113&lat=23&n=51', 400, 'n');
    await problem('/analysis/nearest-shelters?lon=113&lat=23&max_distance=0', 400, 'max_distance');
  });

  it('bad requests change nothing', async () => {
    const before = await db.query('SELECT version FROM data_version');
    await request(app).get('/analysis/siting?district=fixture_grid&k=0').expect(400);
    await request(app).post('/analysis/area-summary').send({ type: 'Point', coordinates: [0, 0] }).expect(400);
    expect((await db.query('SELECT version FROM data_version')).rows).toEqual(before.rows);
    expect((await db.query(`SELECT count(*)::int AS n FROM shelters WHERE district_id = 'fixture_grid'`)).rows[0].n).toBe(3);
  });
});

describe('cached results follow the data', () => {
  it('an edit announced on the ChangeBus drops cached results', async () => {
    const service = (app.locals.analysis as AnalysisServices).models;
    const first = await request(app).get('/analysis/coverage?district=fixture_grid').expect(200);
    expect(first.body.total.covered_residents).toBe(2300);
    const again = await request(app).get('/analysis/coverage?district=fixture_grid').expect(200);
    expect({ ...again.body, links: null }).toEqual({ ...first.body, links: null });
    expect(service.cache.size).toBeGreaterThan(0);
    // reopen the closed fixed shelter without touching data_version (its triggers off, replica
    // role): only the announcement can tell
    await db.tx(async (q) => {
      await q.query(`SET LOCAL session_replication_role = replica`);
      await q.query(`UPDATE shelters SET status = 'open' WHERE id = 900003`);
    });
    const stale = await request(app).get('/analysis/coverage?district=fixture_grid').expect(200);
    expect(stale.body.total.covered_residents).toBe(2300);
    changes.emit({ layer: 'shelters', id: 900003, op: 'update' });
    expect(service.cache.size).toBe(0);
    const fresh = await request(app).get('/analysis/coverage?district=fixture_grid').expect(200);
    expect(fresh.body.total.covered_residents).toBe(4200);
  });

  it('a new data version (a write by another process) is a different cache key', async () => {
    await db.query(`UPDATE shelters SET status = 'closed' WHERE id = 900003`);
    await db.query('UPDATE data_version SET version = version + 1');
    const r = await request(app).get('/analysis/coverage?district=fixture_grid').expect(200);
    expect(r.body.total.covered_residents).toBe(2300);
    const gaps = await request(app).get('/analysis/coverage/gaps?district=fixture_grid').expect(200);
    expect(gaps.body.uncovered_residents).toBe(1900);
  });
});
