import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { testDb } from '../setup/db.ts';
import { createKey } from '../../server/auth/keys.ts';
import type { Db } from '../../server/db/types.ts';
import { appOn } from '../helpers/test-app.ts';

/**
 * Hostile input on both backends: every case is a clear 4xx problem naming
 * the field, and changes nothing in the database.
 */
let db: Db;
let app: Express;
let editor: string;
let inside: [number, number];
let shelterId: number;

beforeAll(async () => {
  db = await testDb();
  app = appOn(db);
  editor = `Bearer ${(await createKey(db, { name: 'desk', role: 'editor' })).key}`;
  const p = await db.query<{ x: number; y: number }>("SELECT ST_X(p) AS x, ST_Y(p) AS y FROM (SELECT ST_PointOnSurface(geom) AS p FROM districts WHERE id = 'huadu') s");
  inside = [p.rows[0].x, p.rows[0].y];
  const s = await db.query<{ id: number }>("SELECT id FROM shelters WHERE district_id = 'huadu' AND status <> 'closed' AND capacity > occupancy ORDER BY id LIMIT 1");
  shelterId = Number(s.rows[0].id);
});
afterAll(async () => db?.close());

/** Every table a refused request could touch, summarised. */
async function checksum(): Promise<string> {
  const r = await db.query<{ s: string }>(
    `SELECT md5(string_agg(t, '|' ORDER BY t)) AS s FROM (
       SELECT 'n' || id || version || ST_AsText(geom) AS t FROM networks
       UNION ALL SELECT 'r' || id || version || name_zh FROM risk_points
       UNION ALL SELECT 's' || id || occupancy || version FROM shelters
       UNION ALL SELECT 'a' || id FROM audit_log
       UNION ALL SELECT 'v' || version FROM data_version) x`,
  );
  return r.rows[0].s;
}

const problemOf = (r: request.Response) => {
  expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
  return JSON.parse(r.text) as { status: number; param?: string; detail?: string };
};

const square = (x: number, y: number, d: number) => [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]];
const pipe = (coordinates: number[][]) => ({
  type: 'Feature',
  geometry: { type: 'LineString', coordinates },
  properties: { name_zh: '测试管道', district_id: 'huadu', kind: 'gas_pipeline' },
});

describe('geometry input: one rule before any SQL (no "Antipodal edge detected" 500)', () => {
  const world = { type: 'Polygon', coordinates: [[[-180, -90], [180, -90], [180, 90], [-180, 90], [-180, -90]]] };
  // (113, 0) and (-67, 0) are antipodes: PostGIS's geography functions fail on the edge between them.
  const longEdge = { type: 'Polygon', coordinates: [[[113, 0], [-67, 0], [-67, 1], [113, 0]]] };

  it.each([
    ['the whole world', world, 'body'],
    ['a polygon with a 180°-long edge', longEdge, 'body'],
    ['a Feature with a 180°-long edge', { type: 'Feature', properties: {}, geometry: longEdge }, 'geometry'],
    ['a longitude beyond 180', { type: 'Polygon', coordinates: [[[113, 23], [200, 23], [113, 23.1], [113, 23]]] }, 'coordinates.0.1'],
    ['a ring of one repeated point', { type: 'Polygon', coordinates: [[[113, 23], [113, 23], [113, 23], [113, 23]]] }, 'body'],
  ])('area summary: %s → 400 naming %s', async (_what, body, param) => {
    const r = await request(app).post('/analysis/area-summary').send(body).expect(400);
    expect(problemOf(r).param).toBe(param);
  });

  it('area summary: more vertices than GEOMETRY_MAX_VERTICES → 400; the limit is configurable', async () => {
    const ring = Array.from({ length: 200 }, (_, i) => [113.2 + 0.01 * Math.cos((2 * Math.PI * i) / 200), 23.4 + 0.01 * Math.sin((2 * Math.PI * i) / 200)]);
    ring.push(ring[0]);
    const body = { type: 'Polygon', coordinates: [ring] };
    await request(app).post('/analysis/area-summary').send(body).expect(200);
    const strict = appOn(db, { GEOMETRY_MAX_VERTICES: '100' });
    const r = await request(strict).post('/analysis/area-summary').send(body).expect(400);
    expect(problemOf(r).detail).toMatch(/at most 100 vertices/);
  });

  it('scenario: a whole-world warning_area → 400 naming warning_area', async () => {
    const r = await request(app).post('/analysis/scenario').send({ district: 'huadu', warning_area: world }).expect(400);
    expect(problemOf(r).param).toBe('warning_area');
    const r2 = await request(app).post('/analysis/scenario').send({ district: 'huadu', rainfall_areas: [{ geometry: longEdge, rainfall_mm_h: 50 }] }).expect(400);
    expect(problemOf(r2).param).toBe('rainfall_areas.0.geometry');
  });

  it('edits: a network line to the antipode → 400 naming geometry, nothing stored', async () => {
    const before = await checksum();
    const [x, y] = inside;
    const r = await request(app).post('/ogc/collections/networks/items').set('authorization', editor).send(pipe([[x, y], [x - 180, -y]])).expect(400);
    expect(problemOf(r).param).toBe('geometry');
    expect(await checksum()).toBe(before);
  });

  it('imports: a line to the antipode is a bad row; nothing stored', async () => {
    const before = await checksum();
    const [x, y] = inside;
    const fc = { type: 'FeatureCollection', features: [pipe([[x, y], [x + 0.01, y]]), pipe([[x, y], [x - 180, -y]])] };
    const r = await request(app).post('/import/networks').set('authorization', editor).set('content-type', 'application/geo+json').send(JSON.stringify(fc)).expect(422);
    expect(JSON.parse(r.text).report.errors).toEqual([expect.objectContaining({ row: 2, field: 'geometry' })]);
    expect(await checksum()).toBe(before);
  });
});

