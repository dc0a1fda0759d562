import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { createKey } from '../../server/auth/keys.ts';
import type { Db } from '../../server/db/types.ts';
import { LAYERS, getLayer } from '../../catalog/layers.ts';
import { visibleProperties, ANONYMOUS } from '../../catalog/access.ts';
import { wgs84ToGcj02 } from '../../server/ogc/crs.ts';
import type { AnalysisServices } from '../../server/analysis/service.ts';
import { appOn } from '../helpers/test-app.ts';
import { body, expectProblem, openOgcApp, walkPages } from './helpers.ts';
import { YUEXIU_BOX } from './seed.ts';

let db: Db;
let app: Express;
let viewerKey: string;
const auth = () => ({ authorization: `Bearer ${viewerKey}` });

beforeAll(async () => {
  ({ db, app } = await openOgcApp());
  viewerKey = (await createKey(db, { name: 'ogc test', role: 'viewer' })).key;
});
afterAll(async () => db?.close());

const ABSOLUTE = /^http:\/\/127\.0\.0\.1:\d+\/ogc/;
// Every public layer of the registry is a collection, computed ones (coverage_gaps) included.
const publicCollections = LAYERS.filter((l) => l.access === 'public').map((l) => l.id);

async function liveCount(table: string, where = 'true', params: unknown[] = []): Promise<number> {
  const softDelete = (await db.query(`SELECT 1 FROM information_schema.columns WHERE table_name = $1 AND column_name = 'deleted_at'`, [table])).rows.length > 0;
  const r = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${softDelete ? 'deleted_at IS NULL AND ' : ''}${where}`, params);
  return r.rows[0].n;
}

describe('landing page, conformance, API', () => {
  it('links self, service-desc, service-doc, conformance and data, all absolute', async () => {
    const r = await request(app).get('/ogc').expect(200).expect('content-type', /^application\/json/);
    const links = body(r).links as { rel: string; href: string; type: string }[];
    for (const rel of ['self', 'service-desc', 'service-doc', 'conformance', 'data']) expect(links.map((l) => l.rel)).toContain(rel);
    for (const l of links) expect(l.href).toMatch(ABSOLUTE);
    expect(links.find((l) => l.rel === 'service-desc')!.type).toBe('application/vnd.oai.openapi+json;version=3.0');
    const doc = await request(app).get(new URL(links.find((l) => l.rel === 'service-doc')!.href).pathname + '?f=html').expect(200);
    expect(doc.headers['content-type']).toMatch(/^text\/html/);
    expect(doc.text).toContain('/collections/risk_points/items');
  });

  it('declares only the conformance classes implemented', async () => {
    const r = await request(app).get('/ogc/conformance').expect(200);
    expect(body(r).conformsTo.sort()).toEqual([
      'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core',
      'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson',
      'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html',
      'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30',
      'http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs',
      'http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables',
      'http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters',
      'http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter',
      'http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter',
      'http://www.opengis.net/spec/cql2/1.0/conf/cql2-text',
      'http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2',
      'http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators',
      'http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions',
      'http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus',
    ].sort());
  });

  it('honours PUBLIC_URL in every link', async () => {
    // A second app on the same database: only the configuration differs.
    const proxied = appOn(db, { PUBLIC_URL: 'https://map.example.gov.cn/onemap' });
    const r = await request(proxied).get('/ogc/collections/risk_points/items?limit=1').expect(200);
    for (const l of body(r).links) expect(l.href).toMatch(/^https:\/\/map\.example\.gov\.cn\/onemap\/ogc\//);
  });
});

describe('collections', () => {
  it('lists every public layer with bilingual title, computed extent, items and tile links', async () => {
    const r = await request(app).get('/ogc/collections').expect(200).expect('content-type', /^application\/json/);
    const b = body(r);
    expect(b.collections.map((c: { id: string }) => c.id)).toEqual(publicCollections);
    const risk = b.collections.find((c: { id: string }) => c.id === 'risk_points');
    expect(risk.title).toBe('风险点与危险源 / Risk points and hazard sources');
    expect(risk.itemType).toBe('feature');
    expect(risk.crs[0]).toBe('http://www.opengis.net/def/crs/OGC/1.3/CRS84');
    expect(risk.crs).toContain('http://www.opengis.net/def/crs/EPSG/0/4490');
    const ext = await db.query<{ a: number; b: number; c: number; d: number }>(
      'SELECT ST_XMin(e) a, ST_YMin(e) b, ST_XMax(e) c, ST_YMax(e) d FROM (SELECT ST_Extent(geom) e FROM risk_points WHERE deleted_at IS NULL) s',
    );
    const [bbox] = risk.extent.spatial.bbox;
    expect(bbox).toEqual([ext.rows[0].a, ext.rows[0].b, ext.rows[0].c, ext.rows[0].d]);
    expect(risk.extent.temporal.interval[0][0]).toMatch(/^\d{4}-\d{2}-\d{2}T00:00:00Z$/);
    const rels = risk.links.map((l: { rel: string; type: string }) => `${l.rel} ${l.type}`);
    expect(rels).toContain('items application/geo+json');
    expect(rels).toContain('items text/csv');
    const tiles = risk.links.find((l: { rel: string }) => l.rel === 'tiles');
    expect(tiles.href).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/tiles\/risk_points\/\{z\}\/\{x\}\/\{y\}\.mvt$/);
    expect(risk.links.find((l: { rel: string }) => l.rel === 'tilejson').href).toMatch(/\/tiles\/risk_points\.json$/);
    for (const c of b.collections) for (const l of c.links) expect(l.href).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
  });

  it('describes one collection; unknown collections are 404 problem+json', async () => {
    const r = await request(app).get('/ogc/collections/shelters').expect(200);
    expect(body(r).id).toBe('shelters');
    const p = await expectProblem(app, '/ogc/collections/nope', 404);
    expect(p.detail).toContain('nope');
    await expectProblem(app, '/ogc/collections/nope/items', 404);
    await expectProblem(app, '/ogc/collections/nope/items/1', 404);
    await expectProblem(app, '/ogc/collections/nope/queryables', 404);
  });

  it('queryables are a JSON Schema of the filterable properties', async () => {
    const r = await request(app).get('/ogc/collections/risk_points/queryables').expect(200).expect('content-type', /^application\/schema\+json/);
    const q = body(r);
    expect(q.type).toBe('object');
    expect(q.$id).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/ogc\/collections\/risk_points\/queryables$/);
    expect(q.properties.level.enum).toEqual(['red', 'orange', 'yellow', 'blue']);
    expect(Object.keys(q.properties)).toEqual(expect.arrayContaining(['geometry', 'district_id', 'street_id', 'category', 'last_inspection']));
    expect(Object.keys(q.properties)).not.toContain('name_zh');
  });
});

describe('restricted layers and fields', () => {
  it('hides hazard_sources from anonymous callers everywhere', async () => {
    const list = body(await request(app).get('/ogc/collections').expect(200));
    expect(list.collections.map((c: { id: string }) => c.id)).not.toContain('hazard_sources');
    await expectProblem(app, '/ogc/collections/hazard_sources', 404);
    await expectProblem(app, '/ogc/collections/hazard_sources/items', 404);
    await expectProblem(app, '/ogc/collections/hazard_sources/items/1', 404);
    await expectProblem(app, '/ogc/collections/hazard_sources/queryables', 404);
    const api = body(await request(app).get('/ogc/api').expect(200));
    expect(Object.keys(api.paths).some((p) => p.includes('hazard_sources'))).toBe(false);
    expect(JSON.stringify(api)).not.toContain('contact_phone');
  });

  it('serves hazard_sources and contact phones to a caller with a key', async () => {
    const list = body(await request(app).get('/ogc/collections').set(auth()).expect(200));
    expect(list.collections.map((c: { id: string }) => c.id)).toContain('hazard_sources');
    const r = await request(app).get('/ogc/collections/hazard_sources/items?limit=1000').set(auth()).expect(200);
    expect(body(r).numberMatched).toBe(await liveCount('hazard_sources'));
    const phones = body(r).features.map((f: { properties: { contact_phone: string | null } }) => f.properties.contact_phone);
    expect(phones.filter((p: string | null) => p !== null && /^\d/.test(p)).length).toBeGreaterThan(0);
  });

  it('never sends contact_phone to anonymous callers, and refuses to filter, sort or select on it', async () => {
    const r = await request(app).get('/ogc/collections/shelters/items?limit=1000').expect(200);
    for (const f of body(r).features) expect(Object.keys(f.properties)).not.toContain('contact_phone');
    expect(r.text).not.toMatch(/020-8888/);
    const csv = await request(app).get('/ogc/collections/shelters/items?f=csv&limit=1000').expect(200);
    expect(csv.text).not.toContain('contact_phone');
    expect(csv.text).not.toMatch(/020-8888/);
    expect((await expectProblem(app, '/ogc/collections/shelters/items?properties=contact_phone', 400)).param).toBe('properties');
    expect((await expectProblem(app, '/ogc/collections/shelters/items?sortby=contact_phone', 400)).param).toBe('sortby');
    expect((await expectProblem(app, '/ogc/collections/shelters/items?contact_phone=1', 400)).param).toBe('contact_phone');
    const withKey = await request(app).get('/ogc/collections/shelters/items?limit=1000').set(auth()).expect(200);
    expect(withKey.text).toMatch(/020-8888/);
  });
});

describe('items', () => {
  it('returns a FeatureCollection with numberMatched/numberReturned/timeStamp, ids and exactly the visible properties', async () => {
    const r = await request(app).get('/ogc/collections/risk_points/items').expect(200).expect('content-type', /^application\/geo\+json/);
    expect(r.headers['content-crs']).toBe('<http://www.opengis.net/def/crs/OGC/1.3/CRS84>');
    expect(r.headers['content-type']).toBe('application/geo+json; charset=utf-8');
    // no ETag: a page carries its own timeStamp, so hashing it for one would be waste
    expect(r.headers.etag).toBeUndefined();
    const b = body(r);
    expect(b.type).toBe('FeatureCollection');
    expect(b.numberMatched).toBe(await liveCount('risk_points'));
    expect(b.numberReturned).toBe(Math.min(100, b.numberMatched));
    expect(b.features).toHaveLength(b.numberReturned);
    expect(Date.parse(b.timeStamp)).toBeGreaterThan(Date.now() - 60_000);
    const names = visibleProperties(getLayer('risk_points')!, ANONYMOUS).map((p) => p.name);
    for (const f of b.features) {
      expect(f.type).toBe('Feature');
      expect(typeof f.id).toBe('number');
      expect(f.geometry.type).toBe('Point');
      expect(Object.keys(f.properties)).toEqual(names);
    }
    const rels = b.links.map((l: { rel: string }) => l.rel);
    expect(rels).toEqual(expect.arrayContaining(['self', 'next', 'alternate', 'collection']));
    expect(rels).not.toContain('prev');
    for (const l of b.links) expect(l.href).toMatch(ABSOLUTE);
  });

  it('every collection serves items with properties exactly as the registry says', async () => {
    for (const id of publicCollections) {
      const layer = getLayer(id)!;
      if (!layer.table) continue; // computed: see the coverage_gaps test
      const r = await request(app).get(`/ogc/collections/${id}/items?limit=5`).expect(200);
      const b = body(r);
      expect(b.numberMatched, id).toBe(await liveCount(layer.table!));
      for (const f of b.features) {
        expect(Object.keys(f.properties), id).toEqual(visibleProperties(layer, ANONYMOUS).map((p) => p.name));
        expect(typeof f.id, id).toBe(layer.idType === 'integer' ? 'number' : 'string');
      }
    }
  });

  it('serves the computed coverage_gaps layer like a table: filters, sorting, paging, by id', async () => {
    const gaps = await (app.locals.analysis as AnalysisServices).coverage.gapFeatures({}, undefined);
    expect(gaps.features.length).toBeGreaterThan(1);
    const all = await walkPages(app, '/ogc/collections/coverage_gaps/items?limit=7');
    const ids = all.flatMap((p) => p.body.features.map((f: { id: string }) => f.id));
    expect(ids.sort()).toEqual(gaps.features.map((f) => String(f.id)).sort());
    const first = all[0].body.features[0];
    expect(Object.keys(first.properties)).toEqual(visibleProperties(getLayer('coverage_gaps')!, ANONYMOUS).map((p) => p.name));
    expect(first.geometry.type).toBe('Polygon');
    const district = gaps.features[0].properties!.district_id as string;
    const inDistrict = body(await request(app).get(`/ogc/collections/coverage_gaps/items?district=${district}&sortby=-residents`).expect(200));
    expect(inDistrict.numberMatched).toBe(gaps.features.filter((f) => f.properties!.district_id === district).length);
    const residents = inDistrict.features.map((f: { properties: { residents: number } }) => f.properties.residents);
    expect(residents).toEqual([...residents].sort((a, b) => b - a));
    const one = body(await request(app).get(`/ogc/collections/coverage_gaps/items/${gaps.features[0].id}`).expect(200));
    expect(one.properties.residents).toBe(gaps.features[0].properties!.residents);
    await expectProblem(app, '/ogc/collections/coverage_gaps/items/nowhere-1', 404);
    const collection = body(await request(app).get('/ogc/collections/coverage_gaps').expect(200));
    expect(collection.extent.spatial.bbox[0]).toHaveLength(4);
  });

  it('leaves out soft-deleted rows, in lists and by id', async () => {
    const del = await db.query<{ id: number }>(`SELECT id FROM risk_points WHERE deleted_at IS NOT NULL LIMIT 1`);
    const id = del.rows[0].id;
    const r = await request(app).get('/ogc/collections/risk_points/items?q=已删除').expect(200);
    expect(body(r).numberMatched).toBe(0);
    await expectProblem(app, `/ogc/collections/risk_points/items/${id}`, 404);
  });

  it('one feature by id, with links; 404 for missing and malformed ids', async () => {
    const row = await db.query<{ id: number; name_zh: string }>('SELECT id, name_zh FROM risk_points WHERE deleted_at IS NULL ORDER BY id LIMIT 1');
    const r = await request(app).get(`/ogc/collections/risk_points/items/${row.rows[0].id}`).expect(200).expect('content-type', /^application\/geo\+json/);
    const f = body(r);
    expect(f.id).toBe(row.rows[0].id);
    expect(f.properties.name_zh).toBe(row.rows[0].name_zh);
    expect(f.links.map((l: { rel: string }) => l.rel)).toEqual(['self', 'collection']);
    await expectProblem(app, '/ogc/collections/risk_points/items/999999999', 404);
    await expectProblem(app, '/ogc/collections/risk_points/items/abc', 404);
    await expectProblem(app, '/ogc/collections/risk_points/items/1.5', 404);
    const street = body(await request(app).get('/ogc/collections/streets/items/ogct_yx').expect(200));
    expect(street.id).toBe('ogct_yx');
    expect(street.geometry.type).toBe('MultiPolygon');
  });

  it('counts per district and level match SQL', async () => {
    const rows = await db.query<{ district_id: string; level: string; n: number }>(
      'SELECT district_id, level, count(*)::int AS n FROM risk_points WHERE deleted_at IS NULL GROUP BY 1, 2',
    );
    expect(rows.rows.length).toBeGreaterThan(4);
    for (const row of rows.rows) {
      const r = await request(app).get(`/ogc/collections/risk_points/items?district=${row.district_id}&level=${row.level}&limit=1`).expect(200);
      expect(body(r).numberMatched, `${row.district_id}/${row.level}`).toBe(row.n);
    }
  });

  it('filters: comma lists match any value, several filters all apply, district_id and district agree', async () => {
    const r = await request(app).get('/ogc/collections/risk_points/items?level=red,orange&district_id=yuexiu&limit=10000').expect(200);
    const b = body(r);
    expect(b.numberMatched).toBe(await liveCount('risk_points', `level IN ('red','orange') AND district_id = 'yuexiu'`));
    for (const f of b.features) {
      expect(['red', 'orange']).toContain(f.properties.level);
      expect(f.properties.district_id).toBe('yuexiu');
    }
    const alias = body(await request(app).get('/ogc/collections/risk_points/items?level=red,orange&district=yuexiu&limit=1').expect(200));
    expect(alias.numberMatched).toBe(b.numberMatched);
    const monitored = body(await request(app).get('/ogc/collections/geohazard_sites/items?monitored=true').expect(200));
    expect(monitored.numberMatched).toBe(await liveCount('geohazard_sites', 'monitored'));
    const open = body(await request(app).get('/ogc/collections/shelters/items?status=open').expect(200));
    expect(open.numberMatched).toBe(await liveCount('shelters', `status = 'open'`));
  });

  it('bbox returns exactly the features inside the box (over plain HTTP, not through GDAL)', async () => {
    const box = [113.26, 23.12, 113.28, 23.14];
    const r = await request(app).get(`/ogc/collections/risk_points/items?bbox=${box.join(',')}&limit=10000`).expect(200);
    const b = body(r);
    const expected = await db.query<{ id: number }>(
      'SELECT id FROM risk_points WHERE deleted_at IS NULL AND ST_Intersects(geom, ST_MakeEnvelope($1, $2, $3, $4, 4326)) ORDER BY id',
      box,
    );
    expect(expected.rows.length).toBeGreaterThan(0);
    expect(b.features.map((f: { id: number }) => f.id)).toEqual(expected.rows.map((x) => x.id));
    for (const f of b.features) {
      const [x, y] = f.geometry.coordinates;
      expect(x >= box[0] && x <= box[2] && y >= box[1] && y <= box[3]).toBe(true);
    }
    // 18 significant digits, as GDAL sends them; 6 numbers with heights
    const gdal = body(await request(app).get('/ogc/collections/risk_points/items?bbox=113.260000000000005116,23.1199999999999992184,113.280000000000001137,23.1400000000000005684&limit=1').expect(200));
    expect(gdal.numberMatched).toBe(expected.rows.length);
    const six = body(await request(app).get('/ogc/collections/risk_points/items?bbox=113.26,23.12,-10,113.28,23.14,100&limit=1').expect(200));
    expect(six.numberMatched).toBe(expected.rows.length);
    // bbox-crs EPSG:4490 takes lat,lon order
    const latlon = body(await request(app).get(`/ogc/collections/risk_points/items?bbox=23.12,113.26,23.14,113.28&bbox-crs=EPSG:4490&limit=1`).expect(200));
    expect(latlon.numberMatched).toBe(expected.rows.length);
  });

  it('bbox-crs=gcj02 converts the box to WGS84 first', async () => {
    const [a, b] = wgs84ToGcj02(YUEXIU_BOX[0], YUEXIU_BOX[1]);
    const [c, d] = wgs84ToGcj02(YUEXIU_BOX[2], YUEXIU_BOX[3]);
    const inGcj = body(await request(app).get(`/ogc/collections/flood_points/items?bbox=${a},${b},${c},${d}&bbox-crs=gcj02`).expect(200));
    const inWgs = body(await request(app).get(`/ogc/collections/flood_points/items?bbox=${YUEXIU_BOX.join(',')}`).expect(200));
    expect(inGcj.numberMatched).toBe(inWgs.numberMatched);
  });

  it('q= searches names and addresses case-insensitively; LIKE wildcards are literal', async () => {
    const chem = body(await request(app).get('/ogc/collections/risk_points/items?q=化工仓库').expect(200));
    expect(chem.features.map((f: { properties: { name_zh: string } }) => f.properties.name_zh).sort()).toEqual(['化工仓库A100X', '化工仓库_100%'].sort());
    const literal = body(await request(app).get(`/ogc/collections/risk_points/items?q=${encodeURIComponent('_100%')}`).expect(200));
    expect(literal.features.map((f: { properties: { name_zh: string } }) => f.properties.name_zh)).toEqual(['化工仓库_100%']);
    const ci = body(await request(app).get('/ogc/collections/risk_points/items?q=CHEMICAL%20STORE').expect(200));
    expect(ci.numberMatched).toBe(2);
    const address = body(await request(app).get('/ogc/collections/risk_points/items?q=化工路2号').expect(200));
    expect(address.numberMatched).toBe(1);
    const anyOf = body(await request(app).get('/ogc/collections/risk_points/items?q=化工路1号,化工路2号').expect(200));
    expect(anyOf.numberMatched).toBe(2);
    await expectProblem(app, '/ogc/collections/population/items?q=x', 400);
  });

  it('datetime filters on the layer temporal property (dates, date-times, open intervals); undated features match no datetime', async () => {
    const count = (where: string) => liveCount('risk_points', where);
    const undated = await liveCount('risk_points', 'last_inspection IS NULL');
    expect(undated).toBeGreaterThan(0);
    const day = body(await request(app).get('/ogc/collections/risk_points/items?datetime=2024-01-11').expect(200));
    expect(day.numberMatched).toBe(await count(`last_inspection = '2024-01-11'`));
    const range = body(await request(app).get('/ogc/collections/risk_points/items?datetime=2024-02-01/2024-03-31').expect(200));
    expect(range.numberMatched).toBe(await count(`last_inspection BETWEEN '2024-02-01' AND '2024-03-31'`));
    const after = body(await request(app).get('/ogc/collections/risk_points/items?datetime=2024-06-01T00:00:00Z/..').expect(200));
    expect(after.numberMatched).toBe(await count(`last_inspection >= '2024-06-01'`));
    const before = body(await request(app).get('/ogc/collections/risk_points/items?datetime=../2024-01-31T23:00:00%2B08:00').expect(200));
    expect(before.numberMatched).toBe(await count(`last_inspection <= '2024-01-31'`));
    // GDAL 3.6 sends a date constant as 2024-06-01T
    const gdal = body(await request(app).get('/ogc/collections/risk_points/items?datetime=2024-06-01T%2F..').expect(200));
    expect(gdal.numberMatched).toBe(after.numberMatched);
    // Open either side, the two halves together, or everything: dated features only.
    for (const v of ['../2100-01-01', '1900-01-01/..', '../..']) {
      const page = body(await request(app).get(`/ogc/collections/risk_points/items?limit=10000&properties=last_inspection&datetime=${v}`).expect(200));
      expect(page.numberMatched, v).toBe(await count('last_inspection IS NOT NULL'));
      expect(page.features.filter((f: { properties: { last_inspection: string | null } }) => f.properties.last_inspection === null), v).toEqual([]);
    }
    // A client that wants the undated ones too says so in a filter.
    const withUndated = body(await request(app).get(`/ogc/collections/risk_points/items?filter=${encodeURIComponent(`last_inspection IS NULL OR last_inspection >= DATE('2024-06-01')`)}`).expect(200));
    expect(withUndated.numberMatched).toBe(after.numberMatched + undated);
  });

  it('the rule is told where a client reads: collection description, queryables and the OpenAPI datetime parameter', async () => {
    const c = body(await request(app).get('/ogc/collections/risk_points').expect(200));
    const q = body(await request(app).get('/ogc/collections/risk_points/queryables').expect(200));
    for (const text of [c.description, c.descriptions.en, q.properties.last_inspection.description]) {
      expect(text).toMatch(/without a last_inspection match no datetime, not even an open interval/);
    }
    expect(c.descriptions.zh).toMatch(/没有 last_inspection 的要素不匹配任何 datetime/);
    const api = body(await request(app).get('/ogc/api').expect(200));
    const param = api.paths['/collections/risk_points/items'].get.parameters.find((p: { name?: string }) => p.name === 'datetime');
    expect(param.description).toMatch(/without a last_inspection match no datetime/);
    // Collections without a date say nothing about it.
    expect(body(await request(app).get('/ogc/collections/shelters').expect(200)).description).not.toMatch(/datetime/);
  });

  it('sortby orders by properties (+/-), enums in registry order, ties by id', async () => {
    const r = body(await request(app).get('/ogc/collections/risk_points/items?sortby=-level,%2Bid&limit=10000').expect(200));
    const order = ['red', 'orange', 'yellow', 'blue'];
    const ranks = r.features.map((f: { properties: { level: string } }) => order.indexOf(f.properties.level));
    expect(ranks).toEqual([...ranks].sort((a, b) => b - a));
    const byName = body(await request(app).get('/ogc/collections/shelters/items?sortby=name_en').expect(200));
    const names = byName.features.map((f: { properties: { name_en: string } }) => f.properties.name_en);
    const sql = await db.query<{ name_en: string }>('SELECT name_en FROM shelters WHERE deleted_at IS NULL ORDER BY name_en, id LIMIT 100');
    expect(names).toEqual(sql.rows.map((x) => x.name_en));
    // '+' in a URL is a space: ?sortby=+name_en must still mean ascending
    const plus = body(await request(app).get('/ogc/collections/shelters/items?sortby=+name_en').expect(200));
    expect(plus.features.map((f: { properties: { name_en: string } }) => f.properties.name_en)).toEqual(names);
    const desc = body(await request(app).get('/ogc/collections/shelters/items?sortby=-id').expect(200));
    const ids = desc.features.map((f: { id: number }) => f.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
  });

  it('properties= picks fields in the order asked; empty gives none', async () => {
    const r = body(await request(app).get('/ogc/collections/risk_points/items?properties=level,name_zh&limit=3').expect(200));
    for (const f of r.features) expect(Object.keys(f.properties)).toEqual(['level', 'name_zh']);
    const none = body(await request(app).get('/ogc/collections/risk_points/items?properties=&limit=3').expect(200));
    for (const f of none.features) expect(f.properties).toEqual({});
    const one = body(await request(app).get(`/ogc/collections/risk_points/items/${r.features[0].id}?properties=name_zh`).expect(200));
    expect(Object.keys(one.properties)).toEqual(['name_zh']);
  });

  it('limit above 10000 is clamped, not refused', async () => {
    const r = body(await request(app).get('/ogc/collections/risk_points/items?limit=50000').expect(200));
    expect(r.numberReturned).toBe(Math.min(10000, r.numberMatched));
    expect(r.links.find((l: { rel: string }) => l.rel === 'self').href).toContain('limit=50000');
  });
});

describe('paging', () => {
  it('follows next links across the whole collection: every feature exactly once, total = numberMatched', async () => {
    const pages = await walkPages(app, '/ogc/collections/risk_points/items?limit=17&level=red,orange,yellow,blue');
    const ids = pages.flatMap((p) => p.body.features.map((f: { id: number }) => f.id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(pages[0].body.numberMatched);
    expect(ids.length).toBe(await liveCount('risk_points'));
    expect(pages.length).toBe(Math.ceil(ids.length / 17));
    for (const p of pages.slice(1)) {
      const u = new URL(p.url);
      // every other parameter is kept
      expect(u.searchParams.get('limit')).toBe('17');
      expect(u.searchParams.get('level')).toBe('red,orange,yellow,blue');
      expect(p.body.links.find((l: { rel: string }) => l.rel === 'prev')).toBeDefined();
    }
    const last = pages[pages.length - 1].body;
    expect(last.links.find((l: { rel: string }) => l.rel === 'next')).toBeUndefined();
  });

  it('prev links lead back to the previous page', async () => {
    const second = body(await request(app).get('/ogc/collections/risk_points/items?limit=10&offset=10&sortby=name_zh').expect(200));
    const prev = new URL(second.links.find((l: { rel: string }) => l.rel === 'prev').href);
    expect(prev.searchParams.get('offset')).toBeNull();
    expect(prev.searchParams.get('sortby')).toBe('name_zh');
    const first = body(await request(app).get(prev.pathname + prev.search).expect(200));
    const direct = body(await request(app).get('/ogc/collections/risk_points/items?limit=10&sortby=name_zh').expect(200));
    expect(first.features.map((f: { id: number }) => f.id)).toEqual(direct.features.map((f: { id: number }) => f.id));
  });

  it('an offset past the end is an empty page without next', async () => {
    const r = body(await request(app).get('/ogc/collections/risk_points/items?offset=100000').expect(200));
    expect(r.numberReturned).toBe(0);
    expect(r.features).toEqual([]);
    expect(r.links.find((l: { rel: string }) => l.rel === 'next')).toBeUndefined();
  });
});

describe('CSV', () => {
  it('f=csv gives the one table: BOM, id/lon/lat, visible properties, paging links in the Link header', async () => {
    const r = await request(app).get('/ogc/collections/risk_points/items?f=csv&limit=20&sortby=id').expect(200);
    expect(r.headers['content-type']).toMatch(/^text\/csv; charset=utf-8/);
    expect(r.text.charCodeAt(0)).toBe(0xfeff);
    const lines = r.text.slice(1).trimEnd().split('\r\n');
    const names = visibleProperties(getLayer('risk_points')!, ANONYMOUS).map((p) => p.name);
    expect(lines[0]).toBe(['id', 'lon', 'lat', ...names].join(','));
    expect(lines).toHaveLength(21);
    const json = body(await request(app).get('/ogc/collections/risk_points/items?limit=20&sortby=id').expect(200));
    const first = lines[1].split(',');
    expect(Number(first[0])).toBe(json.features[0].id);
    // the same 7 decimals as the GeoJSON
    expect(Number(first[1])).toBe(json.features[0].geometry.coordinates[0]);
    expect(Number(first[2])).toBe(json.features[0].geometry.coordinates[1]);
    expect(r.headers.link).toMatch(/<http:\/\/127\.0\.0\.1:\d+\/ogc\/collections\/risk_points\/items\?f=csv&limit=20&sortby=id&cursor=[\w-]+>; rel="next"/);
  });

  it('quotes commas and quotes, and defuses formula-looking text', async () => {
    const r = await request(app).get(`/ogc/collections/risk_points/items?f=csv&q=${encodeURIComponent('HYPERLINK')}`).expect(200);
    const row = r.text.split('\r\n')[1];
    expect(row).toContain(`"'=HYPERLINK(""x"")"`);
    expect(row).toContain('"Formula, ""quoted"""');
  });

  it('Accept: text/csv selects CSV; polygons get a point on the surface and WKT', async () => {
    const r = await request(app).get('/ogc/collections/streets/items?q=测试').set('accept', 'text/csv').expect(200);
    expect(r.headers['content-type']).toMatch(/^text\/csv/);
    const [header, row] = r.text.slice(1).split('\r\n');
    expect(header.startsWith('id,lon,lat,wkt,name_zh')).toBe(true);
    expect(row).toMatch(/"MULTIPOLYGON \(\(\(113\.\d+ 23\.\d+, /);
  });
});

describe('crs', () => {
  it('EPSG:4490 and EPSG:4326 give lat/lon order; CRS84 lon/lat; Content-Crs names it', async () => {
    const id = (await db.query<{ id: number }>('SELECT id FROM risk_points WHERE deleted_at IS NULL ORDER BY id LIMIT 1')).rows[0].id;
    const base = body(await request(app).get(`/ogc/collections/risk_points/items/${id}`).expect(200));
    const [lon, lat] = base.geometry.coordinates;
    for (const crs of ['http://www.opengis.net/def/crs/EPSG/0/4490', 'EPSG:4326']) {
      const r = await request(app).get(`/ogc/collections/risk_points/items/${id}?crs=${encodeURIComponent(crs)}`).expect(200);
      expect(r.headers['content-crs']).toMatch(/^<http:\/\/www\.opengis\.net\/def\/crs\/EPSG\/0\/(4490|4326)>$/);
      expect(body(r).geometry.coordinates).toEqual([lat, lon]);
    }
    const items = await request(app).get('/ogc/collections/risk_points/items?crs=EPSG:4490&limit=1&sortby=id').expect(200);
    expect(items.headers['content-crs']).toBe('<http://www.opengis.net/def/crs/EPSG/0/4490>');
    expect(body(items).features[0].geometry.coordinates).toEqual([lat, lon]);
  });

  it('crs=gcj02 shifts coordinates like gcoord (non-standard, for Chinese web maps)', async () => {
    const plain = body(await request(app).get('/ogc/collections/risk_points/items?limit=5&sortby=id').expect(200));
    const r = await request(app).get('/ogc/collections/risk_points/items?limit=5&sortby=id&crs=gcj02').expect(200);
    expect(r.headers['content-crs']).toBe('<urn:x-onemap:crs:gcj02>');
    const shifted = body(r);
    for (let i = 0; i < 5; i++) {
      const [x, y] = plain.features[i].geometry.coordinates;
      const [gx, gy] = shifted.features[i].geometry.coordinates;
      const [ex, ey] = wgs84ToGcj02(x, y);
      // rounded to the layer's 7 decimals like every output
      expect(gx).toBeCloseTo(ex, 6);
      expect(gy).toBeCloseTo(ey, 6);
      // GCJ-02 moves points in Guangzhou by a few hundred metres
      expect(Math.hypot((gx - x) * 102_000, (gy - y) * 111_000)).toBeGreaterThan(200);
    }
    const csv = await request(app).get('/ogc/collections/risk_points/items?limit=1&sortby=id&crs=gcj02&f=csv').expect(200);
    const cells = csv.text.split('\r\n')[1].split(',');
    expect(Number(cells[1])).toBeCloseTo(shifted.features[0].geometry.coordinates[0], 6);
  });
});
