import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import type { Db } from '../../server/db/types.ts';
import { bumpDataVersion } from '../../server/db/data-version.ts';
import { getLayer } from '../../catalog/layers.ts';
import { ANONYMOUS, visibleProperties } from '../../catalog/access.ts';
import { outputGeometry } from '../../server/ogc/sql.ts';
import { CRS84, EPSG_3857 } from '../../server/ogc/crs.ts';
import { body, expectProblem, openOgcApp, walkPages } from './helpers.ts';
import { YUEXIU_BOX } from './seed.ts';
import { appOn } from '../helpers/test-app.ts';

/**
 * Items at the speed of their SQL: keyset cursors in next links, cached and
 * estimated numberMatched, compact GeoJSON with per-layer precision, Web Mercator.
 */
let db: Db;
let app: Express;
beforeAll(async () => {
  ({ db, app } = await openOgcApp({ riskPoints: 300 }));
  // Planner estimates need statistics (autovacuum would gather them in time).
  await db.exec('ANALYZE risk_points; ANALYZE districts');
}, 300_000);
afterAll(async () => db?.close());

const ids = (pages: Awaited<ReturnType<typeof walkPages>>) => pages.flatMap((p) => p.body.features.map((f: { id: number }) => f.id));

async function sqlIds(order: string): Promise<number[]> {
  return (await db.query<{ id: number }>(`SELECT id FROM risk_points WHERE deleted_at IS NULL ORDER BY ${order}`)).rows.map((r) => r.id);
}

describe('keyset cursors', () => {
  // last_inspection is NULL on every 5th risk point: NULLs sort last ascending, first descending.
  // About a thousand risk points in pages of 37: some 27 page boundaries per order, several of them
  // inside runs of equal keys (NULL dates, one level, one district), where a cursor must break the tie.
  const orders: [string, string][] = [
    ['', 'id'],
    ['sortby=-id', 'id DESC'],
    ['sortby=last_inspection', 'last_inspection ASC, id'],
    ['sortby=-last_inspection', 'last_inspection DESC, id'],
    ['sortby=-level,name_zh', `array_position(ARRAY['red','orange','yellow','blue'], level) DESC, name_zh, id`],
    // district_id has a fixed list of values: it sorts in the registry's order
    ['sortby=district_id,-last_inspection,-id', `array_position(ARRAY['yuexiu','huadu','wujiang','pingshan','jianghai'], district_id), last_inspection DESC, id DESC`],
  ];
  for (const [query, order] of orders) {
    it(`next links walk in the order of ORDER BY ${order}, each feature once, by cursor`, async () => {
      const pages = await walkPages(app, `/ogc/collections/risk_points/items?limit=37&properties=&${query}`);
      expect(ids(pages)).toEqual(await sqlIds(order));
      for (const p of pages.slice(1)) {
        expect(p.url).toMatch(/[?&]cursor=[\w-]+/);
        expect(p.url).not.toMatch(/[?&]offset=/);
      }
    });
  }

  it('a cursor walk stays correct when rows are inserted before its position (an offset walk would repeat rows)', async () => {
    const first = body(await request(app).get('/ogc/collections/risk_points/items?limit=10&sortby=-id&properties=').expect(200));
    const next = new URL(first.links.find((l: { rel: string }) => l.rel === 'next').href);
    // Newer rows sort before the position of the cursor under -id.
    await db.query(`INSERT INTO risk_points (district_id, name_zh, category, level, responsible_unit, synthetic, geom)
                    SELECT 'yuexiu', 'inserted during the walk', 'other', 'blue', '测试责任单位', true, ST_SetSRID(ST_MakePoint(113.27, 23.13), 4326) FROM generate_series(1, 5)`);
    const second = body(await request(app).get(next.pathname + next.search).expect(200));
    const seen = first.features.map((f: { id: number }) => f.id);
    const after = second.features.map((f: { id: number }) => f.id);
    expect(after.filter((id: number) => seen.includes(id))).toEqual([]);
    expect(Math.max(...after)).toBeLessThan(Math.min(...seen));
    expect(second.links.find((l: { rel: string }) => l.rel === 'prev')).toBeDefined();
  });

  it('offset= still works for clients that build it', async () => {
    const r = body(await request(app).get('/ogc/collections/risk_points/items?limit=5&offset=5&properties=').expect(200));
    expect(r.features.map((f: { id: number }) => f.id)).toEqual((await sqlIds('id')).slice(5, 10));
  });

  it('refuses a forged cursor, a cursor of another filter, and cursor together with offset', async () => {
    const first = body(await request(app).get('/ogc/collections/risk_points/items?limit=3&level=red').expect(200));
    const cursor = new URL(first.links.find((l: { rel: string }) => l.rel === 'next').href).searchParams.get('cursor')!;
    for (const url of [
      `/ogc/collections/risk_points/items?cursor=${cursor}`,
      `/ogc/collections/risk_points/items?level=red&sortby=name_zh&cursor=${cursor}`,
      `/ogc/collections/risk_points/items?level=red&cursor=${cursor}&offset=3`,
      '/ogc/collections/risk_points/items?cursor=bm90IGpzb24',
      `/ogc/collections/risk_points/items?cursor=${Buffer.from(JSON.stringify({ k: ["1' OR 1=1"], h: 'x', o: 0 })).toString('base64url')}`,
    ]) {
      const p = await expectProblem(app, url, 400);
      expect(p.param, url).toBe('cursor');
    }
    // the same cursor with its own filter works
    await request(app).get(`/ogc/collections/risk_points/items?limit=3&level=red&cursor=${cursor}`).expect(200);
  });
});

