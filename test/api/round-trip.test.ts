import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb } from '../setup/db.ts';
import { listenApp } from '../helpers/listen.ts';
import { createKey } from '../../server/auth/keys.ts';
import { decodeTile } from '../tiles/helpers/decode.ts';
import { tileOf, waitFor } from '../helpers/sse.ts';
import type { Db } from '../../server/db/types.ts';

// A QGIS-style round trip: create, update and delete through OGC API Part 4,
// then read back through OGC items AND vector tiles (whose cache must notice).
let db: Db;
let base: string;
let closeApp: () => Promise<void>;
let auth: Record<string, string>;
beforeAll(async () => {
  db = await testDb();
  ({ base, close: closeApp } = await listenApp(db));
  auth = { authorization: `Bearer ${(await createKey(db, { name: 'qgis', role: 'editor' })).key}`, 'content-type': 'application/geo+json' };
});
afterAll(async () => {
  await closeApp?.();
  await db?.close();
});

async function tileFeatures(z: number, x: number, y: number) {
  const res = await fetch(`${base}/tiles/risk_points/${z}/${x}/${y}.mvt`);
  if (res.status === 204) return [];
  expect(res.status).toBe(200);
  return decodeTile(new Uint8Array(await res.arrayBuffer())).risk_points ?? [];
}

describe('edit round trip through OGC items and tiles', () => {
  it('create → update → delete is visible in items and in the (cached) tile at once', async () => {
    const p = await db.query<{ x: number; y: number }>(
      "SELECT ST_X(g) AS x, ST_Y(g) AS y FROM (SELECT ST_PointOnSurface(geom) AS g FROM districts WHERE id = 'pingshan') s",
    );
    const [lon, lat] = [p.rows[0].x, p.rows[0].y];
    const { z, x, y } = tileOf(lon, lat, 15);
    const before = await tileFeatures(z, x, y); // warms the cache

    const created = await fetch(`${base}/ogc/collections/risk_points/items`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [lon, lat] },
        properties: { name_zh: '往返测试点', district_id: 'pingshan', level: 'yellow', category: 'construction', responsible_unit: '坪山区住建局' },
      }),
    });
    expect(created.status).toBe(201);
    const id = ((await created.json()) as { id: number }).id;

    const inTile = await waitFor(async () => (await tileFeatures(z, x, y)).find((f) => f.id === id), 2000, 'new point in tile');
    expect(inTile.properties).toMatchObject({ name_zh: '往返测试点', level: 'yellow' });
    expect((await tileFeatures(z, x, y)).length).toBe(before.length + 1);

    const item = await fetch(`${base}/ogc/collections/risk_points/items/${id}`);
    const etag = item.headers.get('etag')!;
    const patched = await fetch(`${base}/ogc/collections/risk_points/items/${id}`, {
      method: 'PATCH',
      headers: { ...auth, 'if-match': etag },
      body: JSON.stringify({ type: 'Feature', properties: { level: 'red' } }),
    });
    expect(patched.status).toBe(200);
    await waitFor(async () => ((await tileFeatures(z, x, y)).find((f) => f.id === id)?.properties.level === 'red' ? true : undefined), 2000, 'upgrade in tile');
    const reread = (await (await fetch(`${base}/ogc/collections/risk_points/items/${id}`)).json()) as { properties: { level: string } };
    expect(reread.properties.level).toBe('red');

    const deleted = await fetch(`${base}/ogc/collections/risk_points/items/${id}`, { method: 'DELETE', headers: { ...auth, 'if-match': patched.headers.get('etag')! } });
    expect(deleted.status).toBe(204);
    await waitFor(async () => ((await tileFeatures(z, x, y)).some((f) => f.id === id) ? undefined : true), 2000, 'point gone from tile');
    expect((await fetch(`${base}/ogc/collections/risk_points/items/${id}`)).status).toBe(404);
  });
});
