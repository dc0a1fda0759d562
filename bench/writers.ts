/**
 * Concurrent editors (issue 13, docs/reliability.md): how many risk points per second
 * the API stores when 1 and when 8 editors add points at the same moment, each to a
 * feature of its own, and the ratio of the two. Writes that queue one behind the other
 * (a lock every transaction holds to its end) show as a ratio near 1 and a p50 that
 * grows with the writers; writes that run side by side as a ratio above 1.
 *
 * The app runs in this process (buildApp) on a fresh PostgreSQL database made next
 * to DATABASE_URL and dropped afterwards (bench/bench-db.ts); the requests go over
 * HTTP with keep-alive, one connection per editor. Each editor posts points at
 * random places inside one demo district, at every level, so the points touch the
 * same low-zoom cells of the count pyramid, as real editors of one district do.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/writers.ts
 *        [--seconds=10] [--writers=1,8] [--pool=10]
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { openBenchDb } from './bench-db.ts';
import { buildApp } from '../server/app.ts';
import { loadConfig } from '../server/config.ts';
import { silentLogger } from '../server/log.ts';
import { createKey } from '../server/auth/keys.ts';
import { openPostgres } from '../server/db/postgres.ts';

const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const SECONDS = Number(arg('seconds', '10'));
const WRITERS = arg('writers', '1,8').split(',').map(Number);
const POOL = Number(arg('pool', '10'));
const LEVELS = ['red', 'orange', 'yellow', 'blue'];

if (!process.env.DATABASE_URL) throw new Error('DATABASE_URL: the PostgreSQL server to make the bench database on (concurrent writes need a real server)');

const { cleanup } = await openBenchDb();
// The bench database with a pool of the server's default size (openBenchDb opens 4 connections).
const url = new URL(process.env.DATABASE_URL);
url.pathname = `/onemap_bench_${process.pid}`;
const db = await openPostgres({ connectionString: url.toString(), max: POOL });
const { key } = await createKey(db, { name: 'bench editor', role: 'editor' });
const app = buildApp({ db, config: loadConfig({ RATE_LIMIT_PER_MIN: '0', RATE_LIMIT_KEY_PER_MIN: '0' }), log: silentLogger });
const server = http.createServer(app);
await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
const port = (server.address() as AddressInfo).port;

const places = (
  await db.query<{ g: string }>(`SELECT ST_AsGeoJSON(ST_GeneratePoints(ST_Buffer(geom::geography, -300)::geometry, 4000, 7)) AS g FROM districts WHERE id = 'huadu'`)
).rows.map((r) => JSON.parse(r.g).coordinates as [number, number][])[0];

function post(agent: http.Agent, body: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: '/ogc/collections/risk_points/items', method: 'POST', agent, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/geo+json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
      },
    );
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started }));
    req.end(body);
  });
}

let next = 0;
async function editor(until: number, latencies: number[], statuses: Map<number, number>): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    while (performance.now() < until) {
      const [lon, lat] = places[next++ % places.length];
      const body = JSON.stringify({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [lon, lat] },
        properties: { name_zh: '并发编辑点', district_id: 'huadu', level: LEVELS[next % 4], category: 'gas', responsible_unit: '花都区应急管理局' },
      });
      const r = await post(agent, body);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status === 201) latencies.push(r.ms);
    }
  } finally {
    agent.destroy();
  }
}

const pct = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] : NaN);
const rates = new Map<number, number>();
try {
  // a short warm-up: first requests compile the routes' SQL and fill the schema caches
  await editor(performance.now() + 1000, [], new Map());
  for (const n of WRITERS) {
    const latencies: number[] = [];
    const statuses = new Map<number, number>();
    const started = performance.now();
    await Promise.all(Array.from({ length: n }, () => editor(started + SECONDS * 1000, latencies, statuses)));
    const rate = latencies.length / ((performance.now() - started) / 1000);
    rates.set(n, rate);
    const other = [...statuses].filter(([s]) => s !== 201).map(([s, c]) => `${c} × ${s}`);
    console.log(
      `${String(n).padStart(2)} editors: ${rate.toFixed(1)} writes/s, p50 ${pct(latencies, 50).toFixed(0)} ms, p95 ${pct(latencies, 95).toFixed(0)} ms` +
        (other.length ? `, not 201: ${other.join(', ')}` : ''),
    );
  }
  if (rates.size >= 2) {
    const [a, b] = [Math.min(...rates.keys()), Math.max(...rates.keys())];
    console.log(`writes/s with ${b} editors ÷ with ${a}: ${(rates.get(b)! / rates.get(a)!).toFixed(2)}`);
  }
} finally {
  server.close();
  await db.close();
  await cleanup().catch(() => {});
}
