import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Express } from 'express';
import { testApp } from '../helpers/test-app.ts';
import { getLayer } from '../../catalog/layers.ts';
import { ANONYMOUS, visibleProperties } from '../../catalog/access.ts';
import { tileContaining } from '../../tiles/tile-coords.ts';
import type { Db } from '../../server/db/types.ts';
import { fetchTile, tileApp } from './helpers/http.ts';
import { decodeTile } from './helpers/decode.ts';
import { lintTile } from './helpers/mvt-lint.ts';
import { QUIET, insertRiskPoint, insertShelter } from './helpers/rows.ts';

let db: Db;
let app: Express;
let viewerKey: string;
let shelterId: number;
let pointIds: number[];
const at14 = tileContaining(QUIET.lon, QUIET.lat, 14);
const url14 = (layers: string, q = '') => `/tiles/${layers}/14/${at14.x}/${at14.y}.mvt${q}`;

beforeAll(async () => {
  ({ db, app, keys: { viewerKey } } = await testApp({ keys: { viewerKey: { role: 'viewer', name: 'wall display' } } }));
  pointIds = [
    await insertRiskPoint(db, QUIET.lon, QUIET.lat, 'red'),
    await insertRiskPoint(db, QUIET.lon + 0.001, QUIET.lat, 'blue', { district: 'yuexiu' }),
  ];
  shelterId = await insertShelter(db, QUIET.lon + 0.002, QUIET.lat + 0.001);
});
afterAll(async () => db?.close());

