import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { testApp } from '../helpers/test-app.ts';
import type { Db } from '../../server/db/types.ts';

// Who may call what: every writing endpoint refuses anonymous callers (401) and
// viewers (403) before it reads the body, and the database stays as it was.
let db: Db;
let app: Express;
let viewer: string;
beforeAll(async () => {
  ({ db, app, bearer: { viewer } } = await testApp({ keys: { viewer: 'viewer' } }));
});
afterAll(async () => db?.close());

const WRITES: [method: 'post' | 'put' | 'patch' | 'delete', path: string][] = [
  ['post', '/ogc/collections/risk_points/items'],
  ['put', '/ogc/collections/risk_points/items/1'],
  ['patch', '/ogc/collections/risk_points/items/1'],
  ['delete', '/ogc/collections/risk_points/items/1'],
  ['post', '/ogc/collections/risk_points/items/1/restore'],
  ['post', '/import/risk_points'],
  ['post', '/shelters/1/checkins'],
  ['post', '/shelters/1/checkouts'],
  ['post', '/risk/points/1/inspections'],
  ['put', '/risk/points/1/level'],
  ['put', '/risk/hazard-sources/1/substances'],
  ['post', '/ogc/collections/candidate_sites/items'],
  ['patch', '/ogc/collections/candidate_sites/items/1'],
  ['patch', '/ogc/collections/shelters/items/1'],
  ['post', '/shelters/usability/hazard-zones'],
  ['delete', '/analysis/scenario/1'],
];

async function fingerprint(): Promise<string> {
  const r = await db.query<{ s: string }>(
    `SELECT md5(concat_ws('|', (SELECT version FROM data_version), (SELECT count(*) FROM audit_log),
       (SELECT sum(version) FROM risk_points), (SELECT sum(occupancy) FROM shelters), (SELECT count(*) FROM shelters WHERE usable), (SELECT count(*) FROM scenario_runs),
       (SELECT sum(version) FROM candidate_sites), (SELECT count(*) FROM risk_points))) AS s`,
  );
  return r.rows[0].s;
}

describe('role × endpoint matrix', () => {
  it.each(WRITES)('%s %s: anonymous 401, viewer 403, nothing changed', async (method, path) => {
    const before = await fingerprint();
    const body = { type: 'Feature', properties: {}, people: 1 };
    const anon = await request(app)[method](path).set('if-match', '"v1"').send(body);
    expect(anon.status).toBe(401);
    expect(anon.headers['content-type']).toMatch(/problem\+json/);
    const asViewer = await request(app)[method](path).set('authorization', viewer).set('if-match', '"v1"').send(body);
    expect(asViewer.status).toBe(403);
    expect(await fingerprint()).toBe(before);
  });

  it('history needs at least a viewer key; hazard_sources is invisible without a key', async () => {
    await request(app).get('/ogc/collections/risk_points/items/1/history').expect(401);
    await request(app).get('/ogc/collections/hazard_sources/items').expect(404);
    await request(app).get('/ogc/collections/hazard_sources/items?limit=1').set('authorization', viewer).expect(200);
    await request(app).get('/tiles/hazard_sources/10/835/444.mvt').expect(404);
    await request(app).get('/maps/static.png?district=jianghai&layers=hazard_sources').expect(404);
  });
});
