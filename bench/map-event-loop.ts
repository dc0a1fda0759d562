/**
 * How long the heavy requests hold the event loop — the time every other
 * request (and /health) waits behind them. Measured in-process with
 * perf_hooks.monitorEventLoopDelay (1 ms resolution): the worst delay seen
 * while one request runs, alone, over HTTP on loopback.
 *
 * - static maps, each uncached (a different width each time): their features
 *   are parsed and the SVG composed on a worker, rasterised on libuv's threads
 *   (sharp). Measured for a usual map (the district's default layers, ~1000×700)
 *   and for the largest ones any caller may ask for (MAP_MAX_SIZE pixels, the
 *   densest public layers), with the renderer's own split of the time (query,
 *   SVG, raster) and the time the event loop was busy meanwhile;
 * - the first coverage analysis of a district (cold: the district snapshot is
 *   loaded, its grid built, the cells sent to a worker), then its steps one by
 *   one: loading the snapshot (async: worst delay while it runs, and the time
 *   the loop was busy meanwhile; its cells are parsed on a worker), the same
 *   cells read row by row as they were before (alternately, in the same run),
 *   building the grid and the structured clone of what goes to the worker
 *   (synchronous: their duration is the time the loop is held).
 *
 *   npx tsx bench/map-event-loop.ts                       # embedded database (in memory)
 *   DATABASE_URL=postgres://… npx tsx bench/map-event-loop.ts   # a fresh database next to it, dropped after
 *   BENCH_RUNS=10 BENCH_DISTRICT=huadu …
 */
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay, performance as perf } from 'node:perf_hooks';
import { buildApp } from '../server/app.ts';
import { loadConfig } from '../server/config.ts';
import type { Logger } from '../server/log.ts';
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

/**
 * Runs `fn`; its duration, the worst event-loop delay seen meanwhile, and the
 * time the event loop was busy (not waiting for I/O) meanwhile, ms.
 */
async function held(fn: () => Promise<unknown>): Promise<{ ms: number; worst: number; active: number }> {
  delay.reset();
  const t = performance.now();
  const elu = perf.eventLoopUtilization();
  await fn();
  const ms = performance.now() - t;
  const active = perf.eventLoopUtilization(elu).active;
  await new Promise((r) => setTimeout(r, 5)); // let the histogram see the last block
  return { ms, worst: delay.max / 1e6, active };
}

/**
 * The cells as the snapshot read them before they were parsed on a worker: row
 * by row through the driver, each row mapped on the main thread. Measured in
 * the same run, alternately with the current load, for a before/after under the
 * same machine load.
 */
const CELLS_ROW_BY_ROW_SQL = `
  WITH c AS (
    SELECT id, residents, street_id, community_id, ST_PointOnSurface(geom) AS pt
    FROM population_cells WHERE district_id = $1
  )
  SELECT c.id::int8 AS id, c.residents::int AS residents, ST_X(c.pt) AS lon, ST_Y(c.pt) AS lat,
    COALESCE(c.street_id, (SELECT s.id FROM streets s WHERE s.district_id = $1 AND ST_Covers(s.geom, c.pt) ORDER BY s.id LIMIT 1)) AS street_id,
    COALESCE(c.community_id, (SELECT m.id FROM communities m WHERE m.district_id = $1 AND ST_Covers(m.geom, c.pt) ORDER BY m.id LIMIT 1)) AS community_id
  FROM c ORDER BY c.id`;