describe('lines and polygons lie within their district (plus 100 m), not merely touch it', () => {
  it('edits: a 50 km pipeline leaving Huadu → 422 naming geometry; a short one inside → 201', async () => {
    const before = await checksum();
    const [x, y] = inside;
    const r = await request(app).post('/ogc/collections/networks/items').set('authorization', editor).send(pipe([[x, y], [x + 0.5, y]])).expect(422);
    expect(problemOf(r).param).toBe('geometry');
    expect(problemOf(r).detail).toMatch(/km outside district huadu/);
    expect(await checksum()).toBe(before);
    await request(app).post('/ogc/collections/networks/items').set('authorization', editor).send(pipe([[x, y], [x + 0.005, y]])).expect(201);
  });

  it('edits: replacing a line by one leaving the district → 422, unchanged', async () => {
    const [x, y] = inside;
    const created = await request(app).post('/ogc/collections/networks/items').set('authorization', editor).send(pipe([[x, y], [x, y + 0.005]])).expect(201);
    const before = await checksum();
    const r = await request(app)
      .patch(`/ogc/collections/networks/items/${created.body.id}`)
      .set('authorization', editor)
      .set('if-match', created.headers.etag)
      .send({ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: [[x, y], [x, y + 0.6]] } });
    expect(r.text).toMatch(/outside district/);
    expect(r.status).toBe(422);
    expect(await checksum()).toBe(before);
  });

  it('imports: a line leaving the district is a bad row', async () => {
    const before = await checksum();
    const [x, y] = inside;
    const fc = { type: 'FeatureCollection', features: [pipe([[x, y], [x + 0.5, y]])] };
    const r = await request(app).post('/import/networks').set('authorization', editor).set('content-type', 'application/geo+json').send(JSON.stringify(fc)).expect(422);
    expect(JSON.parse(r.text).report.errors).toEqual([expect.objectContaining({ row: 1, field: 'geometry', reason: expect.stringMatching(/km outside/) })]);
    expect(await checksum()).toBe(before);
  });
});

describe('numbers: canonical decimals only', () => {
  it.each(['0x10', '0b11', '+1', '%201', '1e3', '010', '1.0'])('shelter id %s → 400 naming id, no check-in', async (id) => {
    const before = await checksum();
    const r = await request(app).post(`/shelters/${id}/checkins`).set('authorization', editor).send({ people: 1 }).expect(400);
    expect(problemOf(r).param).toBe('id');
    expect(await checksum()).toBe(before);
  });

  it('the canonical id still works', async () => {
    await request(app).post(`/shelters/${shelterId}/checkins`).set('authorization', editor).send({ people: 1 }).expect(200);
  });

  it.each([
    ['/analysis/coverage?district=huadu&radius=0x10', 'radius'],
    ['/analysis/coverage?district=huadu&radius=%2B500', 'radius'],
    ['/analysis/coverage?district=huadu&radius=%20500', 'radius'],
    ['/analysis/siting?district=huadu&k=1e1', 'k'],
    ['/analysis/coverage/gaps?district=huadu&limit=010', 'limit'],
    ['/analysis/nearest-shelters?lon=0x71&lat=23', 'lon'],
    ['/ogc/collections/risk_points/items?limit=%2B5', 'limit'],
    ['/ogc/collections/risk_points/items?offset=0b1', 'offset'],
    ['/ogc/collections/risk_points/items?bbox=113,%2023,114,24', 'bbox'],
    ['/maps/static.png?district=huadu&width=0x100', 'width'],
    ['/maps/static.png?bbox=113,23,%2B114,24', 'bbox'],
    ['/risk/inspections/due?within_days=07', 'within_days'],
    ['/tiles/risk_points/08/1/1.mvt', 'z'],
  ])('%s → 400 naming %s', async (url, param) => {
    const r = await request(app).get(url).expect(400);
    expect(problemOf(r).param).toBe(param);
  });

  it('canonical forms of the same values are accepted', async () => {
    await request(app).get('/ogc/collections/risk_points/items?limit=5&bbox=113,23,114,24').expect(200);
    await request(app).get('/analysis/nearest-shelters?lon=113.2&lat=23.4&n=1').expect(200);
    await request(app).get('/tiles/risk_points/8/213/111.mvt').expect((r) => expect([200, 204]).toContain(r.status));
  });
});

