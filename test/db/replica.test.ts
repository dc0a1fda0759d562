import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import pg from 'pg';
import { backend } from '../setup/db.ts';
import { createSeededCluster, createStandby, type ThrowawayCluster } from '../helpers/throwaway-pg.ts';
import { openDb } from '../../server/db/open.ts';
import { loadConfig } from '../../server/config.ts';
import { listenApp } from '../helpers/listen.ts';
import { createKey } from '../../server/auth/keys.ts';
import { scopedDb } from '../../server/db/scoped.ts';
import type { Db } from '../../server/db/types.ts';
import { tileOf } from '../helpers/sse.ts';
import { decodeTile } from '../tiles/helpers/decode.ts';

/**
 * DATABASE_READ_URL against a real hot standby: a throwaway primary and a
 * `pg_basebackup -R` standby of it streaming over loopback. Replay is paused on
 * the standby to make it lag for as long as the test needs, so a read that went
 * to it without waiting for the writer's WAL position would miss the write.
 */
describe.skipIf(backend !== 'postgres')('read replica (a real streaming hot standby)', () => {
  let primary: ThrowawayCluster;
  let standby: ThrowawayCluster;
  const dbs: Db[] = [];
  const closers: (() => Promise<void>)[] = [];
  let env: Record<string, string>;
  let editor: string;
  // A: an ordinary server. B: a server that has not heard A's change yet (another host on a slow network).
  let a: { base: string; db: Db };
  let b: { base: string; db: Db };

  const open = async () => {
    const db = await openDb(loadConfig(env), () => {});
    dbs.push(db);
    return db;
  };
  const serve = async (db: Db) => {
    const { base, close } = await listenApp(db);
    closers.push(close);
    return { base, db };
  };
  const onStandby = async <T>(sql: string): Promise<T> => {
    const c = new pg.Client({ connectionString: standby.url('onemap') });
    await c.connect();
    try {
      return (await c.query(sql)).rows[0] as T;
    } finally {
      await c.end();
    }
  };
  const pauseReplay = async () => {
    await onStandby('SELECT pg_wal_replay_pause()');
    await until(async () => (await onStandby<{ s: string }>('SELECT pg_get_wal_replay_pause_state() AS s')).s === 'paused');
  };
  const resumeReplay = () => onStandby('SELECT pg_wal_replay_resume()');
  const ready = async (base: string) => (await fetch(`${base}/ready`)).json() as Promise<{ status: string; replica?: string }>;
  const reads = (db: Db) => db.read!.status().reads;
  let n = 0;
  const write = (base: string) =>
    fetch(`${base}/ogc/collections/risk_points/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/geo+json', authorization: editor },
      body: JSON.stringify({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [113.22 + ++n * 0.001, 23.41] },
        properties: { name_zh: `副本测试风险点${n}`, district_id: 'huadu', level: 'orange', category: 'gas', responsible_unit: '花都区应急管理局' },
      }),
    });

  beforeAll(async () => {
    primary = await createSeededCluster(inject('templateDbUrl'));
    standby = await createStandby(primary);
    standby.start();
    env = { DATABASE_URL: primary.url('onemap'), DATABASE_READ_URL: standby.url('onemap'), PG_POOL_SIZE: '4' };
    const dbA = await open();
    editor = `Bearer ${(await createKey(dbA, { name: 'replica desk', role: 'editor' })).key}`;
    a = await serve(dbA);
    // B's change notifications never arrive: only a Consistency-Token tells it about A's write.
    const dbB = await open();
    b = await serve({ ...dbB, listen: async () => async () => {} });
  }, 240_000);

  afterAll(async () => {
    for (const close of closers) await close().catch(() => {});
    for (const db of dbs) await db.close().catch(() => {});
    standby?.remove();
    primary?.remove();
  });

  it('serves tiles, OGC items, analyses and static maps from the replica; /ready and metrics say it is up', async () => {
    const before = reads(a.db);
    const paths = [
      '/ogc/collections/risk_points/items?limit=3',
      '/tiles/risk_points/8/208/110.mvt',
      '/analysis/coverage?district=huadu',
      '/analysis/exposure?district=huadu',
      '/maps/static.png?bbox=113.0,23.3,113.4,23.6&width=300&height=200',
      '/risk/table?district=huadu',
      '/risk/inspections/due?district=huadu',
      '/risk/disagreements?district=huadu',
      '/risk/geohazards?district=huadu',
    ];
    for (const path of paths) {
      expect((await fetch(a.base + path)).status, path).toBe(200);
    }
    const after = reads(a.db);
    expect(after.replica).toBeGreaterThan(before.replica + paths.length - 1);
    expect(after.primary).toBe(before.primary);
    expect(await ready(a.base)).toEqual({ status: 'ready', replica: 'up' });
    const metrics = await (await fetch(`${a.base}/metrics`)).text();
    expect(metrics).toMatch(/^onemap_db_replica_up 1$/m);
    expect(metrics).toMatch(/^onemap_db_replica_reads_total\{served_by="replica"\} [1-9]/m);
  });

  it('never shows a writer its write missing while the replica lags: Consistency-Token, heard changes, own commits', async () => {
    await pauseReplay();
    try {
      const created = await write(a.base);
      expect(created.status).toBe(201);
      const token = created.headers.get('consistency-token');
      expect(token).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
      const item = `/ogc/collections/risk_points/items/${(await created.json()).id}`;

      // The replica really lags: B, which has not heard of the write, reads it from there.
      expect((await fetch(b.base + item)).status).toBe(404);
      // With the writer's token B waits for the replica, then asks the primary.
      const primaryBefore = reads(b.db).primary;
      const withToken = await fetch(b.base + item, { headers: { 'Consistency-Token': token! } });
      expect(withToken.status).toBe(200);
      expect(reads(b.db).primary).toBeGreaterThan(primaryBefore);
      // Tiles too, though public tiles are otherwise answered before Express: an uncached one is read from the primary.
      const tile = `${b.base}/tiles/risk_points/9/417/221.mvt`;
      const tileBefore = reads(b.db).primary;
      expect([200, 204]).toContain((await fetch(tile, { headers: { 'Consistency-Token': token! } })).status);
      expect(reads(b.db).primary).toBeGreaterThan(tileBefore);
      expect((await fetch(tile, { headers: { 'Consistency-Token': '0/' } })).status).toBe(400);
      // A heard its own change: its reads need no token, and go to the primary while the replica lacks it.
      const aBefore = reads(a.db).primary;
      expect((await fetch(a.base + item)).status).toBe(200);
      expect(reads(a.db).primary).toBeGreaterThan(aBefore);

      // A request's own commit is read back from the primary.
      const own = scopedDb(b.db, { kind: 'items', consistency: { minLsn: 0n, primary: false } });
      const { version } = await own.tx(async (q) => (await q.query<{ version: number }>('UPDATE data_version SET version = version + 1 RETURNING version')).rows[0]);
      expect((await own.read!.query<{ version: number }>('SELECT version FROM data_version')).rows[0].version).toBe(version);

      const bad = await fetch(b.base + item, { headers: { 'Consistency-Token': 'yesterday' } });
      expect(bad.status).toBe(400);
      expect(bad.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect((await bad.json()).param).toBe('Consistency-Token');
    } finally {
      await resumeReplay();
    }
    // Replayed: the writer's token is served by the replica again (at most a second after it caught up).
    const token = (await write(a.base)).headers.get('consistency-token')!;
    await until(async () => {
      const before = reads(b.db).replica;
      const r = await fetch(b.base + '/ogc/collections/risk_points/items?limit=1', { headers: { 'Consistency-Token': token } });
      return r.ok && reads(b.db).replica > before;
    });
  });

  it('a tile cached by a server that has not heard of a write is not served to the writer: its token reads around that cache', async () => {
    const [lon, lat] = [113.2345, 23.4123];
    const { z, x, y } = tileOf(lon, lat, 16);
    const path = `/tiles/risk_points/${z}/${x}/${y}.mvt`;
    const get = async (base: string, headers: Record<string, string> = {}) => {
      const r = await fetch(base + path, { headers });
      expect([200, 204], base).toContain(r.status);
      const ids = r.status === 204 ? [] : (decodeTile(new Uint8Array(await r.arrayBuffer())).risk_points ?? []).map((f) => f.id);
      return { ids, cache: r.headers.get('x-tile-cache') };
    };
    // Both servers cache the tile as it is.
    for (const server of [a, b]) {
      await get(server.base);
      expect((await get(server.base)).cache, server.base).toBe('hit');
    }
    const created = await fetch(`${a.base}/ogc/collections/risk_points/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/geo+json', authorization: editor },
      body: JSON.stringify({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [lon, lat] },
        properties: { name_zh: '副本缓存测试点', district_id: 'huadu', level: 'red', category: 'gas', responsible_unit: '花都区应急管理局' },
      }),
    });
    expect(created.status).toBe(201);
    const id = (await created.json()).id as number;
    const token = created.headers.get('consistency-token')!;
    // B has not heard of the write: its cache still holds the tile without the point (other hosts learn of a
    // write when its notification arrives), and a reader without the token gets that copy.
    expect((await get(b.base)).ids).not.toContain(id);
    // The writer's token names a data version B has not applied: B renders the tile at the token's position.
    const withToken = await get(b.base, { 'Consistency-Token': token });
    expect(withToken.ids).toContain(id);
    expect(withToken.cache).toBe('miss');
    // A heard the write before answering it: its cache covers the token and answers from it.
    expect((await get(a.base)).ids).toContain(id);
    const fromA = await get(a.base, { 'Consistency-Token': token });
    expect(fromA).toEqual({ ids: expect.arrayContaining([id]), cache: 'hit' });
  });

  it('reads /risk/* and finished import jobs with the same token rule: the writer sees its inspection and import, a reader without the token may not', async () => {
    const asEditor = { authorization: editor, 'content-type': 'application/json' };
    const table = (base: string, headers: Record<string, string> = {}) =>
      fetch(`${base}/risk/table?district=huadu`, { headers }).then(async (r) => {
        expect(r.status).toBe(200);
        return (await r.json()) as { counts: { total: { total: number } }; points: { id: number; last_inspection: string | null }[] };
      });
    const point = (await table(a.base)).points.find((p) => p.last_inspection === null || p.last_inspection < '2026-01-01')!;
    await pauseReplay();
    try {
      // An inspection recorded through A: B, which has not heard of it, reads the lagging replica without the token.
      const date = '2026-01-15';
      const recorded = await fetch(`${a.base}/risk/points/${point.id}/inspections`, { method: 'POST', headers: asEditor, body: JSON.stringify({ date, inspector: '副本检查员' }) });
      expect(recorded.status).toBe(201);
      const token = recorded.headers.get('consistency-token')!;
      expect(token).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
      const inspections = `${b.base}/risk/points/${point.id}/inspections`;
      const dates = async (headers: Record<string, string> = {}) => ((await (await fetch(inspections, { headers })).json()) as { inspections: { date: string }[] }).inspections.map((i) => i.date);
      expect(await dates()).not.toContain(date);
      expect((await table(b.base)).points.find((p) => p.id === point.id)!.last_inspection).not.toBe(date);
      // With it, B answers from the primary: the inspection is there, in the list and in the one table.
      const primaryBefore = reads(b.db).primary;
      expect(await dates({ 'Consistency-Token': token })).toContain(date);
      expect((await table(b.base, { 'Consistency-Token': token })).points.find((p) => p.id === point.id)!.last_inspection).toBe(date);
      expect(reads(b.db).primary).toBeGreaterThan(primaryBefore);

      // An asynchronous import commits after its POST was answered: the finished job's status carries the token its reader needs.
      const features = [0, 1].map((i) => ({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [113.25 + i * 0.001, 23.42] },
        properties: { name_zh: `副本导入风险点${i}`, district_id: 'huadu', level: 'blue', category: 'gas', responsible_unit: '花都区应急管理局' },
      }));
      const started = await fetch(`${a.base}/import/risk_points?async=true`, {
        method: 'POST',
        headers: { authorization: editor, 'content-type': 'application/geo+json' },
        body: JSON.stringify({ type: 'FeatureCollection', features }),
      });
      expect(started.status).toBe(202);
      const jobUrl = `${a.base}/import/jobs/${(await started.json()).job}`;
      let job: { status: string; ids: number[] } = { status: 'running', ids: [] };
      let jobToken: string | null = null;
      await until(async () => {
        const r = await fetch(jobUrl, { headers: { authorization: editor } });
        job = await r.json();
        jobToken = r.headers.get('consistency-token');
        return job.status !== 'running';
      });
      expect(job.status).toBe('imported');
      expect(jobToken).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
      const imported = `${b.base}/ogc/collections/risk_points/items/${job.ids[0]}`;
      expect((await fetch(imported)).status).toBe(404);
      expect((await fetch(imported, { headers: { 'Consistency-Token': jobToken! } })).status).toBe(200);
    } finally {
      await resumeReplay();
    }
  });

  it('falls back to the primary while the replica is stopped, says so on /ready, starts without it, and returns to it', async () => {
    standby.stop();
    const before = reads(a.db);
    expect((await fetch(a.base + '/ogc/collections/risk_points/items?limit=2')).status).toBe(200);
    expect(reads(a.db).primary).toBeGreaterThan(before.primary);
    // (the read noticed, or the check that runs every second does)
    await until(async () => (await ready(a.base)).replica === 'down');
    expect(await ready(a.base)).toEqual({ status: 'ready', replica: 'down' });
    expect(await (await fetch(`${a.base}/metrics`)).text()).toMatch(/^onemap_db_replica_up 0$/m);

    // A server starting while its replica is down starts, and reads from the primary.
    const c = await serve(await open());
    expect(await ready(c.base)).toEqual({ status: 'ready', replica: 'down' });
    expect((await fetch(c.base + '/ogc/collections/risk_points/items?limit=2')).status).toBe(200);
    expect(reads(c.db)).toEqual({ replica: 0, primary: expect.any(Number) });

    standby.start();
    for (const server of [a, c]) {
      await until(async () => (await ready(server.base)).replica === 'up');
      const replicaBefore = reads(server.db).replica;
      expect((await fetch(server.base + '/ogc/collections/risk_points/items?limit=2')).status).toBe(200);
      expect(reads(server.db).replica).toBeGreaterThan(replicaBefore);
    }
  });
});

async function until(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}
