import { afterAll, describe, expect, it } from 'vitest';
import { openTestDb, backend } from '../setup/db.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import { createKey } from '../../server/auth/keys.ts';
import { subscribeSse, tileOf, waitFor } from '../helpers/sse.ts';
import { decodeTile } from '../tiles/helpers/decode.ts';

// Several server processes on one PostgreSQL: a write through one reaches the
// live maps and the tile cache of the other, through LISTEN/NOTIFY. (The embedded
// database belongs to one process, so this is a PostgreSQL-only deployment.)
const servers: RunningServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
});

describe.runIf(backend === 'postgres')('two server processes on one PostgreSQL', { timeout: 120_000 }, () => {
  it('a write through A is streamed by B within 1 s and B’s cached tile shows it', async () => {
    const { db, location } = await openTestDb();
    const key = (await createKey(db, { name: 'A desk', role: 'editor' })).key;
    const p = await db.query<{ x: number; y: number }>("SELECT ST_X(g) AS x, ST_Y(g) AS y FROM (SELECT ST_PointOnSurface(geom) AS g FROM districts WHERE id = 'jianghai') s");
    await db.close();
    const [lon, lat] = [p.rows[0].x, p.rows[0].y];
    const [a, b] = await Promise.all([startServer({ DATABASE_URL: location }), startServer({ DATABASE_URL: location })]);
    servers.push(a, b);
    const { z, x, y } = tileOf(lon, lat, 15);
    const tile = async () => {
      const res = await fetch(`${b.url}/tiles/risk_points/${z}/${x}/${y}.mvt`);
      return res.status === 204 ? [] : (decodeTile(new Uint8Array(await res.arrayBuffer())).risk_points ?? []);
    };
    const before = await tile();
    const sub = subscribeSse(`${b.url}/events`);
    await sub.opened;

    const res = await fetch(`${a.url}/ogc/collections/risk_points/items`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/geo+json' },
      body: JSON.stringify({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [lon, lat] },
        properties: { name_zh: '跨进程测试点', district_id: 'jianghai', level: 'red', category: 'fire', responsible_unit: '江海区应急管理局' },
      }),
    });
    expect(res.status).toBe(201);
    const id = ((await res.json()) as { id: number }).id;
    // The second counts from A's acknowledgement: how long the write itself took
    // (a first write on a busy machine) is not the propagation being tested.
    const event = await waitFor(() => sub.events.find((e) => e.data.id === id), 1000, 'event on B within 1 s');
    expect(event.data).toMatchObject({ layer: 'risk_points', op: 'insert', level: 'red' });
    const after = await tile();
    expect(after.length).toBe(before.length + 1);
    expect(after.find((f) => f.id === id)?.properties.level).toBe('red');
    sub.close();
  });
});