async function cellsRowByRow(districtId: string) {
  const r = await db.query<{ id: number; residents: number; lon: number; lat: number; street_id: string | null; community_id: string | null }>(CELLS_ROW_BY_ROW_SQL, [districtId]);
  return r.rows.map((row) => ({ id: Number(row.id), lon: Number(row.lon), lat: Number(row.lat), residents: Number(row.residents), streetId: row.street_id, communityId: row.community_id }));
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

/** The renderer's debug line per uncached map: features, then query / SVG / raster milliseconds. */
const mapLines: string[] = [];
const benchLog: Logger = {
  error: () => {},
  warn: () => {},
  info: () => {},
  debug: (m) => {
    if (m.startsWith('static map ')) mapLines.push(m);
  },
  enabled: (level) => level === 'debug',
  child: () => benchLog,
};
function lastMapTimings(): { features: number; query: number; svg: number; raster: number } | null {
  const m = /: (\d+) features, query (\d+) ms, svg (\d+) ms, raster (\d+) ms$/.exec(mapLines.at(-1) ?? '');
  return m ? { features: Number(m[1]), query: Number(m[2]), svg: Number(m[3]), raster: Number(m[4]) } : null;
}

const { db, cleanup } = await openBenchDb();
try {
  const app = buildApp({ db, config: loadConfig({ ...process.env, TILE_CACHE_MB: '64' } as Record<string, string>), log: benchLog });
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
  const loadActive: number[] = [];
  const rows: number[] = [];
  const rowsWorst: number[] = [];
  const rowsActive: number[] = [];
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
    loadActive.push(l.active);
    const old = await held(() => cellsRowByRow(DISTRICT));
    rows.push(old.ms);
    rowsWorst.push(old.worst);
    rowsActive.push(old.active);
    let t = performance.now();
    cellGrid(snapshot.cells);
    grid.push(performance.now() - t);
    t = performance.now();
    structuredClone({ cells: snapshot.cells, shelters: snapshot.shelters }); // what postMessage serialised before packing
    clone.push(performance.now() - t);
    t = performance.now();
    const packed = packCells([...snapshot.cells]); // a copy: the snapshot's own cells come packed from the worker
    pack.push(performance.now() - t);
    t = performance.now();
    structuredClone({ cells: packed, shelters: snapshot.shelters }); // what postMessage serialises now
    packedClone.push(performance.now() - t);
    if (i === 0) console.log(`  (${snapshot.cells.length} population cells, ${snapshot.shelters.length} shelters)`);
  }
  console.log(`snapshot load: ${fmt(load)}; worst event-loop delay during it: ${fmt(loadWorst)}; event loop busy: ${fmt(loadActive)}`);
  console.log(`  its cells alone, read row by row as before (same run, alternately): ${fmt(rows)}; worst event-loop delay: ${fmt(rowsWorst)}; event loop busy: ${fmt(rowsActive)}`);
  console.log(`grid build (synchronous): ${fmt(grid)}`);
  console.log(`structured clone of cells (objects) and shelters for the worker (synchronous): ${fmt(clone)}`);
  console.log(`packing the cells into typed arrays (synchronous; now done on the worker as the snapshot loads): ${fmt(pack)}`);
  console.log(`structured clone of packed cells and shelters (synchronous): ${fmt(packedClone)}`);

  // 3. Static maps, uncached.
  const mapMs: number[] = [];
  const mapWorst: number[] = [];
  const mapActive: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await held(async () => {
      const status = await get(base, `/maps/static.png?district=${DISTRICT}&width=${1000 + i}&height=700`);
      if (status !== 200) throw new Error(`static map answered ${status}`);
    });
    mapMs.push(r.ms);
    mapWorst.push(r.worst);
    mapActive.push(r.active);
  }
  console.log(`static map ${DISTRICT} ~1000×700, uncached: ${fmt(mapMs)}; worst event-loop delay: ${fmt(mapWorst)}; event loop busy: ${fmt(mapActive)}`);

  // 4. The largest static maps an anonymous caller may ask for: MAP_MAX_SIZE (4096) pixels, the densest public layers.
  const city = (await db.query<{ b: string }>(`SELECT concat_ws(',', ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)) AS b FROM (SELECT ST_Extent(geom) AS e FROM districts) x`)).rows[0].b;
  const cityBbox = city.split(',').map((v) => Number(v).toFixed(4)).join(',');
  const largest: [string, string][] = [
    [`${DISTRICT}, population cells + networks + shelters + risk and flood points`, `district=${DISTRICT}&layers=population,networks,shelters,risk_points,flood_points`],
    ['every district (bbox), population cells + networks + shelters + risk points', `bbox=${cityBbox}&layers=population,networks,shelters,risk_points`],
  ];
  const bigRuns = Math.max(3, Math.ceil(RUNS / 2));
  for (const [label, query] of largest) {
    const ms: number[] = [];
    const worst: number[] = [];
    const active: number[] = [];
    const parts: { features: number; query: number; svg: number; raster: number }[] = [];
    let status = 0;
    for (let i = 0; i < bigRuns; i++) {
      const r = await held(async () => {
        status = await get(base, `/maps/static.png?${query}&width=${4096 - i}&height=4096`);
      });
      if (status !== 200) break;
      ms.push(r.ms);
      worst.push(r.worst);
      active.push(r.active);
      const t = lastMapTimings();
      if (t) parts.push(t);
    }
    if (status !== 200) {
      console.log(`static map 4096×4096, ${label}: answered ${status} (refused), not measured`);
      continue;
    }
    const m = (k: 'query' | 'svg' | 'raster') => median(parts.map((p) => p[k])).toFixed(0);
    console.log(
      `static map 4096×4096, ${label} (${parts[0]?.features ?? '?'} features): ${fmt(ms)}; worst event-loop delay: ${fmt(worst)}; event loop busy: ${fmt(active)}; ` +
        `renderer's split, median: query ${m('query')} ms, SVG ${m('svg')} ms, raster ${m('raster')} ms`,
    );
  }
  console.log(`load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  server.close();
} finally {
  await closeWorkerPool().catch(() => {});
  await cleanup();
}
