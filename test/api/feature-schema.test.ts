import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { testDb } from '../setup/db.ts';
import { createKey } from '../../server/auth/keys.ts';
import type { Db } from '../../server/db/types.ts';
import { appOn } from '../helpers/test-app.ts';

// GET /ogc/collections/{id}/schema: what an edit form is built from.
let db: Db;
let app: Express;
let editor: string;
beforeAll(async () => {
  db = await testDb();
  app = appOn(db);
  editor = `Bearer ${(await createKey(db, { name: 'schema reader', role: 'editor' })).key}`;
});
afterAll(async () => db?.close());

describe('feature schema', () => {
  it('gives types, enums, bounds, required and server-owned fields of the registry', async () => {
    const res = await request(app).get('/ogc/collections/shelters/schema').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/schema\+json/);
    const s = res.body;
    expect(s['x-geometry']).toBe('Point');
    expect(s['x-editable']).toBe(true);
    expect(s.required).toEqual(expect.arrayContaining(['name_zh', 'district_id', 'capacity', 'effective_area_m2']));
    expect(s.required).not.toContain('occupancy');
    expect(s.properties.capacity).toMatchObject({ type: 'integer', minimum: 0 });
    expect(s.properties.effective_area_m2.minimum).toBe(1);
    expect(s.properties.status.enum).toEqual(expect.arrayContaining(['open', 'standby', 'full', 'closed']));
    // Occupancy moves only through check-ins; synthetic is the server's.
    expect(s.properties.occupancy.readOnly).toBe(true);
    expect(s.properties.synthetic.readOnly).toBe(true);
    expect(s.properties.name_zh.readOnly).toBeUndefined();
  });

  it('follows what the caller may see: a restricted layer is 404 without a key, and restricted fields only with one', async () => {
    await request(app).get('/ogc/collections/hazard_sources/schema').expect(404);
    const keyed = await request(app).get('/ogc/collections/hazard_sources/schema').set('authorization', editor).expect(200);
    expect(Object.keys(keyed.body.properties).length).toBeGreaterThan(3);
    const anon = await request(app).get('/ogc/collections/shelters/schema').expect(200);
    const withKey = await request(app).get('/ogc/collections/shelters/schema').set('authorization', editor).expect(200);
    expect(Object.keys(withKey.body.properties).length).toBeGreaterThanOrEqual(Object.keys(anon.body.properties).length);
  });

  it('says a computed layer is not editable, and an unknown collection is a 404 problem', async () => {
    const gaps = await request(app).get('/ogc/collections/coverage_gaps/schema').expect(200);
    expect(gaps.body['x-editable']).toBe(false);
    const missing = await request(app).get('/ogc/collections/nope/schema').expect(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});