describe('GET /tiles/{layers}/{z}/{x}/{y}.mvt', () => {
  it('answers a Mapbox Vector Tile with Content-Length, ETag and Cache-Control', async () => {
    // Uncompressed here (test/tiles/compression.test.ts covers the encodings).
    const r = await fetchTile(app, url14('risk_points'), { 'accept-encoding': 'identity' });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/vnd.mapbox-vector-tile');
    expect(Number(r.headers['content-length'])).toBe(r.body.length);
    expect(r.headers.etag).toMatch(/^"[\w-]+"$/);
    expect(r.headers['cache-control']).toBe('public, max-age=30');
    expect(r.headers.vary).toBe('Authorization, Origin, Accept-Encoding');
    expect(lintTile(r.body)).toEqual([]);
    const features = decodeTile(r.body).risk_points;
    expect(features.map((f) => f.id).sort()).toEqual([...pointIds].sort());
  });

  it('carries exactly the properties the registry exposes, and the feature id as MVT id', async () => {
    const r = await fetchTile(app, url14('shelters'));
    const [shelter] = decodeTile(r.body).shelters;
    expect(shelter.id).toBe(shelterId);
    const allowed = visibleProperties(getLayer('shelters')!, ANONYMOUS).map((p) => p.name);
    expect(Object.keys(shelter.properties).every((k) => allowed.includes(k))).toBe(true);
    expect(shelter.properties).toMatchObject({ name_zh: '测试避难场所', effective_area_m2: 1200.5, capacity: 800, status: 'open', synthetic: true });
    for (const hidden of ['contact_phone', 'version', 'created_at', 'updated_at', 'deleted_at', 'geom', 'id']) expect(shelter.properties).not.toHaveProperty(hidden);
  });

  it('one MVT layer per requested id, in request order', async () => {
    const r = await fetchTile(app, url14('shelters,risk_points'));
    expect(lintTile(r.body)).toEqual([]);
    expect(Object.keys(decodeTile(r.body))).toEqual(['shelters', 'risk_points']);
  });

  it('filters by level and district', async () => {
    const red = decodeTile((await fetchTile(app, url14('risk_points', '?level=red,orange'))).body).risk_points;
    expect(red.map((f) => f.id)).toEqual([pointIds[0]]);
    const yuexiu = decodeTile((await fetchTile(app, url14('risk_points,shelters', '?district=yuexiu'))).body);
    expect(yuexiu.risk_points.map((f) => f.id)).toEqual([pointIds[1]]);
    expect(yuexiu.shelters).toBeUndefined();
  });

  it('an empty tile is 204 with an ETag and Cache-Control but no body', async () => {
    const r = await fetchTile(app, '/tiles/risk_points/14/0/0.mvt');
    expect(r.status).toBe(204);
    expect(r.body.length).toBe(0);
    expect(r.headers.etag).toBeTruthy();
    expect(r.headers['cache-control']).toContain('max-age');
  });

  it('If-None-Match with the ETag gives 304; HEAD gives the headers alone', async () => {
    const first = await fetchTile(app, url14('risk_points'));
    const again = await fetchTile(app, url14('risk_points'), { 'if-none-match': first.headers.etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect(again.headers.etag).toBe(first.headers.etag);
    const other = await fetchTile(app, url14('risk_points'), { 'if-none-match': '"something-else"' });
    expect(other.status).toBe(200);
    const head = await fetchTile(app, url14('risk_points'), {}, 'head');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(first.body.length));
    expect(head.body.length).toBe(0);
  });

  it.each([
    ['/tiles/risk_points/25/0/0.mvt', 'z'],
    ['/tiles/risk_points/-1/0/0.mvt', 'z'],
    ['/tiles/risk_points/a/0/0.mvt', 'z'],
    ['/tiles/risk_points/1.5/0/0.mvt', 'z'],
    ['/tiles/risk_points/19/0/0.mvt', 'z'],
    ['/tiles/streets/7/100/50.mvt', 'z'],
    ['/tiles/risk_points/3/8/0.mvt', 'x'],
    ['/tiles/risk_points/3/0/8.mvt', 'y'],
    ['/tiles/risk_points/3/x/0.mvt', 'x'],
    ['/tiles/risk_points/3/0/1e3.mvt', 'y'],
    ['/tiles/risk_points,risk_points/3/0/0.mvt', 'layers'],
    ['/tiles/risk_points,/3/0/0.mvt', 'layers'],
    ['/tiles/risk_points/3/0/0.mvt?level=purple', 'level'],
    ['/tiles/risk_points/3/0/0.mvt?district=atlantis', 'district'],
    ['/tiles/districts/3/0/0.mvt?level=red', 'level'],
  ])('%s is 400 problem+json naming %s', async (url, param) => {
    const r = await fetchTile(app, url);
    expect(r.status).toBe(400);
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = JSON.parse(r.text);
    expect(body).toMatchObject({ status: 400, param });
    expect(body.detail).toContain(param);
  });

  it('unknown layers are 404; restricted layers are 404 to anonymous callers too', async () => {
    for (const url of ['/tiles/no_such_layer/3/0/0.mvt', '/tiles/hazard_sources/3/0/0.mvt', '/tiles/risk_points,hazard_sources/3/0/0.mvt', '/tiles/hazard_sources.json']) {
      const r = await fetchTile(app, url);
      expect(r.status, url).toBe(404);
      expect(JSON.parse(r.text).status).toBe(404);
    }
  });

  it('a caller with an API key gets restricted layers and fields, never from the public cache', async () => {
    const anonymous = decodeTile((await fetchTile(app, url14('shelters'))).body).shelters[0];
    expect(anonymous.properties.contact_phone).toBeUndefined();
    const auth = { authorization: `Bearer ${viewerKey}` };
    const r = await fetchTile(app, url14('shelters'), auth);
    expect(r.headers['cache-control']).toBe('private, max-age=30');
    expect(decodeTile(r.body).shelters[0].properties.contact_phone).toBe('020-12345678');
    const hazards = await fetchTile(app, '/tiles/hazard_sources/8/208/111.mvt', auth);
    expect([200, 204]).toContain(hazards.status);
  });

  it('layers outside their own zoom range are left out of a multi-layer tile', async () => {
    const r = await fetchTile(app, `/tiles/streets,risk_points/5/${tileContaining(QUIET.lon, QUIET.lat, 5).x}/${tileContaining(QUIET.lon, QUIET.lat, 5).y}.mvt`);
    expect(r.status).toBe(200);
    expect(Object.keys(decodeTile(r.body))).toEqual(['risk_points']);
  });
});

describe('failures', () => {
  it('a failing engine gives a 500 problem through the error middleware, not a hung request', async () => {
    const failing = { kind: 'postgis' as const, renderLayer: async () => Promise.reject(new Error('database went away')), featureChanged() {} };
    const { app: broken, service } = tileApp(db, { engine: failing });
    for (const headers of [{}, { authorization: `Bearer ${viewerKey}` }] as Record<string, string>[]) {
      const r = await fetchTile(broken, url14('risk_points'), headers);
      expect(r.status).toBe(500);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect(broken.locals.tileFastPath.rendered).toBeGreaterThan(0);
    expect(service.cache.stats().entries).toBe(0);
    await service.close();
  });
});

describe('GET /tiles/{layers}.json', () => {
  it('is TileJSON 3.0.0 derived from the registry', async () => {
    const r = await fetchTile(app, '/tiles/risk_points,districts.json?level=red');
    expect(r.status).toBe(200);
    const tj = JSON.parse(r.text);
    expect(tj.tilejson).toBe('3.0.0');
    expect(tj.tiles).toEqual([expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/tiles\/risk_points,districts\/\{z\}\/\{x\}\/\{y\}\.mvt\?level=red$/)]);
    expect(tj.minzoom).toBe(0);
    expect(tj.maxzoom).toBe(18);
    expect(tj.bounds).toHaveLength(4);
    expect(tj.bounds[0]).toBeLessThanOrEqual(QUIET.lon);
    expect(tj.center).toHaveLength(3);
    expect(tj.attribution).toMatch(/[Ss]ynthetic/);
    const risk = tj.vector_layers.find((l: { id: string }) => l.id === 'risk_points');
    expect(Object.keys(risk.fields)).toEqual(expect.arrayContaining(['name_zh', 'level', 'point_count', 'red', 'highest_level']));
    expect(risk.fields.level).toContain('red');
    const districts = tj.vector_layers.find((l: { id: string }) => l.id === 'districts');
    expect(Object.keys(districts.fields)).toContain('id');
  });

  it('lists restricted fields only for callers who may see them', async () => {
    const anon = JSON.parse((await fetchTile(app, '/tiles/shelters.json')).text);
    expect(anon.vector_layers[0].fields).not.toHaveProperty('contact_phone');
    const auth = JSON.parse((await fetchTile(app, '/tiles/shelters,hazard_sources.json', { authorization: `Bearer ${viewerKey}` })).text);
    expect(auth.vector_layers[0].fields).toHaveProperty('contact_phone');
    expect(auth.vector_layers.map((l: { id: string }) => l.id)).toEqual(['shelters', 'hazard_sources']);
  });
});
