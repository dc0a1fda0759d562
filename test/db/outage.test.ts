import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { backend } from '../setup/db.ts';
import { createSeededCluster, type ThrowawayCluster } from '../helpers/throwaway-pg.ts';
import { openPostgres } from '../../server/db/postgres.ts';
import { listenApp } from '../helpers/listen.ts';
import { createKey } from '../../server/auth/keys.ts';
import type { Db } from '../../server/db/types.ts';
import { subscribeSse, waitFor } from '../helpers/sse.ts';

/**
 * A database outage on a PostgreSQL cluster of the test's own: cached reads are
 * still served, everything else answers 503 with Retry-After, /ready says why,
 * /health stays 200; once the database is back the server recovers by itself
 * and every acknowledged write is there. (The embedded database lives inside
 * the process and cannot go away on its own, so this runs on PostgreSQL only.)
 */
describe.skipIf(backend !== 'postgres')('database outage (throwaway PostgreSQL cluster)', () => {
  let cluster: ThrowawayCluster;
  let db: Db;
  let close: (() => Promise<void>) | undefined;
  let base: string;
  let editor: string;

  beforeAll(async () => {
    cluster = await createSeededCluster(inject('templateDbUrl'));
    db = await openPostgres({ connectionString: cluster.url('onemap'), max: 4, connectionTimeoutMillis: 2000 });
    editor = `Bearer ${(await createKey(db, { name: 'outage desk', role: 'editor' })).key}`;
    ({ base, close } = await listenApp(db));
  }, 180_000);

  afterAll(async () => {
    await close?.();
    await db?.close().catch(() => {});
    cluster?.remove();
  });

  const TILE = '/tiles/risk_points/8/208/110.mvt';
  const ITEMS = '/ogc/collections/risk_points/items?limit=5';
  const write = (n: number) =>
    fetch(`${base}/ogc/collections/risk_points/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/geo+json', authorization: editor },
      body: JSON.stringify({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [113.22 + n * 0.001, 23.40] },
        properties: { name_zh: `停电期间风险点${n}`, district_id: 'huadu', level: 'orange', category: 'gas', responsible_unit: '花都区应急管理局' },
      }),
    });

  it('serves cached tiles, answers 503 with Retry-After otherwise, reports not ready, stays alive, and recovers', async () => {
    const acknowledged: number[] = [];
    const before = await write(1);
    expect(before.status).toBe(201);
    acknowledged.push(Number((await before.json()).id));
    // (after the write, which drops the tiles it touches from the cache)
    const tile = await fetch(base + TILE);
    expect(tile.status).toBe(200);
    const tileBytes = Buffer.from(await tile.arrayBuffer());
    expect((await fetch(base + ITEMS)).status).toBe(200);
    // an open map hears that the database went away, and that it is back
    const live = subscribeSse(`${base}/events`);
    await live.opened;

    cluster.stop();
    await waitFor(() => live.notices.find((n) => n.event === 'database' && n.data.up === false), 10_000, 'event: database, up false');

    const cached = await fetch(base + TILE);
    expect(cached.status).toBe(200);
    expect(Buffer.from(await cached.arrayBuffer()).equals(tileBytes)).toBe(true);

    const items = await fetch(base + ITEMS);
    expect(items.status).toBe(503);
    expect(items.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(Number(items.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await items.json()).title).toBe('Database unavailable');

    const uncachedTile = await fetch(base + '/tiles/risk_points/9/417/221.mvt');
    expect(uncachedTile.status).toBe(503);

    const refused = await write(2);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).not.toBeNull();

    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(503);
    expect(ready.headers.get('content-type')).toMatch(/json/);
    const readyBody = await ready.json();
    expect(readyBody.status).toBe('not ready');
    expect(readyBody.reason).toMatch(/database unavailable/);

    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect((await health.json()).database).toBe('unavailable');
    // the row counts need the database: 503 like any other read
    const counts = await fetch(`${base}/health/counts`);
    expect(counts.status).toBe(503);
    expect(counts.headers.get('retry-after')).not.toBeNull();

    cluster.start();

    // recovers by itself: the pool reconnects (bounded wait)
    const end = Date.now() + 30_000;
    while ((await fetch(`${base}/ready`)).status !== 200) {
      if (Date.now() > end) throw new Error('not ready 30 s after the database came back');
      await new Promise((r) => setTimeout(r, 200));
    }
    expect((await fetch(base + ITEMS)).status).toBe(200);
    await waitFor(() => live.notices.find((n) => n.event === 'database' && n.data.up === true), 30_000, 'event: database, up true');
    live.close();
    const after = await write(3);
    expect(after.status).toBe(201);
    acknowledged.push(Number((await after.json()).id));

    // every acknowledged write is there; the refused one is not
    const rows = await db.query<{ id: number; name_zh: string }>('SELECT id::int8 AS id, name_zh FROM risk_points WHERE name_zh LIKE $1 ORDER BY id', ['停电期间风险点%']);
    expect(rows.rows.map((r) => r.id)).toEqual(acknowledged);
    expect(rows.rows.map((r) => r.name_zh)).toEqual(['停电期间风险点1', '停电期间风险点3']);
  }, 120_000);

  it('8 keep-alive clients through a stop and start get answers only, never a network error', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const url = new URL(base);
    const get = (path: string) =>
      new Promise<number | string>((resolve) => {
        const req = http.get({ host: url.hostname, port: url.port, path, agent, timeout: 30_000 }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
        });
        req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
        req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      });
    const paths = [TILE, ITEMS, '/tiles/risk_points/9/417/221.mvt', '/layers', '/ready', '/analysis/nearest-shelters?lon=113.22&lat=23.40&n=3'];
    const answers = new Map<string, number>();
    let running = true;
    const client = async (i: number) => {
      for (let n = 0; running; n++) {
        const a = String(await get(paths[(i + n) % paths.length]));
        answers.set(a, (answers.get(a) ?? 0) + 1);
        // Each client once leaves its connection idle past Node's default keep-alive timeout (5 s).
        if (n === 3) await new Promise((r) => setTimeout(r, 5600));
      }
    };
    const clients = Array.from({ length: 8 }, (_, i) => client(i));
    try {
      await new Promise((r) => setTimeout(r, 1500));
      cluster.stop();
      await new Promise((r) => setTimeout(r, 5000));
      cluster.start();
      const end = Date.now() + 30_000;
      while ((await get('/ready')) !== 200) {
        if (Date.now() > end) throw new Error('not ready 30 s after the database came back');
        await new Promise((r) => setTimeout(r, 200));
      }
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      running = false;
      await Promise.all(clients);
      agent.destroy();
    }
    const statuses = [...answers.keys()];
    // answers only: 200/204 (cache or database), 503 while it was away, 404 none
    expect(statuses.filter((s) => !['200', '204', '503'].includes(s)), JSON.stringify(Object.fromEntries(answers))).toEqual([]);
    expect(answers.get('503')).toBeGreaterThan(0);
  }, 120_000);
});
