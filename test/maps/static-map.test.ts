import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import express, { type Express } from 'express';
import sharp from 'sharp';
import { appOn, testApp } from '../helpers/test-app.ts';
import { loadConfig } from '../../server/config.ts';
import { silentLogger } from '../../server/log.ts';
import { ChangeBus } from '../../server/changes.ts';
import { errorMiddleware, notFoundHandler } from '../../server/http/errors.ts';
import { mapRoutes } from '../../server/maps/routes.ts';
import { appContext } from '../../server/context.ts';
import { layoutFor } from '../../server/maps/svg.ts';
import { RISK_COLORS, getLayer, legendEntries } from '../../catalog/layers.ts';
import { workerPool } from '../../server/work/shared.ts';
import { configureRasterGate, DEFAULT_RASTER_GATE, rasterGate } from '../../server/maps/render.ts';
import { metricValue } from '../helpers/metrics.ts';
import type { Db } from '../../server/db/types.ts';
import { withFullWorkerPool } from '../helpers/full-pool.ts';
import { until } from '../helpers/until.ts';
import { colourDistance, containsColour, decode, hexToRgb, pixelOf, rgbAt, RED_POINT, seedTestDistrict, SHELTER, TEST_BBOX, TEST_DISTRICT } from './helpers.ts';

let db: Db;
let app: Express;
let changes: ChangeBus;
let ids: { redId: number; shelterId: number };

beforeAll(async () => {
  changes = new ChangeBus();
  ({ db, app } = await testApp({ app: { changes } }));
  ids = await seedTestDistrict(db);
});
afterAll(async () => db?.close());

const png = (query: string) =>
  request(app)
    .get(`/maps/static.png?${query}`)
    .buffer(true)
    .parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    });

const problem = (r: request.Response) => JSON.parse(Buffer.isBuffer(r.body) ? r.body.toString() : r.text);

