import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import type { Db } from '../../server/db/types.ts';
import { CONFORMANCE_CLASSES } from '../../server/ogc/landing.ts';
import { body, expectProblem, openOgcApp, walkPages } from './helpers.ts';
import { checkOpenApi30 } from './openapi-check.ts';

/**
 * Every conformance class /ogc/conformance declares is exercised here by at
 * least one request, checked against what the class's requirements say (OGC API
 * – Features Parts 1–3, CQL2 1.0), with results compared with SQL. A class
 * declared without a check here fails the first test.
 */
let db: Db;
let app: Express;
beforeAll(async () => {
  ({ db, app } = await openOgcApp({ riskPoints: 120 }));
}, 300_000);
afterAll(async () => db?.close());

const OGC = 'http://www.opengis.net/spec';
type Feature = { id: number | string };

const get = async (url: string) => request(app).get(url).expect(200);
const sorted = (xs: (number | string)[]) => [...xs].sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))));
/** Ids of every feature of `collection` matching `query`, walking next links. */
async function ids(collection: string, query: string): Promise<(number | string)[]> {
  const pages = await walkPages(app, `/ogc/collections/${collection}/items?limit=1000&properties=&${query}`);
  return sorted(pages.flatMap((p) => p.body.features.map((f: Feature) => f.id)));
}
/** Ids of the live rows of `table` where `where` holds. */
async function sqlIds(table: string, where: string): Promise<(number | string)[]> {
  const soft = (await db.query(`SELECT 1 FROM information_schema.columns WHERE table_name = $1 AND column_name = 'deleted_at'`, [table])).rows.length > 0;
  const r = await db.query<{ id: number | string }>(`SELECT id FROM ${table} WHERE ${soft ? 'deleted_at IS NULL AND ' : ''}(${where})`);
  return sorted(r.rows.map((x) => (typeof x.id === 'string' && /^\d+$/.test(x.id) ? Number(x.id) : x.id)));
}
const cql = (collection: string, filter: string, extra = '') => ids(collection, `filter=${encodeURIComponent(filter)}${extra}`);
/** The CQL2 filter selects exactly what the SQL condition selects, and something. */
async function same(collection: string, filter: string, where: string) {
  const expected = await sqlIds(collection, where);
  expect(expected.length, `${filter}: the case must select something`).toBeGreaterThan(0);
  expect(await cql(collection, filter), filter).toEqual(expected);
}

