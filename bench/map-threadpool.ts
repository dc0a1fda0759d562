/**
 * What a burst of static maps does to everyone else. sharp rasterises on libuv's
 * thread pool (4 threads unless UV_THREADPOOL_SIZE says otherwise), which reading
 * files and compressing answers also need. While `BENCH_MAPS` clients ask for large
 * uncached maps without pause, one client reads the map page (`/`, a file) and a
 * gzipped GeoJSON page of 1,000 risk points one after the other; their latency is
 * compared with the same requests on the idle server, twice in one run:
 *
 * - with the rasteriser gate as configured (MAP_RASTER_CONCURRENCY, default 1);
 * - with the gate opened to 16 at once, as the server was before it had one.
 *
 *   npx tsx bench/map-threadpool.ts                      # embedded database (in memory)
 *   DATABASE_URL=postgres://… npx tsx bench/map-threadpool.ts
 *   BENCH_MAPS=6 BENCH_ROUNDS=10 …
 */
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../server/app.ts';
import { loadConfig } from '../server/config.ts';
import { silentLogger } from '../server/log.ts';
import { configureRasterGate, rasterGate } from '../server/maps/render.ts';
import { closeWorkerPool } from '../server/work/shared.ts';
import { ensureClientBuilt } from '../client/build.ts';
import { openBenchDb } from './bench-db.ts';

const MAPS = Number(process.env.BENCH_MAPS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const DISTRICT = process.env.BENCH_DISTRICT ?? 'huadu';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

await ensureClientBuilt();
const { db, cleanup } = await openBenchDb();
const config = loadConfig({ ...process.env, WORKER_TASK_BUDGET_MS: '30000' });
const app = buildApp({ db, config, log: silentLogger });
const server = http.createServer(app);
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

async function timed(path: string, headers: Record<string, string> = {}): Promise<{ ms: number; status: number }> {
  const t0 = performance.now();
  const r = await fetch(base + path, { headers });
  await r.arrayBuffer();
  return { ms: performance.now() - t0, status: r.status };
}

/** The two small reads, ROUNDS times each, alternating; ms per kind. */
async function probe(): Promise<{ page: number[]; items: number[] }> {
  const page: number[] = [];
  const items: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    page.push((await timed('/', { 'accept-encoding': 'gzip' })).ms);
    items.push((await timed(`/ogc/collections/risk_points/items?limit=1000&offset=${i}`, { 'accept-encoding': 'gzip' })).ms);
  }
  return { page, items };
}

/** The probe while MAPS clients ask for uncached maps (a width of their own each time). */
async function underMaps(label: string, widthBase: number): Promise<void> {
  let stop = false;
  const statuses = new Map<number, number>();
  const client = async (k: number) => {
    for (let i = 0; !stop; i++) {
      // A size of its own for every request (height per client, width per request): nothing comes from the cache.
      const r = await timed(`/maps/static.png?district=${DISTRICT}&width=${widthBase + (i % 800)}&height=${1600 + k}&scale=2&overlay=coverage`);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
  };
  const clients = Array.from({ length: MAPS }, (_, k) => client(k));
  await new Promise((r) => setTimeout(r, 2000)); // every client in the middle of a map
  const p = await probe();
  stop = true;
  await Promise.all(clients);
  report(label, p, statuses);
}

let quiet: { page: number[]; items: number[] } | undefined;
function report(label: string, p: { page: number[]; items: number[] }, statuses?: Map<number, number>): void {
  const ratio = (xs: number[], q: number[]) => (quiet ? ` (${(median(xs) / median(q)).toFixed(1)}× idle)` : '');
  const line = (name: string, xs: number[], q: number[]) => `${name} median ${median(xs).toFixed(0)} ms${ratio(xs, q)}, max ${Math.max(...xs).toFixed(0)} ms`;
  const maps = statuses ? `; maps answered ${[...statuses].map(([s, n]) => `${n}× ${s}`).join(', ')}` : '';
  console.log(`${label.padEnd(44)} ${line('page', p.page, quiet?.page ?? [])} | ${line('GeoJSON', p.items, quiet?.items ?? [])}${maps}`);
}

try {
  console.log(`map-threadpool: ${os.cpus().length} cores, ${db.backend}, UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}, ${MAPS} map clients, district ${DISTRICT}`);
  await timed(`/maps/static.png?district=${DISTRICT}&width=1000&height=1600&scale=2&overlay=coverage`); // the analysis behind the overlay, cached
  await probe(); // warm
  const idle = await probe();
  report('idle', idle);
  quiet = idle;
  const gated = rasterGate().options;
  await underMaps(`${MAPS} map clients, gate ${gated.concurrency} at once (queue ${gated.maxQueue})`, 1000);
  configureRasterGate({ concurrency: 16, maxQueue: 1000 });
  await underMaps(`${MAPS} map clients, 16 at once (no gate, as before)`, 1100);
} finally {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await closeWorkerPool();
  await cleanup();
}