describe('GET /maps/static.png', () => {
  it('draws the known red risk point in the registry red at its projected pixel', async () => {
    const r = await png(`district=${TEST_DISTRICT}&layers=risk_points,shelters&width=600&height=400`).expect(200).expect('content-type', 'image/png');
    const raster = await decode(r.body);
    expect([raster.width, raster.height]).toEqual([600, 400]);
    const [x, y] = pixelOf(TEST_BBOX, 600, 400, 1, RED_POINT);
    expect(colourDistance(rgbAt(raster, x, y), hexToRgb(RISK_COLORS.red))).toBeLessThanOrEqual(16);
  });

  it('draws the known open shelter in its status colour', async () => {
    const r = await png(`district=${TEST_DISTRICT}&layers=shelters&width=600&height=400`).expect(200);
    const raster = await decode(r.body);
    const [x, y] = pixelOf(TEST_BBOX, 600, 400, 1, SHELTER);
    const open = getLayer('shelters')!.style.by!.colors.open;
    expect(colourDistance(rgbAt(raster, x, y), hexToRgb(open))).toBeLessThanOrEqual(16);
    // And nothing red: risk points were not requested.
    expect(containsColour(raster, RISK_COLORS.red, 10)).toBe(false);
  });

  it('scale=2 doubles both dimensions and keeps the point where it was', async () => {
    const r = await png(`district=${TEST_DISTRICT}&layers=risk_points&width=500&height=300&scale=2`).expect(200);
    const raster = await decode(r.body);
    expect([raster.width, raster.height]).toEqual([1000, 600]);
    const [x, y] = pixelOf(TEST_BBOX, 500, 300, 2, RED_POINT);
    expect(colourDistance(rgbAt(raster, x, y), hexToRgb(RISK_COLORS.red))).toBeLessThanOrEqual(16);
  });

  it('serves webp and jpeg on request', async () => {
    const webp = await png(`district=${TEST_DISTRICT}&width=400&height=300&format=webp`).expect(200).expect('content-type', 'image/webp');
    expect((await sharp(webp.body).metadata()).format).toBe('webp');
    const jpeg = await png(`district=${TEST_DISTRICT}&width=400&height=300&format=jpeg`).expect(200).expect('content-type', 'image/jpeg');
    const meta = await sharp(jpeg.body).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 400, 300]);
  });

  it('draws a bbox map and a street map', async () => {
    const bbox = await png(`bbox=109.99,19.99,110.11,20.09&layers=risk_points&width=400&height=300`).expect(200);
    expect(containsColour(await decode(bbox.body), RISK_COLORS.red)).toBe(true);
    const street = await png(`street=testbay-west&layers=risk_points&width=400&height=300`).expect(200);
    expect(containsColour(await decode(street.body), RISK_COLORS.red)).toBe(true);
    const east = await png(`street=testbay-east&layers=risk_points&width=400&height=300`).expect(200);
    // Red appears only as the legend swatch, not in the map frame.
    const frame = layoutFor(400, 300).frame;
    expect(containsColour(await decode(east.body), RISK_COLORS.red, 10, frame)).toBe(false);
  });

  it('clusters dense points into a circle ringed in the most severe colour', async () => {
    // 12 blue points and one orange one within a few metres: one cluster, no single blue marker.
    await db.tx(async (q) => {
      for (let i = 0; i < 13; i++) {
        await q.query(
          `INSERT INTO risk_points (district_id, name_zh, category, level, responsible_unit, synthetic, geom)
           VALUES ($1, $2, 'other', $3, 'u', true, ST_SetSRID(ST_MakePoint($4, $5), 4326))`,
          [TEST_DISTRICT, `密集点${i}`, i === 7 ? 'orange' : 'blue', 110.08 + i * 0.00005, 20.065],
        );
      }
    });
    const r = await png(`district=${TEST_DISTRICT}&layers=risk_points&width=600&height=400`).expect(200);
    const raster = await decode(r.body);
    const [x, y] = pixelOf(TEST_BBOX, 600, 400, 1, [110.0803, 20.065]);
    // The centre of a cluster is its white disc, not a blue marker.
    expect(colourDistance(rgbAt(raster, x, y), hexToRgb(RISK_COLORS.blue))).toBeGreaterThan(60);
    expect(containsColour(raster, RISK_COLORS.orange)).toBe(true);
    expect(containsColour(raster, RISK_COLORS.blue, 10)).toBe(true); // the legend swatch at least
    await db.query(`DELETE FROM risk_points WHERE name_zh LIKE '密集点%'`);
    changes.emit({ layer: 'risk_points', id: 0, op: 'delete' });
  });

  it('does not draw soft-deleted features', async () => {
    await db.query('UPDATE risk_points SET deleted_at = now() WHERE id = $1', [ids.redId]);
    changes.emit({ layer: 'risk_points', id: ids.redId, op: 'delete', before: { type: 'Point', coordinates: RED_POINT } });
    try {
      const r = await png(`district=${TEST_DISTRICT}&layers=risk_points&width=600&height=400`).expect(200);
      const raster = await decode(r.body);
      const [x, y] = pixelOf(TEST_BBOX, 600, 400, 1, RED_POINT);
      expect(colourDistance(rgbAt(raster, x, y), hexToRgb(RISK_COLORS.red))).toBeGreaterThan(60);
    } finally {
      await db.query('UPDATE risk_points SET deleted_at = NULL WHERE id = $1', [ids.redId]);
      changes.emit({ layer: 'risk_points', id: ids.redId, op: 'update' });
    }
  });
});

