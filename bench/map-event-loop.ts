/**
 * How long the heavy requests hold the event loop — the time every other
 * request (and /health) waits behind them. Measured in-process with
 * perf_hooks.monitorEventLoopDelay (1 ms resolution): the worst delay seen
 * while one request runs, alone, over HTTP on loopback.
 *
 * - static maps, each uncached (a different width each time): composition and
 *   rasterisation run on the main thread; issue 13 moves them to the worker pool
 *   only if they block for more than ~20 ms;
 * - the first coverage analysis of a district (cold: the district snapshot is
 *   loaded, its grid built, the cells sent to a worker), then its steps one by
 *   one: loading the snapshot (async: worst delay while it runs), building the
 *   grid and the structured clone of what goes to the worker (synchronous: their
 *   duration is the time the loop is held).
 *
 *   npx tsx bench/map-event-loop.ts                       # embedded database (in memory)
 *   DATABASE_URL=postgres://… npx tsx bench/map-event-loop.ts   # a fresh database next to it, dropped after
 *   BENCH_RUNS=10 BENCH_DISTRICT=huadu …
 */
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { buildApp } from '../server/app.ts';
import { loadConfig } from '../server/config.ts';
import { silentLogger } from '../server/log.ts';
import { loadDistrictSnapshot, readDataVersion } from '../server/analysis/snapshot.ts';
import { cellGrid } from '../server/analysis/reach.ts';
import { packCells } from '../server/analysis/packed-cells.ts';
import { closeWorkerPool, workerPool } from '../server/work/shared.ts';
import { openBenchDb } from './bench-db.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const DISTRICT = process.env.BENCH_DISTRICT ?? 'huadu';

const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (xs: number[]) => `median ${median(xs).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms`;

/** Runs `fn`; its duration and the worst event-loop delay seen meanwhile, ms. */
async function held(fn: () => Promise<unknown>): Promise<{ ms: number; worst: number }> {
  delay.reset();
  const t = performance.now();
  await fn();
  const ms = performance.now() - t;
  await new Promise((r) => setTimeout(r, 5)); // let the histogram see the last block
  return { ms, worst: delay.max / 1e6 };
}

function get(base: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(base + path, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

const { db, cleanup } = await openBenchDb();
try {
  const app = buildApp({ db, config: loadConfig({ ...process.env, TILE_CACHE_MB: '64' } as Record<string, string>), log: silentLogger });
  await app.locals.ready;
  await workerPool().warm();
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  console.log(`event-loop bench: ${db.backend}, ${RUNS} runs, district ${DISTRICT}; ${new Date().toISOString()}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);

  // 1. The first coverage analysis of the district (cold), then the same again (answer cached).
  const cold = await held(async () => {
    if ((await get(base, `/analysis/coverage?district=${DISTRICT}`)) !== 200) throw new Error('coverage failed');
  });
  console.log(`coverage, cold: ${cold.ms.toFixed(0)} ms, worst event-loop delay ${cold.worst.toFixed(0)} ms`);

  // 2. Its steps, each RUNS times.
  const load: number[] = [];
  const loadWorst: number[] = [];
  const grid: number[] = [];
  const clone: number[] = [];
  const pack: number[] = [];
  const packedClone: number[] = [];
  const version = await readDataVersion(db);
  for (let i = 0; i < RUNS; i++) {
    let snapshot!: Awaited<ReturnType<typeof loadDistrictSnapshot>>;
    const l = await held(async () => {
      snapshot = await loadDistrictSnapshot(db, DISTRICT, version);
    });
    load.push(l.ms);
    loadWorst.push(l.worst);
    let t = performance.now();
    cellGrid(snapshot.cells);
    grid.push(performance.now() - t);
    t = performance.now();
    structuredClone({ cells: snapshot.cells, shelters: snapshot.shelters }); // what postMessage serialised before packing
    clone.push(performance.now() - t);
    t = performance.now();
    const packed = packCells(snapshot.cells); // once per snapshot
    pack.push(performance.now() - t);
    t = performance.now();
    structuredClone({ cells: packed, shelters: snapshot.shelters }); // what postMessage serialises now
    packedClone.push(performance.now() - t);
    if (i === 0) console.log(`  (${snapshot.cells.length} population cells, ${snapshot.shelters.length} shelters)`);
  }
  console.log(`snapshot load: ${fmt(load)}; worst event-loop delay during it: ${fmt(loadWorst)}`);
  console.log(`grid build (synchronous): ${fmt(grid)}`);
  console.log(`structured clone of cells (objects) and shelters for the worker (synchronous): ${fmt(clone)}`);
  console.log(`packing the cells into typed arrays, once per snapshot (synchronous): ${fmt(pack)}`);
  console.log(`structured clone of packed cells and shelters (synchronous): ${fmt(packedClone)}`);

  // 3. Static maps, uncached.
  const mapMs: number[] = [];
  const mapWorst: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await held(async () => {
      const status = await get(base, `/maps/static.png?district=${DISTRICT}&width=${1000 + i}&height=700`);
      if (status !== 200) throw new Error(`static map answered ${status}`);
    });
    mapMs.push(r.ms);
    mapWorst.push(r.worst);
  }
  console.log(`static map ${DISTRICT} ~1000×700, uncached: ${fmt(mapMs)}; worst event-loop delay: ${fmt(mapWorst)}`);
  console.log(`load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  server.close();
} finally {
  await closeWorkerPool().catch(() => {});
  await cleanup();
}
