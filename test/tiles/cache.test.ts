import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Express } from 'express';
import type { Point } from 'geojson';
import { testApp } from '../helpers/test-app.ts';
import { ChangeBus, type FeatureChange } from '../../server/changes.ts';
import { recordChange } from '../../server/live/notify.ts';
import { tileContaining, type TileCoord } from '../../tiles/tile-coords.ts';
import type { Db, Queryable } from '../../server/db/types.ts';
import { fetchTile, tileApp } from './helpers/http.ts';
import { decodeTile } from './helpers/decode.ts';
import { QUIET, insertRiskPoint } from './helpers/rows.ts';
import { waitFor } from '../helpers/sse.ts';

let db: Db;
let app: Express;
let changes: ChangeBus;
const heard: FeatureChange[] = [];
beforeAll(async () => {
  changes = new ChangeBus();
  changes.on((c) => heard.push(c));
  ({ db, app } = await testApp({ app: { changes } }));
});
afterAll(async () => db?.close());

const point = (lon: number, lat: number): Point => ({ type: 'Point', coordinates: [lon, lat] });
const urlOf = (layer: string, t: TileCoord) => `/tiles/${layer}/${t.z}/${t.x}/${t.y}.mvt`;
const ids = async (a: Express, url: string) => (decodeTile((await fetchTile(a, url)).body).risk_points ?? []).map((f) => f.id);

/**
 * Writes as the server does: the transaction records its change, which the database
 * announces at COMMIT and the app's relay puts on the ChangeBus; resolves once it is heard.
 * (A write that records nothing is announced as a change of the whole layer, migration 017.)
 */
async function announced(write: (q: Queryable) => Promise<Omit<FeatureChange, 'dataVersion'>>): Promise<void> {
  const from = heard.length;
  let change!: Omit<FeatureChange, 'dataVersion'>;
  await db.tx(async (q) => {
    change = await write(q);
    recordChange(q, change);
  });
  const isIt = (c: FeatureChange) => c.layer === change.layer && c.id === change.id && c.op === change.op;
  await waitFor(() => (heard.slice(from).some(isIt) ? true : undefined), 10_000, `the ${change.op} of ${change.layer} ${change.id} heard`);
}

async function moveRiskPoint(q: Queryable, id: number, to: { lon: number; lat: number }): Promise<Point> {
  const before = await q.query<{ g: string }>('SELECT ST_AsGeoJSON(geom) AS g FROM risk_points WHERE id = $1', [id]);
  await q.query('UPDATE risk_points SET geom = ST_SetSRID(ST_MakePoint($2, $3), 4326), version = version + 1 WHERE id = $1', [id, to.lon, to.lat]);
  return JSON.parse(before.rows[0].g);
}