describe('caching', () => {
  const q = `district=${TEST_DISTRICT}&layers=risk_points&width=420&height=300`;

  it('answers with a strong ETag and 304 for If-None-Match', async () => {
    const first = await png(q).expect(200);
    const etag = first.headers.etag;
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(first.headers['cache-control']).toContain('no-cache');
    const again = await png(q).expect(200);
    expect(again.headers.etag).toBe(etag);
    await request(app).get(`/maps/static.png?${q}`).set('If-None-Match', etag).expect(304);
  });

  it('drops the image when a committed edit touches its area, not when it is elsewhere', async () => {
    const before = await png(q).expect(200);
    // An edit far away (another part of the world) keeps the cached image.
    changes.emit({ layer: 'risk_points', id: 999999, op: 'insert', after: { type: 'Point', coordinates: [10, 50] } });
    expect((await png(q).expect(200)).headers.etag).toBe(before.headers.etag);

    await db.query('UPDATE risk_points SET level = $1 WHERE id = $2', ['yellow', ids.redId]);
    // Without the change announcement the cached image would still show red.
    changes.emit({ layer: 'risk_points', id: ids.redId, op: 'update', before: { type: 'Point', coordinates: RED_POINT }, after: { type: 'Point', coordinates: RED_POINT } });
    const after = await png(q).expect(200);
    expect(after.headers.etag).not.toBe(before.headers.etag);
    const raster = await decode(after.body);
    const [x, y] = pixelOf(TEST_BBOX, 420, 300, 1, RED_POINT);
    expect(colourDistance(rgbAt(raster, x, y), hexToRgb(RISK_COLORS.yellow))).toBeLessThanOrEqual(16);
    await db.query('UPDATE risk_points SET level = $1 WHERE id = $2', ['red', ids.redId]);
    changes.emit({ layer: 'risk_points', id: ids.redId, op: 'update' });
  });

  it('identical requests arriving together are rendered once and answered alike', async () => {
    const q2 = `district=${TEST_DISTRICT}&layers=shelters&width=410&height=300`;
    const [a, b, c] = await Promise.all([png(q2), png(q2), png(q2)]);
    expect(new Set([a.headers.etag, b.headers.etag, c.headers.etag]).size).toBe(1);
  });

  it('one of two identical requests leaving does not stop the drawing for the other', async () => {
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/maps/static.png?district=${TEST_DISTRICT}&layers=risk_points&width=433&height=301`;
      const first = new AbortController();
      let second: Promise<Response> | undefined;
      // The table held by another transaction from before the first request: both requests
      // wait inside the one drawing while the first client leaves. (Sent before the lock was
      // granted, the first request could be drawn and answered first on a busy machine.)
      await db.tx(async (q) => {
        await q.query('LOCK TABLE risk_points IN ACCESS EXCLUSIVE MODE');
        const firstAnswer = fetch(url, { signal: first.signal }).then(
          (r) => r.status,
          (e: Error) => e.name,
        );
        await new Promise((r) => setTimeout(r, 300));
        second = fetch(url);
        await new Promise((r) => setTimeout(r, 300));
        first.abort();
        expect(await firstAnswer).toBe('AbortError');
        await new Promise((r) => setTimeout(r, 100));
      });
      const r = await second!;
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('image/png');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('a new data version is a new image even without an announcement', async () => {
    const before = await png(q).expect(200);
    await db.query('UPDATE risk_points SET level = $1 WHERE id = $2', ['blue', ids.redId]);
    await db.query('UPDATE data_version SET version = version + 1');
    const after = await png(q).expect(200);
    expect(after.headers.etag).not.toBe(before.headers.etag);
    await db.query('UPDATE risk_points SET level = $1 WHERE id = $2', ['red', ids.redId]);
    await db.query('UPDATE data_version SET version = version + 1');
  });
});

describe('GET /maps/legend.png', () => {
  it('contains every colour of each requested layer', async () => {
    const r = await request(app).get('/maps/legend.png?layers=risk_points,shelters,resources&lang=en').expect(200).expect('content-type', 'image/png');
    const raster = await decode(r.body);
    for (const id of ['risk_points', 'shelters', 'resources']) {
      for (const entry of legendEntries(getLayer(id)!)) expect(containsColour(raster, entry.color), `${id} ${entry.value}`).toBe(true);
    }
  });

  it('scale=2 doubles it; unknown and restricted layers are 404', async () => {
    const one = await decode((await request(app).get('/maps/legend.png?layers=shelters').expect(200)).body);
    const two = await decode((await request(app).get('/maps/legend.png?layers=shelters&scale=2').expect(200)).body);
    expect([two.width, two.height]).toEqual([one.width * 2, one.height * 2]);
    for (const layers of ['nope', 'hazard_sources', 'shelters,hazard_sources']) {
      const r = await request(app).get(`/maps/legend.png?layers=${layers}`).expect(404).expect('content-type', /problem\+json/);
      expect(problem(r)).toMatchObject({ status: 404, param: 'layers' });
    }
    const missing = await request(app).get('/maps/legend.png').expect(400);
    expect(problem(missing).param).toBe('layers');
  });
});

describe('bad input', () => {
  const bad: [string, string][] = [
    ['width=0', 'width'],
    ['width=-5', 'width'],
    ['width=abc', 'width'],
    ['width=1e3', 'width'],
    ['height=4097', 'height'],
    ['width=3000&scale=2', 'width'],
    ['width=99999999999', 'width'],
    ['scale=3', 'scale'],
    ['lang=fr', 'lang'],
    ['format=gif', 'format'],
    ['overlay=heat', 'overlay'],
    ['layers=', 'layers'],
    ['layers=risk_points,,shelters', 'layers'],
    ['widht=300', 'widht'],
  ];
  it.each(bad)('%s → 400 naming %s', async (query, param) => {
    const r = await request(app).get(`/maps/static.png?district=${TEST_DISTRICT}&${query}`).expect(400).expect('content-type', /problem\+json/);
    expect(problem(r)).toMatchObject({ status: 400, param });
  });

  const badArea: [string, string][] = [
    ['', 'district'],
    [`district=${TEST_DISTRICT}&bbox=110,20,110.1,20.1`, 'bbox'],
    ['bbox=110,20,110.1', 'bbox'],
    ['bbox=110.1,20,110,20.1', 'bbox'],
    ['bbox=a,b,c,d', 'bbox'],
    ['bbox=-200,20,110,21', 'bbox'],
    ['bbox=0,-89,10,10', 'bbox'],
    ['bbox=110,20,110,21', 'bbox'],
    ['district=Not%20An%20Id', 'district'],
  ];
  it.each(badArea)('area %s → 400 naming %s', async (query, param) => {
    const r = await request(app).get(`/maps/static.png?${query}`).expect(400);
    expect(problem(r)).toMatchObject({ status: 400, param });
  });

  it('unknown districts, streets and communities are 404', async () => {
    for (const q of ['district=atlantis', 'street=atlantis-north', 'community=nowhere']) {
      const r = await request(app).get(`/maps/static.png?${q}`).expect(404).expect('content-type', /problem\+json/);
      expect(problem(r).status).toBe(404);
    }
  });

  it('unknown layers and restricted layers are the same 404 for anonymous callers', async () => {
    const unknown = await request(app).get(`/maps/static.png?district=${TEST_DISTRICT}&layers=nope`).expect(404);
    const restricted = await request(app).get(`/maps/static.png?district=${TEST_DISTRICT}&layers=hazard_sources`).expect(404);
    expect(problem(unknown).param).toBe('layers');
    expect(problem(restricted).param).toBe('layers');
    expect(problem(restricted).detail).toBe('no layer "hazard_sources"');
  });

  it('callers allowed to see restricted layers get hazard sources drawn, privately cached', async () => {
    await db.query(
      `INSERT INTO hazard_sources (district_id, name_zh, kind, level, synthetic, geom) VALUES ($1, '测试危化企业', 'storage', 'orange', true, ST_SetSRID(ST_MakePoint(110.02, 20.02), 4326))`,
      [TEST_DISTRICT],
    );
    const privileged = express();
    privileged.use((_req, res, next) => {
      res.locals.principal = { canSeeRestricted: true };
      next();
    });
    privileged.use(mapRoutes(appContext({ db, config: loadConfig({}), log: silentLogger })));
    privileged.use(notFoundHandler);
    privileged.use(errorMiddleware(silentLogger));
    const r = await request(privileged).get(`/maps/static.png?district=${TEST_DISTRICT}&layers=hazard_sources&width=600&height=400`).expect(200);
    expect(r.headers['cache-control']).toContain('private');
    const raster = await decode(r.body);
    const [x, y] = pixelOf(TEST_BBOX, 600, 400, 1, [110.02, 20.02]);
    expect(colourDistance(rgbAt(raster, x, y), hexToRgb(RISK_COLORS.orange))).toBeLessThanOrEqual(16);
  });

  it('overlay=gaps draws the uncovered areas of the coverage analysis; overlay=coverage the service areas', async () => {
    // One populated cell next to the (fixed, 2 km) shelter and one 6 km away from it.
    const cell = ([x0, y0, x1, y1]: number[]) => `SRID=4326;MULTIPOLYGON(((${x0} ${y0},${x1} ${y0},${x1} ${y1},${x0} ${y1},${x0} ${y0})))`;
    await db.query(
      `INSERT INTO population_cells (district_id, street_id, residents, synthetic, geom) VALUES
         ($1, 'testbay-east', 800, true, $2), ($1, 'testbay-west', 600, true, $3)`,
      [TEST_DISTRICT, cell([110.07, 20.015, 110.08, 20.025]), cell([110.005, 20.055, 110.015, 20.065])],
    );
    await db.query('UPDATE data_version SET version = version + 1');

    const gaps = await decode((await png(`district=${TEST_DISTRICT}&layers=shelters&overlay=gaps&width=600&height=400`).expect(200)).body);
    const [gx, gy] = pixelOf(TEST_BBOX, 600, 400, 1, [110.01, 20.06]);
    const [cx, cy] = pixelOf(TEST_BBOX, 600, 400, 1, [110.076, 20.017]);
    const reddish = ([r, g, b]: number[]) => r - g > 50 && r - b > 50;
    expect(reddish(rgbAt(gaps, gx, gy)), `gap pixel ${rgbAt(gaps, gx, gy)}`).toBe(true);
    expect(reddish(rgbAt(gaps, cx, cy)), `covered pixel ${rgbAt(gaps, cx, cy)}`).toBe(false);
    // The computed registry layer coverage_gaps draws the same thing under its layer id.
    const asLayer = await decode((await png(`district=${TEST_DISTRICT}&layers=shelters,coverage_gaps&width=600&height=400`).expect(200)).body);
    expect(rgbAt(asLayer, gx, gy)).toEqual(rgbAt(gaps, gx, gy));
    const legend = await decode((await request(app).get('/maps/legend.png?layers=coverage_gaps').expect(200)).body);
    expect(containsColour(legend, getLayer('coverage_gaps')!.style.color, 40)).toBe(true);

    const coverage = await decode((await png(`district=${TEST_DISTRICT}&layers=shelters&overlay=coverage&width=600&height=400`).expect(200)).body);
    const greenish = ([r, g, b]: number[]) => g - r > 15 && g - b > 8;
    const [ix, iy] = pixelOf(TEST_BBOX, 600, 400, 1, [110.06, 20.02]); // 1.6 km from the shelter
    const [ox, oy] = pixelOf(TEST_BBOX, 600, 400, 1, [110.095, 20.075]); // 6 km away
    expect(greenish(rgbAt(coverage, ix, iy)), `inside ${rgbAt(coverage, ix, iy)}`).toBe(true);
    expect(greenish(rgbAt(coverage, ox, oy)), `outside ${rgbAt(coverage, ox, oy)}`).toBe(false);
  });

  it('a configurable maximum size and feature cap refuse before rendering', async () => {
    const small = express();
    small.use(mapRoutes(appContext({ db, config: loadConfig({}), log: silentLogger }), { maxSize: 500, maxFeatures: 1 }));
    small.use(notFoundHandler);
    small.use(errorMiddleware(silentLogger));
    const size = await request(small).get(`/maps/static.png?district=${TEST_DISTRICT}&width=501&height=300`).expect(400);
    expect(problem(size)).toMatchObject({ param: 'width' });
    expect(problem(size).detail).toContain('500');
    const many = await request(small).get(`/maps/static.png?district=${TEST_DISTRICT}&layers=risk_points,shelters&width=400&height=300`).expect(400);
    expect(problem(many)).toMatchObject({ param: 'district' });
  });
});

describe('off the event loop', () => {
  it('an uncached map is composed on a worker thread; a cached one is answered without it', async () => {
    const q = `district=${TEST_DISTRICT}&layers=risk_points,shelters&width=611&height=401`;
    await workerPool().warm();
    const before = workerPool().stats().completed;
    await png(q).expect(200);
    expect(workerPool().stats().completed).toBe(before + 1);
    await png(q).expect(200);
    expect(workerPool().stats().completed).toBe(before + 1);
  });

  it('with every worker busy and no room to wait, an uncached map is 503 with Retry-After; a cached one is still served', async () => {
    const cached = `district=${TEST_DISTRICT}&layers=shelters&width=612&height=401`;
    const etag = (await png(cached).expect(200)).headers.etag;
    await withFullWorkerPool(async () => {
      const r = await png(`district=${TEST_DISTRICT}&layers=shelters&width=613&height=401`).expect(503);
      expect(r.headers['retry-after']).toMatch(/^\d+$/);
      expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(problem(r).title).toBe('Server busy');
      expect((await png(cached).expect(200)).headers.etag).toBe(etag);
    });
  });

  it('a map whose every client has left is not drawn: its composition leaves the worker queue', async () => {
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/maps/static.png?district=${TEST_DISTRICT}&layers=shelters&width=615&height=401`;
      await withFullWorkerPool(async (pool) => {
        const before = pool.stats().abandoned;
        const client = new AbortController();
        const answer = fetch(url, { signal: client.signal }).catch((e: Error) => e.name);
        await until(() => pool.stats().queued === 1, 20_000);
        client.abort();
        expect(await answer).toBe('AbortError');
        await until(() => pool.stats().queued === 0, 20_000);
        expect(pool.stats().abandoned).toBe(before + 1);
        // The one worker is still on its own task: the map was never drawn.
        expect(pool.stats().busy).toBe(1);
      }, 1);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('rasterises one image at a time (libuv threads stay free for the rest); with the queue full an uncached map is 503 with Retry-After and nothing is kept', async () => {
    const gated = appOn(db, { MAP_RASTER_CONCURRENCY: '1', MAP_RASTER_QUEUE_MAX: '0' });
    try {
      const q = `/maps/static.png?district=${TEST_DISTRICT}&layers=shelters&width=614&height=401`;
      expect(rasterGate().options).toMatchObject({ concurrency: 1, maxQueue: 0 });
      let release!: () => void;
      // Another image holding the one slot.
      const held = rasterGate().run(() => new Promise<void>((r) => (release = r)), undefined);
      try {
        expect(rasterGate().stats()).toMatchObject({ active: 1, queued: 0 });
        const r = await request(gated).get(q).expect(503);
        expect(r.headers['retry-after']).toMatch(/^\d+$/);
        expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
        expect(problem(r)).toMatchObject({ title: 'Server busy', detail: expect.stringContaining('image rasterising') });
        const metrics = (await request(gated).get('/metrics').expect(200)).text;
        expect(metricValue(metrics, 'onemap_map_raster_rejected_total')).toBeGreaterThanOrEqual(1);
        expect(metricValue(metrics, 'onemap_map_raster_active')).toBe(1);
      } finally {
        release();
        await held;
      }
      // Nothing was cached by the refusal: the same request now draws (not a cached 503).
      await request(gated).get(q).expect(200).expect('content-type', 'image/png');
      expect(rasterGate().stats()).toMatchObject({ active: 0, queued: 0 });
    } finally {
      // The gate is the process's: later apps and files get the defaults back.
      configureRasterGate(DEFAULT_RASTER_GATE);
    }
  });
});
