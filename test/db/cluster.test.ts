import http from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { backend, openTestDb } from '../setup/db.ts';
import { runServerToExit, startServer, type RunningServer } from '../helpers/server-process.ts';
import { createKey } from '../../server/auth/keys.ts';
import { openPostgres } from '../../server/db/postgres.ts';
import { tileOf, waitFor } from '../helpers/sse.ts';
import { decodeTile } from '../tiles/helpers/decode.ts';

// WORKERS=N: several processes behind one port (node:cluster). A client that
// got the answer to its edit never reads the old data from any process, and a
// process that dies is replaced without losing an acknowledged write.
const servers: RunningServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
});

/** A request on a fresh connection: node:cluster hands each new connection to the next process. */
function fresh(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers: { connection: 'close', ...init.headers }, agent: false, timeout: init.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${init.timeoutMs} ms`)));
    req.end(init.body);
  });
}

const listening = (s: RunningServer) => (s.log().match(/listening on http/g) ?? []).length;

describe.runIf(backend === 'postgres')('WORKERS=2 on PostgreSQL', () => {
  let server: RunningServer;
  let location: string;
  let key: string;
  let district: { lon: number; lat: number };

  it('starts two processes on one port', async () => {
    const t = await openTestDb();
    location = t.location;
    key = (await createKey(t.db, { name: 'cluster desk', role: 'editor' })).key;
    const p = await t.db.query<{ x: number; y: number }>("SELECT ST_X(g) AS x, ST_Y(g) AS y FROM (SELECT ST_PointOnSurface(geom) AS g FROM districts WHERE id = 'jianghai') s");
    district = { lon: p.rows[0].x, lat: p.rows[0].y };
    await t.db.close();
    // Notifications held 300 ms: without the write barrier a read right after the
    // edit's answer would get the old tile from the cache of either process.
    server = await startServer({ DATABASE_URL: location, WORKERS: '2', FAULT_NOTIFY_DELAY_MS: '300' }, 180_000);
    servers.push(server);
    await waitFor(() => (listening(server) >= 2 ? true : undefined), 120_000, 'both processes listening');
    expect(server.log()).toMatch(/starting 2 server processes/);
  }, 240_000);

  it('an edit answered by one process is never read stale from another', async () => {
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/geo+json' };
    const created = await fresh(`${server.url}/ogc/collections/risk_points/items`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [district.lon, district.lat] },
        properties: { name_zh: '多进程测试点', district_id: 'jianghai', level: 'red', category: 'fire', responsible_unit: '江海区应急管理局' },
      }),
    });
    expect(created.status).toBe(201);
    const id = (JSON.parse(created.body.toString()) as { id: number }).id;
    const ids = async (lon: number, lat: number) => {
      const { z, x, y } = tileOf(lon, lat, 16);
      const res = await fresh(`${server.url}/tiles/risk_points/${z}/${x}/${y}.mvt`);
      return res.status === 204 ? [] : (decodeTile(new Uint8Array(res.body)).risk_points ?? []).map((f) => f.id);
    };
    let lon = district.lon;
    for (let i = 0; i < 12; i++) {
      // Both processes cache the tile that shows the point where it is now …
      for (let k = 0; k < 4; k++) expect(await ids(lon, district.lat)).toContain(id);
      // … then it moves a tile east (about 600 m at z16), through whichever process takes the connection.
      // Back and forth between two neighbouring tiles, so the point stays inside its district.
      const next = i % 2 === 0 ? district.lon + 0.006 : district.lon;
      const item = await fresh(`${server.url}/ogc/collections/risk_points/items/${id}`);
      const moved = await fresh(`${server.url}/ogc/collections/risk_points/items/${id}`, {
        method: 'PATCH',
        headers: { ...headers, 'content-type': 'application/merge-patch+json', 'if-match': String(item.headers.etag) },
        body: JSON.stringify({ type: 'Feature', geometry: { type: 'Point', coordinates: [next, district.lat] }, properties: {} }),
      });
      expect(moved.status, moved.body.toString()).toBe(200);
      // Every process answers with the edit from the moment the response arrived.
      for (let k = 0; k < 4; k++) {
        expect(await ids(lon, district.lat), `old tile, round ${i}, read ${k}`).not.toContain(id);
        expect(await ids(next, district.lat), `new tile, round ${i}, read ${k}`).toContain(id);
      }
      lon = next;
    }
  }, 240_000);

  it('an import job started on one process is answered by every process', async () => {
    const features = [0, 1, 2].map((i) => ({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [district.lon + i * 1e-4, district.lat] },
      properties: { name_zh: `多进程导入点${i}`, district_id: 'jianghai', level: 'blue', category: 'fire', responsible_unit: '江海区应急管理局' },
    }));
    const started = await fresh(`${server.url}/import/risk_points?async=true`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/geo+json' },
      body: JSON.stringify({ type: 'FeatureCollection', features }),
    });
    expect(started.status, started.body.toString()).toBe(202);
    const job = (JSON.parse(started.body.toString()) as { job: string }).job;
    // Each poll on a fresh connection, so the polls go round both processes; at least six of them.
    let report: { status: string; imported: number } = { status: 'running', imported: 0 };
    for (let i = 0; i < 6 || (report.status === 'running' && i < 200); i++) {
      const r = await fresh(`${server.url}/import/jobs/${job}`, { headers: { authorization: `Bearer ${key}` } });
      expect(r.status, `poll ${i}: ${r.body.toString()}`).toBe(200);
      report = JSON.parse(r.body.toString());
      if (report.status === 'running') await new Promise((res) => setTimeout(res, 50));
    }
    expect(report).toMatchObject({ status: 'imported', imported: 3 });
  }, 120_000);

  it('a killed process is replaced and no acknowledged write is lost', async () => {
    // The processes running now: started, and not reported gone since.
    const gone = new Set([...server.log().matchAll(/server process (\d+) exited/g)].map((m) => Number(m[1])));
    const pids = [...server.log().matchAll(/server process (\d+) started/g)].map((m) => Number(m[1])).filter((pid) => !gone.has(pid));
    expect(pids.length).toBeGreaterThanOrEqual(2);
    const acknowledged: number[] = [];
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        try {
          // A client timeout, as any real client has: a connection handed to the process at the
          // instant it is killed is left unanswered by node:cluster (docs/scaling.md).
          const res = await fresh(`${server.url}/ogc/collections/risk_points/items`, {
            method: 'POST',
            timeoutMs: 10_000,
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/geo+json' },
            body: JSON.stringify({
              type: 'Feature',
              geometry: { type: 'Point', coordinates: [district.lon + (i % 10) * 1e-4, district.lat] },
              properties: { name_zh: `崩溃测试点${i}`, district_id: 'jianghai', level: 'blue', category: 'fire', responsible_unit: '江海区应急管理局' },
            }),
          });
          if (res.status === 201) acknowledged.push((JSON.parse(res.body.toString()) as { id: number }).id);
        } catch {
          // The connection died with its process, or timed out: not acknowledged, may or may not have landed.
        }
      }
    })();
    await waitFor(() => (acknowledged.length >= 3 ? true : undefined), 60_000, 'writes before the kill');
    process.kill(pids[0], 'SIGKILL');
    const withLog = (err: unknown) => {
      throw new Error(`${(err as Error).message}; killed ${pids[0]} of ${pids.join(', ')}; acknowledged ${acknowledged.length}; server log:\n${server.log().slice(-3000)}`);
    };
    await waitFor(() => (new RegExp(`process ${pids[0]} exited \\(SIGKILL\\); starting a replacement`).test(server.log()) ? true : undefined), 30_000, 'replacement').catch(withLog);
    await waitFor(() => (listening(server) >= 3 ? true : undefined), 120_000, 'the replacement listening').catch(withLog);
    const after = acknowledged.length;
    await waitFor(() => (acknowledged.length >= after + 3 ? true : undefined), 60_000, 'writes after the replacement').catch(withLog);
    writing = false;
    await writer;
    const db = await openPostgres({ connectionString: location, max: 1 });
    try {
      const { rows } = await db.query<{ id: number }>('SELECT id FROM risk_points WHERE id = ANY($1)', [acknowledged]);
      expect(rows.length).toBe(acknowledged.length);
    } finally {
      await db.close();
    }
    const health = await fresh(`${server.url}/health`);
    expect(health.status).toBe(200);
  }, 300_000);
});

describe('WORKERS on the embedded database', { timeout: 120_000 }, () => {
  it.runIf(backend === 'embedded')('more than one is refused at start-up with the reason', async () => {
    const r = await runServerToExit({ WORKERS: '2', PORT: '0', DATA_DIR: '/nonexistent-onemap' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid WORKERS="2": the embedded database serves one process; set DATABASE_URL/);
  });
});