const CHECKS: Record<string, () => Promise<void>> = {
  [`${OGC}/ogcapi-features-1/1.0/conf/core`]: async () => {
    const landing = body(await get('/ogc'));
    for (const rel of ['service-desc', 'conformance', 'data']) expect(landing.links.map((l: { rel: string }) => l.rel)).toContain(rel);
    const page = body(await get('/ogc/collections/risk_points/items?limit=7&bbox=113.25,23.11,113.31,23.16'));
    expect(page.numberReturned).toBe(7);
    expect(page.features).toHaveLength(7);
    expect(page.links.find((l: { rel: string }) => l.rel === 'next')).toBeDefined();
    expect(Date.now() - Date.parse(page.timeStamp)).toBeLessThan(60_000);
    // /req/core/query-param-unknown and -invalid
    expect((await expectProblem(app, '/ogc/collections/risk_points/items?colour=red', 400)).param).toBe('colour');
    expect((await expectProblem(app, '/ogc/collections/risk_points/items?limit=x', 400)).param).toBe('limit');
    // /req/core/fc-time-definition: datetime on every items path; a collection without a
    // temporal property matches it with every feature (/req/core/fc-time-response C), and checks the value.
    expect(await ids('shelters', 'datetime=2024-01-01/..')).toEqual(await ids('shelters', ''));
    expect((await expectProblem(app, '/ogc/collections/shelters/items?datetime=yesterday', 400)).param).toBe('datetime');
    expect(await ids('risk_points', 'datetime=2024-03-01/2024-03-31')).toEqual(await sqlIds('risk_points', `last_inspection BETWEEN '2024-03-01' AND '2024-03-31'`));
  },

  [`${OGC}/ogcapi-features-1/1.0/conf/geojson`]: async () => {
    const r = await get('/ogc/collections/risk_points/items?limit=2');
    expect(r.headers['content-type']).toMatch(/^application\/geo\+json/);
    const fc = body(r);
    expect(fc.type).toBe('FeatureCollection');
    const f = fc.features[0] as Feature;
    const one = await get(`/ogc/collections/risk_points/items/${f.id}`);
    expect(one.headers['content-type']).toMatch(/^application\/geo\+json/);
    expect(body(one)).toMatchObject({ type: 'Feature', id: f.id, geometry: { type: 'Point' } });
  },

  [`${OGC}/ogcapi-features-1/1.0/conf/html`]: async () => {
    const id = body(await get('/ogc/collections/risk_points/items?limit=1')).features[0].id;
    for (const path of ['/ogc', '/ogc/conformance', '/ogc/collections', '/ogc/collections/risk_points', '/ogc/collections/risk_points/items', `/ogc/collections/risk_points/items/${id}`]) {
      const r = await request(app).get(path).set('accept', 'text/html').expect(200);
      expect(r.headers['content-type'], path).toMatch(/^text\/html/);
    }
  },

  [`${OGC}/ogcapi-features-1/1.0/conf/oas30`]: async () => {
    const r = await get('/ogc/api');
    expect(r.headers['content-type']).toMatch(/^application\/vnd\.oai\.openapi\+json;\s*version=3\.0/);
    expect(checkOpenApi30(body(r))).toEqual([]);
  },

  [`${OGC}/ogcapi-features-2/1.0/conf/crs`]: async () => {
    const c = body(await get('/ogc/collections/risk_points'));
    expect(c.crs).toEqual(expect.arrayContaining(['http://www.opengis.net/def/crs/OGC/1.3/CRS84', 'http://www.opengis.net/def/crs/EPSG/0/3857']));
    expect(c.storageCrs).toBe('http://www.opengis.net/def/crs/OGC/1.3/CRS84');
    const [lonLat, merc] = await Promise.all(
      ['', '&crs=http://www.opengis.net/def/crs/EPSG/0/3857'].map((crs) => get(`/ogc/collections/risk_points/items?limit=1&sortby=id${crs}`)),
    );
    expect(lonLat.headers['content-crs']).toBe('<http://www.opengis.net/def/crs/OGC/1.3/CRS84>');
    expect(merc.headers['content-crs']).toBe('<http://www.opengis.net/def/crs/EPSG/0/3857>');
    const [lon, lat] = body(lonLat).features[0].geometry.coordinates;
    const [x, y] = body(merc).features[0].geometry.coordinates;
    expect(x).toBeCloseTo((lon * Math.PI * 6378137) / 180, 1);
    expect(y).toBeCloseTo(6378137 * Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360)), 1);
    // bbox-crs: the same box in metres selects the same features
    const box = [113.25, 23.11, 113.28, 23.14];
    const m = (lo: number, la: number) => [(lo * Math.PI * 6378137) / 180, 6378137 * Math.log(Math.tan(Math.PI / 4 + (la * Math.PI) / 360))];
    const metres = [...m(box[0], box[1]), ...m(box[2], box[3])].join(',');
    expect(await ids('risk_points', `bbox=${metres}&bbox-crs=EPSG:3857`)).toEqual(await ids('risk_points', `bbox=${box.join(',')}`));
    expect((await expectProblem(app, '/ogc/collections/risk_points/items?crs=http://www.opengis.net/def/crs/EPSG/0/2000', 400)).param).toBe('crs');
  },

  [`${OGC}/ogcapi-features-3/1.0/conf/queryables`]: async () => {
    const c = body(await get('/ogc/collections/risk_points'));
    const link = c.links.find((l: { rel: string }) => l.rel === 'http://www.opengis.net/def/rel/ogc/1.0/queryables');
    const r = await get(new URL(link.href).pathname);
    expect(r.headers['content-type']).toMatch(/^application\/schema\+json/);
    const q = body(r);
    expect(q.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(new URL(q.$id).pathname).toBe('/ogc/collections/risk_points/queryables'); // supertest serves each request on its own port
    expect(q.$id).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/ogc\/collections\/risk_points\/queryables$/);
    expect(q.type).toBe('object');
    expect(q.additionalProperties).toBe(false);
    // a spatial property: a geometry format, no type and no $ref; every other property has a type
    expect(q.properties.geometry).toMatchObject({ format: 'geometry-point' });
    expect(q.properties.geometry.type).toBeUndefined();
    expect(q.properties.geometry.$ref).toBeUndefined();
    for (const [name, p] of Object.entries(q.properties as Record<string, { type?: string }>)) if (name !== 'geometry') expect(p.type, name).toBeDefined();
    expect(q.properties.last_inspection).toMatchObject({ type: 'string', format: 'date' });
    expect(body(await get('/ogc/collections/networks/queryables')).properties.geometry.format).toBe('geometry-multilinestring');
    // only queryables build a filter (additionalProperties false → 400)
    expect((await expectProblem(app, `/ogc/collections/risk_points/items?filter=${encodeURIComponent(`responsible_unit = 'x'`)}`, 400)).detail).toMatch(/unknown property 'responsible_unit'/);
  },

  [`${OGC}/ogcapi-features-3/1.0/conf/queryables-query-parameters`]: async () => {
    // every queryable of every collection with a simple value is a query parameter of its items path
    const api = body(await get('/ogc/api'));
    for (const c of body(await get('/ogc/collections')).collections as { id: string }[]) {
      const q = body(await get(`/ogc/collections/${c.id}/queryables`));
      const params = (api.paths[`/collections/${c.id}/items`].get.parameters as { name: string }[]).map((p) => p.name);
      for (const name of Object.keys(q.properties)) if (name !== 'geometry') expect(params, `${c.id} ${name}`).toContain(name);
    }
    expect(await ids('risk_points', 'last_inspection=2024-01-11,2024-02-01')).toEqual(await sqlIds('risk_points', `last_inspection IN ('2024-01-11', '2024-02-01')`));
    expect(await ids('risk_points', 'level=red')).toEqual(await sqlIds('risk_points', `level = 'red'`));
  },

  [`${OGC}/ogcapi-features-3/1.0/conf/filter`]: async () => {
    const api = body(await get('/ogc/api'));
    const params = Object.fromEntries((api.paths['/collections/risk_points/items'].get.parameters as { name: string; schema: Record<string, unknown> }[]).map((p) => [p.name, p.schema]));
    expect(params.filter.type).toBe('string');
    expect(params['filter-lang']).toMatchObject({ enum: ['cql2-text'], default: 'cql2-text' });
    expect(params['filter-crs']).toMatchObject({ default: 'http://www.opengis.net/def/crs/OGC/1.3/CRS84' });
    expect(await cql('risk_points', `level = 'red'`, '&filter-lang=cql2-text&filter-crs=http://www.opengis.net/def/crs/OGC/1.3/CRS84')).toEqual(await sqlIds('risk_points', `level = 'red'`));
    for (const [bad, param] of [
      [`filter=${encodeURIComponent('level = ')}`, 'filter'],
      ['filter=x&filter-lang=cql2-json', 'filter-lang'],
      ['filter=x&filter-crs=EPSG:3857', 'filter-crs'],
    ]) {
      expect((await expectProblem(app, `/ogc/collections/risk_points/items?${bad}`, 400)).param).toBe(param);
    }
  },

  [`${OGC}/ogcapi-features-3/1.0/conf/features-filter`]: async () => {
    // filter AND bbox AND datetime AND a property parameter (/req/filter/mixing-expressions)
    const filter = `level IN ('red', 'orange') OR street_id = 'ogct_hd'`;
    const got = await cql('risk_points', filter, '&bbox=113.0,23.0,113.3,23.6&datetime=2024-02-01/..&district=huadu');
    const expected = await sqlIds(
      'risk_points',
      `(level IN ('red', 'orange') OR street_id = 'ogct_hd') AND ST_Intersects(geom, ST_MakeEnvelope(113.0, 23.0, 113.3, 23.6, 4326)) AND last_inspection >= '2024-02-01' AND district_id = 'huadu'`,
    );
    expect(expected.length).toBeGreaterThan(0);
    expect(got).toEqual(expected);
  },

  [`${OGC}/cql2/1.0/conf/cql2-text`]: async () => {
    // keywords in any case, quoted names, both quote escapes, control-character escapes
    await same('risk_points', `"street_id" = 'ogct_hd' and not level = 'red'`, `street_id = 'ogct_hd' AND level <> 'red'`);
    await same('risk_points', `street_id IN ('ogct_hd', 'it''s', 'it\\'s', 'tab\\there')`, `street_id IN ('ogct_hd')`);
  },

  [`${OGC}/cql2/1.0/conf/basic-cql2`]: async () => {
    await same('risk_points', `level = 'red'`, `level = 'red'`);
    await same('risk_points', `level <> 'red' AND district_id = 'huadu'`, `level <> 'red' AND district_id = 'huadu'`);
    await same('risk_points', `street_id < 'ogct_i' AND street_id >= 'ogct_h'`, `street_id < 'ogct_i' AND street_id >= 'ogct_h'`);
    await same('risk_points', `last_inspection > DATE('2024-06-01') OR last_inspection <= TIMESTAMP('2024-01-05T00:00:00Z')`, `last_inspection > '2024-06-01' OR last_inspection <= '2024-01-05'`);
    await same('risk_points', `NOT (level = 'red' OR level = 'blue')`, `NOT (level = 'red' OR level = 'blue')`);
    await same('risk_points', `last_inspection IS NULL`, `last_inspection IS NULL`);
    await same('risk_points', `last_inspection IS NOT NULL AND TRUE`, `last_inspection IS NOT NULL`);
    expect(await cql('risk_points', 'FALSE')).toEqual([]);
    await same('shelters', `usable = TRUE`, `usable = true`);
  },

  [`${OGC}/cql2/1.0/conf/advanced-comparison-operators`]: async () => {
    await same('risk_points', `street_id LIKE 'ogct\\_h%'`, `street_id LIKE 'ogct\\_h%'`);
    await same('risk_points', `street_id NOT LIKE 'ogct_y_'`, `street_id NOT LIKE 'ogct_y_'`);
    await same('risk_points', `last_inspection BETWEEN DATE('2024-02-01') AND DATE('2024-03-31')`, `last_inspection BETWEEN '2024-02-01' AND '2024-03-31'`);
    await same('risk_points', `last_inspection NOT BETWEEN DATE('2024-02-01') AND DATE('2024-03-31')`, `last_inspection NOT BETWEEN '2024-02-01' AND '2024-03-31'`);
    await same('risk_points', `level IN ('red', 'orange')`, `level IN ('red', 'orange')`);
    await same('risk_points', `level NOT IN ('red')`, `level NOT IN ('red')`);
  },

  [`${OGC}/cql2/1.0/conf/basic-spatial-functions`]: async () => {
    await same('risk_points', `S_INTERSECTS(geometry, BBOX(113.25, 23.11, 113.28, 23.13))`, `ST_Intersects(geom, ST_MakeEnvelope(113.25, 23.11, 113.28, 23.13, 4326))`);
    await same('districts', `S_INTERSECTS(geometry, POINT(113.27 23.13))`, `ST_Intersects(geom, ST_SetSRID(ST_MakePoint(113.27, 23.13), 4326))`);
  },

  [`${OGC}/cql2/1.0/conf/basic-spatial-functions-plus`]: async () => {
    const ring = '113.25 23.11, 113.3 23.11, 113.3 23.16, 113.25 23.11';
    const inRing = `ST_Intersects(geom, ST_GeomFromText('POLYGON((${ring}))', 4326))`;
    await same('risk_points', `S_INTERSECTS(geometry, POLYGON((${ring})))`, inRing);
    await same('risk_points', `S_INTERSECTS(geometry, MULTIPOLYGON(((${ring}))))`, inRing);
    await same('risk_points', `S_INTERSECTS(geometry, POLYGON Z((${ring.split(', ').map((p) => `${p} 10`).join(', ')})))`, inRing);
    await same('risk_points', `S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POLYGON((${ring})), POINT(0 0)))`, inRing);
    await same('districts', `S_INTERSECTS(geometry, LINESTRING(113.2 23.4, 113.3 23.5))`, `ST_Intersects(geom, ST_GeomFromText('LINESTRING(113.2 23.4, 113.3 23.5)', 4326))`);
    await same('districts', `S_INTERSECTS(geometry, MULTILINESTRING((113.2 23.4, 113.3 23.5)))`, `ST_Intersects(geom, ST_GeomFromText('LINESTRING(113.2 23.4, 113.3 23.5)', 4326))`);
    await same('districts', `S_INTERSECTS(geometry, MULTIPOINT((113.27 23.13), (0 0)))`, `ST_Intersects(geom, ST_GeomFromText('POINT(113.27 23.13)', 4326))`);
    // a ring PostGIS would refuse is a 400 naming filter, not a database error
    const p = await expectProblem(app, `/ogc/collections/risk_points/items?filter=${encodeURIComponent('S_INTERSECTS(geometry, POLYGON((113 23, 114 23, 114 24)))')}`, 400);
    expect(p.param).toBe('filter');
  },
};

describe('conformance classes', () => {
  it('each declared class has a check here, and each check a declared class', async () => {
    const declared = body(await get('/ogc/conformance')).conformsTo as string[];
    expect([...declared].sort()).toEqual(Object.keys(CHECKS).sort());
    expect([...CONFORMANCE_CLASSES].sort()).toEqual([...declared].sort());
  });

  for (const [uri, check] of Object.entries(CHECKS)) {
    it(uri.replace(OGC, ''), check, 120_000);
  }
});