describe('ill-formed Unicode: the same 400 everywhere, never a 422 quoting PostgreSQL', () => {
  it('a lone surrogate in a feature name → 400 naming the property; nothing stored', async () => {
    const before = await checksum();
    const body = { type: 'Feature', geometry: { type: 'Point', coordinates: inside }, properties: { name_zh: 'x\ud800', district_id: 'huadu', level: 'orange', category: 'gas', responsible_unit: 'u' } };
    const r = await request(app).post('/ogc/collections/risk_points/items').set('authorization', editor).send(body).expect(400);
    expect(problemOf(r).param).toBe('properties.name_zh');
    expect(problemOf(r).detail).not.toMatch(/json|syntax/i);
    expect(await checksum()).toBe(before);
  });

  it('a lone surrogate in an analysis body and a check-in reference → 400', async () => {
    const r = await request(app).post('/analysis/area-summary').send({ type: 'Feature', properties: { note: '\udc00' }, geometry: { type: 'Polygon', coordinates: square(113.2, 23.4, 0.01) } }).expect(400);
    expect(problemOf(r).param).toBe('properties.note');
    const before = await checksum();
    const c = await request(app).post(`/shelters/${shelterId}/checkins`).set('authorization', editor).send({ people: 1, evacuee: '\ud83d' }).expect(400);
    expect(problemOf(c).param).toBe('evacuee');
    expect(await checksum()).toBe(before);
  });

  it('bytes that are not UTF-8 in a JSON body → 400 naming body', async () => {
    const raw = Buffer.concat([Buffer.from('{"type":"Polygon","coordinates":[],"x":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]);
    const r = await request(app).post('/analysis/area-summary').set('content-type', 'application/json').serialize((b) => b).send(raw).expect(400);
    expect(problemOf(r).param).toBe('body');
  });

  it('percent-encoded non-UTF-8 in a query or a path → 400', async () => {
    const q = await request(app).get('/analysis/coverage?district=%ED%A0%80').expect(400);
    expect(problemOf(q).param).toBe('query');
    const p = await request(app).post('/shelters/%ED%A0%80/checkins').set('authorization', editor).send({ people: 1 }).expect(400);
    expect(problemOf(p).param).toBe('path');
    const t = await request(app).get('/ogc/collections/risk_points/items?q=%FF').expect(400);
    expect(problemOf(t).param).toBe('query');
  });

  it('imports: a lone surrogate in a GeoJSON property or bytes that are not UTF-8 → 400; nothing stored', async () => {
    const before = await checksum();
    const [x, y] = inside;
    const fc = { type: 'FeatureCollection', features: [{ ...pipe([[x, y], [x + 0.001, y]]), properties: { name_zh: '\ud800', district_id: 'huadu', kind: 'gas_pipeline' } }] };
    const r = await request(app).post('/import/networks').set('authorization', editor).set('content-type', 'application/geo+json').send(JSON.stringify(fc)).expect(400);
    expect(problemOf(r).param).toBe('row 1: name_zh');
    const csv = Buffer.concat([Buffer.from('name_zh,district_id,level,category,responsible_unit,lon,lat\n'), Buffer.from([0xff, 0xfe]), Buffer.from(`,huadu,blue,gas,u,${x},${y}\n`)]);
    const c = await request(app).post('/import/risk_points').set('authorization', editor).set('content-type', 'text/csv').send(csv).expect(400);
    expect(problemOf(c).param).toBe('body');
    expect(await checksum()).toBe(before);
  });
});

describe('Content-Length over the route limit: 413 at once, before the body is read', () => {
  let server: http.Server;
  let port: number;
  beforeAll(async () => {
    const small = appOn(db, { IMPORT_MAX_MB: '1' });
    server = http.createServer(small);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Announces `length` bytes, sends only 64 KiB, and never ends the body: only a refusal from the header can answer. */
  const announce = (path: string, length: number, type: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ port, host: '127.0.0.1', path, method: 'POST', headers: { 'content-length': String(length), 'content-type': type, authorization: editor } });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.write(Buffer.alloc(64 * 1024, 0x20));
    });

  it('a 210 MB JSON body announced → 413 naming Content-Length', async () => {
    const before = await checksum();
    const r = await announce('/analysis/area-summary', 210 * 1024 * 1024, 'application/json');
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).param).toBe('Content-Length');
    expect(await checksum()).toBe(before);
  }, 20_000);

  it('an import larger than IMPORT_MAX_MB announced → 413', async () => {
    const r = await announce('/import/risk_points', 2 * 1024 * 1024, 'text/csv');
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).detail).toMatch(/1048576 bytes/);
  }, 20_000);
});