describe('tile cache', () => {
  it('the second request is a hit; If-None-Match on a cached tile is 304', async () => {
    const url = urlOf('risk_points', tileContaining(113.27, 23.13, 10));
    const first = await fetchTile(app, url);
    expect(first.headers['x-tile-cache']).toBe('miss');
    const answeredBefore = app.locals.tileFastPath.answered;
    const second = await fetchTile(app, url);
    expect(second.headers['x-tile-cache']).toBe('hit');
    // Answered by the hook in front of Express, not by the route.
    expect(app.locals.tileFastPath.answered).toBe(answeredBefore + 1);
    expect(app.locals.tiles.cache.stats().entries).toBeGreaterThan(0);
    expect(second.body.equals(first.body)).toBe(true);
    expect(second.headers.etag).toBe(first.headers.etag);
    expect((await fetchTile(app, url, { 'if-none-match': first.headers.etag })).status).toBe(304);
  });

  it('an edit written through the database and announced on the ChangeBus refreshes exactly the affected tiles', async () => {
    const from = { lon: QUIET.lon + 0.01, lat: QUIET.lat + 0.01 };
    const to = { lon: QUIET.lon + 0.31, lat: QUIET.lat + 0.2 };
    const far = { lon: QUIET.lon + 1.5, lat: QUIET.lat - 1.2 };
    let id = 0;
    await announced(async (q) => {
      id = await insertRiskPoint(q, from.lon, from.lat, 'red');
      return { layer: 'risk_points', id, op: 'insert', after: point(from.lon, from.lat) };
    });
    await announced(async (q) => ({ layer: 'risk_points', id: await insertRiskPoint(q, far.lon, far.lat, 'blue'), op: 'insert', after: point(far.lon, far.lat) }));

    const zooms = [0, 3, 6, 9, 11, 12, 14, 16, 18];
    const tilesAt = (p: { lon: number; lat: number }) => zooms.map((z) => tileContaining(p.lon, p.lat, z));
    for (const t of [...tilesAt(from), ...tilesAt(to), ...tilesAt(far)]) await fetchTile(app, urlOf('risk_points', t));
    // Also a cached tile of another layer over the same spot.
    const shelterUrl = urlOf('shelters', tileContaining(from.lon, from.lat, 14));
    await fetchTile(app, shelterUrl);
    expect(await ids(app, urlOf('risk_points', tileContaining(from.lon, from.lat, 14)))).toContain(id);

    await announced(async (q) => ({ layer: 'risk_points', id, op: 'update', before: await moveRiskPoint(q, id, to), after: point(to.lon, to.lat) }));

    for (const z of zooms) {
      const [a, b, c] = [from, to, far].map((p) => tileContaining(p.lon, p.lat, z));
      const fromTile = await fetchTile(app, urlOf('risk_points', a));
      expect(fromTile.headers['x-tile-cache'], `old position, z${z}`).toBe('miss');
      const toTile = await fetchTile(app, urlOf('risk_points', b));
      expect(toTile.headers['x-tile-cache'] === 'miss' || (a.x === b.x && a.y === b.y), `new position, z${z}`).toBe(true);
      const apart = Math.max(Math.abs(c.x - a.x), Math.abs(c.y - a.y), Math.abs(c.x - b.x), Math.abs(c.y - b.y)) > 1;
      if (apart) expect((await fetchTile(app, urlOf('risk_points', c))).headers['x-tile-cache'], `far tile, z${z}`).toBe('hit');
    }
    expect((await fetchTile(app, shelterUrl)).headers['x-tile-cache']).toBe('hit');
    // The engine shows the new data, not only the cache.
    expect(await ids(app, urlOf('risk_points', tileContaining(from.lon, from.lat, 14)))).not.toContain(id);
    expect(await ids(app, urlOf('risk_points', tileContaining(to.lon, to.lat, 14)))).toContain(id);
  });

  it('drops nothing but the tiles over the change (checked on the cache itself)', async () => {
    const { app: tiles, service, changes: bus } = tileApp(db);
    const spot = { lon: QUIET.lon - 0.4, lat: QUIET.lat + 0.4 };
    const id = await insertRiskPoint(db, spot.lon, spot.lat, 'orange');
    bus.emit({ layer: 'risk_points', id, op: 'insert', after: point(spot.lon, spot.lat) });
    const urls: string[] = [];
    for (let z = 0; z <= 18; z++) {
      const t = tileContaining(spot.lon, spot.lat, z);
      for (const dx of [-2, 0, 2]) {
        const n = { z, x: t.x + dx, y: t.y };
        if (n.x < 0 || n.x >= 2 ** z) continue;
        urls.push(urlOf('risk_points', n));
      }
    }
    for (const u of urls) await fetchTile(tiles, u);
    const cachedBefore = service.cache.keys();
    expect(cachedBefore).toHaveLength(urls.length);

    await db.query('DELETE FROM risk_points WHERE id = $1', [id]);
    bus.emit({ layer: 'risk_points', id, op: 'delete', before: point(spot.lon, spot.lat) });
    const gone = cachedBefore.filter((k) => !service.cache.has(k));
    // Exactly one tile per zoom: the one holding the point (the others are two tiles away).
    expect(gone.sort()).toEqual(
      Array.from({ length: 19 }, (_, z) => `a:${urlOf('risk_points', tileContaining(spot.lon, spot.lat, z))}`).sort(),
    );
    expect(await ids(tiles, urlOf('risk_points', tileContaining(spot.lon, spot.lat, 15)))).not.toContain(id);
    await service.close();
  });

  it('a shelter edit recomputes the coverage gaps layer', async () => {
    const { app: tiles, service } = tileApp(db);
    const url = urlOf('coverage_gaps', tileContaining(113.27, 23.13, 10));
    const first = await fetchTile(tiles, url);
    expect([200, 204]).toContain(first.status);
    expect(service.cache.keys()).toContain(`a:${url}`);
    service.invalidate({ layer: 'shelters', id: 1, op: 'update', after: point(113.27, 23.13) });
    expect(service.cache.keys()).not.toContain(`a:${url}`);
    expect((await fetchTile(tiles, url)).headers['x-tile-cache']).toBe('miss');
    await service.close();
  });

  it('one cache entry per distinct tile: filter order and duplicates do not matter, unknown parameters are refused', async () => {
    const { app: tiles, service } = tileApp(db);
    const base = urlOf('risk_points', { z: 10, x: 834, y: 445 });
    const variants = [`${base}?level=red,orange`, `${base}?level=orange,red`, `${base}?level=orange&level=red,red`, `${base}?level=red,orange&district=`];
    const first = await fetchTile(tiles, variants[0]);
    expect(first.status).toBeLessThan(300);
    for (const v of variants.slice(1, 3)) {
      const r = await fetchTile(tiles, v);
      expect(r.headers['x-tile-cache'], v).toBe('hit');
      expect(r.body.equals(first.body)).toBe(true);
    }
    expect(service.cache.keys()).toEqual([`a:${base}?level=orange,red`]);
    // Anything that does not change the bytes cannot mint a new entry.
    for (const bad of [`${base}?x=1`, `${base}?level=red&cachebust=2`, variants[3]]) {
      const r = await fetchTile(tiles, bad);
      expect(r.status, bad).toBe(400);
      expect(r.headers['content-type']).toMatch(/problem\+json/);
    }
    expect(JSON.parse((await fetchTile(tiles, `${base}?x=1`)).text)).toMatchObject({ param: 'x', detail: expect.stringContaining('level, district') });
    expect(service.cache.keys()).toHaveLength(1);
    await service.close();
  });

  it('a cache of 0 bytes caches nothing and still answers every tile', async () => {
    const { app: tiles, service } = tileApp(db, { cacheBytes: 0 });
    const url = urlOf('risk_points', { z: 10, x: 834, y: 445 });
    const a = await fetchTile(tiles, url);
    const b = await fetchTile(tiles, url);
    expect(b.headers['x-tile-cache']).toBe('miss');
    expect(b.body.equals(a.body)).toBe(true);
    expect(service.cache.stats().entries).toBe(0);
    await service.close();
  });

  it('a change without geometry drops every tile of its layer', async () => {
    const { app: tiles, service } = tileApp(db);
    await fetchTile(tiles, urlOf('risk_points', { z: 5, x: 26, y: 13 }));
    await fetchTile(tiles, urlOf('shelters', { z: 5, x: 26, y: 13 }));
    expect(service.invalidate({ layer: 'risk_points', id: 1, op: 'update' })).toBe(1);
    expect(service.cache.keys()).toEqual([`a:${urlOf('shelters', { z: 5, x: 26, y: 13 })}`]);
    await service.close();
  });
});