describe('numberMatched', () => {
  it('is exact, cached per filter until the data version changes', async () => {
    const url = '/ogc/collections/flood_points/items?limit=1';
    const live = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM flood_points')).rows[0].n;
    const before = await request(app).get(url).expect(200);
    expect(body(before).numberMatched).toBe(await live());
    expect(before.headers['ogc-numbermatched-kind']).toBe('exact');
    // A write with the data-version triggers switched off (replica role) leaves the version: the
    // cached count stays (proving the cache answers); a bumped version (every edit, import,
    // check-in, and a plain SQL write through the triggers) recounts.
    await db.tx(async (q) => {
      await q.query(`SET LOCAL session_replication_role = replica`);
      await q.query(`INSERT INTO flood_points (district_id, name_zh, kind, status, synthetic, geom)
                     VALUES ('yuexiu', 'cache test', 'black_spot', 'active', true, ST_SetSRID(ST_MakePoint(113.27, 23.13), 4326))`);
    });
    expect(body(await request(app).get(url).expect(200)).numberMatched).toBe((await live()) - 1);
    await db.tx((q) => bumpDataVersion(q));
    expect(body(await request(app).get(url).expect(200)).numberMatched).toBe(await live());
  });

  it('numberMatched=estimate answers the planner estimate and says so; none leaves it out; exact counts', async () => {
    const live = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM risk_points WHERE deleted_at IS NULL AND level = 'red'`)).rows[0].n;
    const est = await request(app).get('/ogc/collections/risk_points/items?limit=1&level=red&numberMatched=estimate').expect(200);
    expect(body(est).numberMatchedEstimated).toBe(true);
    expect(est.headers['ogc-numbermatched-kind']).toBe('estimate');
    expect(body(est).numberMatched).toBeGreaterThan(live * 0.5);
    expect(body(est).numberMatched).toBeLessThan(live * 2);
    const none = body(await request(app).get('/ogc/collections/risk_points/items?limit=1&numberMatched=none').expect(200));
    expect(none).not.toHaveProperty('numberMatched');
    expect(none.links.find((l: { rel: string }) => l.rel === 'next')).toBeDefined();
    const exact = body(await request(app).get('/ogc/collections/risk_points/items?limit=1&level=red&numberMatched=exact').expect(200));
    expect(exact.numberMatched).toBe(live);
    expect(exact).not.toHaveProperty('numberMatchedEstimated');
    expect((await expectProblem(app, '/ogc/collections/risk_points/items?numberMatched=maybe', 400)).param).toBe('numberMatched');
  });

  it('above OGC_COUNT_EXACT_MAX the default is the estimate', async () => {
    const small = appOn(db, { OGC_COUNT_EXACT_MAX: '100' });
    const big = body(await request(small).get('/ogc/collections/risk_points/items?limit=1').expect(200));
    expect(big.numberMatchedEstimated).toBe(true);
    const few = body(await request(small).get('/ogc/collections/districts/items?limit=1').expect(200));
    expect(few).not.toHaveProperty('numberMatchedEstimated');
  });
});

describe('compact GeoJSON', () => {
  it('has no whitespace between tokens, 7 decimals, and the same content as json_build_object', async () => {
    const r = await request(app).get('/ogc/collections/risk_points/items?limit=50&sortby=id').expect(200);
    const features = r.text.slice(r.text.indexOf('"features":'));
    expect(features).not.toMatch(/" : |", "|\{ "/);
    const b = body(r);
    const names = visibleProperties(getLayer('risk_points')!, ANONYMOUS).map((p) => p.name);
    const expected = await db.query<{ f: unknown }>(
      `SELECT json_build_object('type', 'Feature', 'id', id, 'geometry', ST_AsGeoJSON(geom, 7)::json, 'properties',
              json_build_object(${names.map((n) => `'${n}', ${n}`).join(', ')})) AS f
         FROM risk_points WHERE deleted_at IS NULL ORDER BY id LIMIT 50`,
    );
    expect(Object.keys(b.features[0].properties)).toEqual(Object.keys((expected.rows[0].f as { properties: object }).properties));
    expect(b.features).toEqual(expected.rows.map((row) => row.f));
    for (const f of b.features) for (const c of f.geometry.coordinates) expect(String(c)).toMatch(/^\d+(\.\d{1,7})?$/);
  });

  it('precision is per layer: the registry setting, 7 decimals by default, 2 for metres', () => {
    const layer = getLayer('risk_points')!;
    expect(outputGeometry(layer, CRS84).decimals).toBe(7);
    expect(outputGeometry({ ...layer, coordinatePrecision: 5 }, CRS84).decimals).toBe(5);
    expect(outputGeometry(layer, EPSG_3857)).toMatchObject({ srid: 3857, decimals: 2 });
  });
});

describe('EPSG:3857', () => {
  it('is listed in the collections crs and gives Web Mercator metres, like ST_Transform', async () => {
    const c = body(await request(app).get('/ogc/collections/risk_points').expect(200));
    expect(c.crs).toContain('http://www.opengis.net/def/crs/EPSG/0/3857');
    const r = await request(app).get('/ogc/collections/risk_points/items?limit=5&sortby=id&crs=EPSG:3857').expect(200);
    expect(r.headers['content-crs']).toBe('<http://www.opengis.net/def/crs/EPSG/0/3857>');
    const sql = await db.query<{ x: number; y: number }>(
      `SELECT round(ST_X(ST_Transform(geom, 3857))::numeric, 2)::float8 AS x, round(ST_Y(ST_Transform(geom, 3857))::numeric, 2)::float8 AS y
         FROM risk_points WHERE deleted_at IS NULL ORDER BY id LIMIT 5`,
    );
    expect(body(r).features.map((f: { geometry: { coordinates: number[] } }) => f.geometry.coordinates)).toEqual(sql.rows.map((p) => [p.x, p.y]));
    const one = body(await request(app).get(`/ogc/collections/risk_points/items/${body(r).features[0].id}?crs=EPSG:3857`).expect(200));
    expect(one.geometry.coordinates).toEqual([sql.rows[0].x, sql.rows[0].y]);
    const csv = await request(app).get('/ogc/collections/risk_points/items?limit=1&sortby=id&crs=EPSG:3857&f=csv').expect(200);
    const [header, row] = csv.text.slice(1).split('\r\n');
    expect(header.startsWith('id,x,y,')).toBe(true);
    expect(row.split(',').slice(1, 3).map(Number)).toEqual([sql.rows[0].x, sql.rows[0].y]);
  });

  it('bbox-crs=EPSG:3857 selects the same features as the lon/lat box', async () => {
    const m = await db.query<{ x0: number; y0: number; x1: number; y1: number }>(
      `SELECT ST_XMin(b) AS x0, ST_YMin(b) AS y0, ST_XMax(b) AS x1, ST_YMax(b) AS y1
         FROM (SELECT ST_Transform(ST_MakeEnvelope($1, $2, $3, $4, 4326), 3857) AS b) s`,
      [...YUEXIU_BOX],
    );
    const { x0, y0, x1, y1 } = m.rows[0];
    const inMetres = await walkPages(app, `/ogc/collections/risk_points/items?limit=1000&properties=&bbox-crs=EPSG:3857&bbox=${x0},${y0},${x1},${y1}`);
    const inDegrees = await walkPages(app, `/ogc/collections/risk_points/items?limit=1000&properties=&bbox=${YUEXIU_BOX.join(',')}`);
    expect(ids(inMetres).length).toBeGreaterThan(0);
    expect(ids(inMetres)).toEqual(ids(inDegrees));
    const p = await expectProblem(app, '/ogc/collections/risk_points/items?bbox-crs=EPSG:3857&bbox=0,0,30000000,10', 400);
    expect(p.param).toBe('bbox');
  });
});
