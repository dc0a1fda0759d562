/**
 * Vector-tile benchmark: figures and ratios measured in one run, on 127.0.0.1 only.
 *
 *   npx tsx bench/tiles.ts            # everything, including the 1M-point layer (~5 min)
 *   npx tsx bench/tiles.ts --quick    # without the 1M-point layer
 *   npx tsx bench/tiles.ts --only=cached,uncached,large   # some parts only
 *
 * Needs a PostgreSQL/PostGIS server (BENCH_DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/postgres); makes its own database and drops it.
 *
 * 1. Cached tiles: requests/s of the one-map server (fast path, and through Express)
 *    ÷ a bare node:http server answering the same bytes and headers. Goal ≥ 0.8.
 * 2. Uncached tiles: p95 of a request that misses the cache ÷ p95 of running the
 *    tile's ST_AsMVT statement directly with pg. Goal ≤ 1.2.
 * 3. 100k- and 1M-point layers: size and warm latency of the densest tile per zoom,
 *    for both engines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Point as GeoJsonPoint } from 'geojson';
import autocannon from 'autocannon';
import pg from 'pg';
import { openPostgres } from '../server/db/postgres.ts';
import { prepareDatabase } from '../server/db/prepare.ts';
import type { Db } from '../server/db/types.ts';
import { ANONYMOUS, getLayer, LAYERS, type LayerDef } from '../tiles/layers.ts';
import { PostgisEngine } from '../tiles/engine-postgis.ts';
import { GeojsonVtEngine } from '../tiles/engine-geojsonvt.ts';
import { MemoryFeatureSource } from '../tiles/source.ts';
import { latToWorldY, lonToWorldX, tileContaining, MERCATOR_HALF_WORLD, type TileCoord } from '../tiles/tile-coords.ts';
import { syntheticRiskPoints } from '../test/tiles/helpers/synthetic-points.ts';
import { decodeTile } from '../test/tiles/helpers/decode.ts';

const QUICK = process.argv.includes('--quick');
const ONLY = process.argv.find((a) => a.startsWith('--only='))?.slice(7).split(',');
const part = (name: 'cached' | 'uncached' | 'large') => !ONLY || ONLY.includes(name);
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const HERE = path.dirname(fileURLToPath(import.meta.url));
const DEADLINE_MS = 12 * 60_000;

const children: ChildProcess[] = [];
const stopChildren = () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGTERM');
};
const deadline = setTimeout(() => {
  process.stderr.write(`bench: over ${DEADLINE_MS / 60000} min, stopping\n`);
  stopChildren();
  process.exit(2);
}, DEADLINE_MS);
deadline.unref();

const ms = (n: number) => (n >= 100 ? `${n.toFixed(0)} ms` : n >= 10 ? `${n.toFixed(1)} ms` : `${n.toFixed(2)} ms`);
const kb = (n: number) => (n >= 10240 ? `${(n / 1024).toFixed(0)} kB` : `${(n / 1024).toFixed(1)} kB`);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length - 1) * p))];
const median = (xs: number[]) => pct(xs, 0.5);

function localOnly(url: string): void {
  const host = new URL(url).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost') throw new Error(`the bench only talks to 127.0.0.1, not ${host}`);
}

// ---------------------------------------------------------------------------------------------
// Servers in child processes

async function startServer(env: Record<string, string>): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, 'tiles-server.ts')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\n')[0];
      if (buf.includes('\n')) resolve(JSON.parse(line).port);
    });
    child.on('exit', (code) => reject(new Error(`bench server (${env.MODE}) exited with ${code}`)));
  });
  return { port, child };
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  children.splice(children.indexOf(child), 1);
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function get(port: number, urlPath: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer; ms: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    http
      .get({ host: '127.0.0.1', port, path: urlPath, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), ms: performance.now() - start }));
      })
      .on('error', reject);
  });
}

async function throughput(port: number, urlPath: string, seconds: number): Promise<number> {
  const url = `http://127.0.0.1:${port}${urlPath}`;
  await autocannon({ url, connections: 10, duration: 1 });
  const r = await autocannon({ url, connections: 10, duration: seconds });
  if (r.non2xx || r.errors || r.timeouts) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
  return r.requests.average;
}

// ---------------------------------------------------------------------------------------------

async function createDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  localOnly(ADMIN_URL);
  const name = `onemap_bench_tiles_${process.pid}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)}`);
  await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  await admin.end();
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      await c.end();
    },
  };
}

const YUEXIU = { lon: 113.27, lat: 23.13 };
const tilePath = (layers: string, t: TileCoord, q = '') => `/tiles/${layers}/${t.z}/${t.x}/${t.y}.mvt${q}`;

async function cachedThroughput(dbUrl: string): Promise<void> {
  const ROUNDS = 3;
  const SECONDS = 4;
  console.log(`\n## 1. Cached tiles: requests/s ÷ bare node:http with the same bytes (10 connections; ${ROUNDS} interleaved rounds of ${SECONDS} s, median)\n`);
  const publicLayers = LAYERS.filter((l) => l.access === 'public').map((l) => l.id).join(',');
  const cases = [
    { name: 'risk_points z14 (small tile)', path: tilePath('risk_points', tileContaining(YUEXIU.lon, YUEXIU.lat, 14)) },
    { name: 'every public layer z14 (the one map)', path: tilePath(publicLayers, tileContaining(YUEXIU.lon, YUEXIU.lat, 14)) },
  ];
  const app = await startServer({ MODE: 'app', DATABASE_URL: dbUrl });
  const express = await startServer({ MODE: 'express', DATABASE_URL: dbUrl });
  console.log('| tile | bytes | bare node:http | one-map server (fast path) | ÷ bare (rounds) | through Express (no fast path) | ÷ bare |');
  console.log('|---|---|---|---|---|---|---|');
  for (const c of cases) {
    const first = await get(app.port, c.path);
    const hit = await get(app.port, c.path);
    if (first.status !== 200 || hit.headers['x-tile-cache'] !== 'hit') throw new Error(`${c.path}: expected a cached 200, got ${hit.status} ${hit.headers['x-tile-cache']}`);
    await get(express.port, c.path);
    // The bare server answers the same bytes with the same headers (security headers included).
    const headers: Record<string, string> = {};
    for (const [h, v] of Object.entries(hit.headers)) if (!['date', 'connection', 'keep-alive'].includes(h)) headers[h] = String(v);
    const bodyFile = path.join(os.tmpdir(), `onemap-bench-tile-${process.pid}.json`);
    fs.writeFileSync(bodyFile, JSON.stringify({ body: hit.body.toString('base64'), headers }));
    const bare = await startServer({ MODE: 'bare', BODY_FILE: bodyFile });
    // Interleaved rounds, so background load hits all three alike.
    const rBare: number[] = [];
    const rFast: number[] = [];
    const rExpress: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      rBare.push(await throughput(bare.port, c.path, SECONDS));
      rFast.push(await throughput(app.port, c.path, SECONDS));
      rExpress.push(await throughput(express.port, c.path, SECONDS));
    }
    await stopServer(bare.child);
    fs.rmSync(bodyFile, { force: true });
    const fastRatios = rFast.map((f, i) => f / rBare[i]);
    const expressRatios = rExpress.map((e, i) => e / rBare[i]);
    console.log(
      `| ${c.name} | ${hit.body.length} | ${median(rBare).toFixed(0)}/s | ${median(rFast).toFixed(0)}/s | **${median(fastRatios).toFixed(2)}** (${fastRatios.map((r) => r.toFixed(2)).join(', ')}) | ${median(rExpress).toFixed(0)}/s | ${median(expressRatios).toFixed(2)} |`,
    );
  }
  await stopServer(app.child);
  await stopServer(express.child);
}

interface LatencyCase {
  name: string;
  layer: LayerDef;
  tile: TileCoord;
}

const DEMO_CASES = (): LatencyCase[] => [
    { name: 'risk_points z10 (clusters)', layer: getLayer('risk_points')!, tile: tileContaining(YUEXIU.lon, YUEXIU.lat, 10) },
    { name: 'risk_points z14 (points)', layer: getLayer('risk_points')!, tile: tileContaining(YUEXIU.lon, YUEXIU.lat, 14) },
    { name: 'shelters z12', layer: getLayer('shelters')!, tile: tileContaining(YUEXIU.lon, YUEXIU.lat, 12) },
    { name: 'streets z12 (polygons)', layer: getLayer('streets')!, tile: tileContaining(YUEXIU.lon, YUEXIU.lat, 12) },
    { name: 'population z14 (polygons)', layer: getLayer('population')!, tile: tileContaining(YUEXIU.lon, YUEXIU.lat, 14) },
    { name: 'population z11 (1,000+ polygons)', layer: getLayer('population')!, tile: tileContaining(YUEXIU.lon, YUEXIU.lat, 11) },
    { name: 'population z10 (4,000+ polygons)', layer: getLayer('population')!, tile: tileContaining(YUEXIU.lon, YUEXIU.lat, 10) },
];

async function uncachedLatency(dbUrl: string, db: Db, title: string, cases: LatencyCase[], samples: number): Promise<void> {
  console.log(`\n${title} (sequential, alternating, ${samples} each)\n`);
  const engine = new PostgisEngine(db);
  const app = await startServer({ MODE: 'app', DATABASE_URL: dbUrl });
  // The raw side uses its own connection, as the server uses its pool.
  const raw = new pg.Client({ connectionString: dbUrl });
  await raw.connect();
  // The floor of any HTTP answer here: a cached tile's round trip on the same connection.
  const floorPath = tilePath('risk_points', tileContaining(YUEXIU.lon, YUEXIU.lat, 14));
  const floor: number[] = [];
  for (let i = 0; i < 220; i++) floor.push((await get(app.port, floorPath)).ms);
  floor.splice(0, 20);
  console.log(`HTTP round trip of a cached tile (the floor): p50 ${ms(median(floor))}, p95 ${ms(pct(floor, 0.95))}\n`);
  console.log('| tile | bytes | ST_AsMVT p50 | ST_AsMVT p95 | HTTP uncached p50 | HTTP uncached p95 | added at p50 | p50 ratio | p95 ÷ ST_AsMVT p95 |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  let n = 0;
  for (const c of cases) {
    const { text, values } = await engine.bind({ layer: c.layer, tile: c.tile, filters: {}, who: ANONYMOUS });
    const rawTimes: number[] = [];
    const httpTimes: number[] = [];
    let bytes = 0;
    const runRaw = async () => {
      const t = performance.now();
      const r = await raw.query(text, values);
      rawTimes.push(performance.now() - t);
      bytes = (r.rows[0].mvt as Buffer).length;
    };
    // A query string the tile ignores makes every request a cache miss of the same tile.
    const runHttp = async () => {
      const r = await get(app.port, tilePath(c.layer.id, c.tile, `?nocache=${n++}`));
      if (r.headers['x-tile-cache'] !== 'miss') throw new Error('expected a cache miss');
      httpTimes.push(r.ms);
    };
    for (let i = 0; i < Math.min(20, samples / 5); i++) {
      await runRaw();
      await runHttp();
    }
    rawTimes.length = 0;
    httpTimes.length = 0;
    // Strictly alternating, so both sides meet the same background load.
    for (let i = 0; i < samples; i++) {
      await runRaw();
      await runHttp();
    }
    const ratio = pct(httpTimes, 0.95) / pct(rawTimes, 0.95);
    const ratio50 = median(httpTimes) / median(rawTimes);
    const added = median(httpTimes) - median(rawTimes);
    console.log(`| ${c.name} | ${bytes} | ${ms(median(rawTimes))} | ${ms(pct(rawTimes, 0.95))} | ${ms(median(httpTimes))} | ${ms(pct(httpTimes, 0.95))} | ${ms(added)} | ${ratio50.toFixed(2)} | **${ratio.toFixed(2)}** |`);
  }
  await raw.end();
  await stopServer(app.child);
}

// ---------------------------------------------------------------------------------------------
// Large layers

interface ZoomRow {
  z: number;
  points: number;
  features: number;
  bytes: number;
  warm: number;
}

function densestTiles(lonLat: [number, number][]): TileCoord[] {
  const out: TileCoord[] = [];
  for (let z = 0; z <= 16; z++) {
    const counts = new Map<number, number>();
    const n = 2 ** z;
    for (const [lon, lat] of lonLat) {
      const key = Math.floor(lonToWorldX(lon) * n) * n + Math.floor(latToWorldY(lat) * n);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    let best = 0;
    let bestKey = 0;
    for (const [k, c] of counts) if (c > best) [best, bestKey] = [c, k];
    out.push({ z, x: Math.floor(bestKey / n), y: bestKey % n });
  }
  return out;
}

async function measure(render: () => Promise<Uint8Array>, reps: number): Promise<{ bytes: number; warm: number; buf: Uint8Array }> {
  let buf = await render();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    buf = await render();
    times.push(performance.now() - t);
  }
  return { bytes: buf.length, warm: median(times), buf };
}

function printZoomTable(title: string, rows: ZoomRow[]): void {
  console.log(`\n${title}\n`);
  console.log('| z | points in tile | features | tile size | warm render |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.z} | ${r.points} | ${r.features} | ${kb(r.bytes)} | ${ms(r.warm)} |`);
  const max = rows.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  console.log(`\nlargest tile: ${kb(max.bytes)} at z${max.z} (limit 500 kB: ${max.bytes <= 500 * 1024 ? 'OK' : 'OVER'})`);
}

function pointsIn(lonLat: [number, number][], t: TileCoord): number {
  const n = 2 ** t.z;
  let c = 0;
  for (const [lon, lat] of lonLat) if (Math.floor(lonToWorldX(lon) * n) === t.x && Math.floor(latToWorldY(lat) * n) === t.y) c++;
  return c;
}

async function largeLayerInNode(count: number): Promise<void> {
  const layer = getLayer('risk_points')!;
  const features = syntheticRiskPoints(count, 2026);
  const lonLat = features.map((f) => (f.geometry as GeoJsonPoint).coordinates as [number, number]);
  const engine = new GeojsonVtEngine(new MemoryFeatureSource({ [layer.id]: features }));
  const heapBefore = process.memoryUsage().heapUsed;
  const t = performance.now();
  await engine.ensure(layer);
  const build = performance.now() - t;
  const heap = process.memoryUsage().heapUsed - heapBefore;
  const rows: ZoomRow[] = [];
  for (const tile of densestTiles(lonLat)) {
    const m = await measure(() => engine.renderLayer({ layer, tile, filters: {}, who: ANONYMOUS }), 5);
    rows.push({ z: tile.z, points: pointsIn(lonLat, tile), features: decodeTile(m.buf).risk_points?.length ?? 0, bytes: m.bytes, warm: m.warm });
  }
  printZoomTable(`### ${count.toLocaleString('en')} points, geojson-vt engine (index built in ${ms(build)}, heap +${(heap / 2 ** 20).toFixed(0)} MB)`, rows);
  await engine.close();
}

/** The synthetic distribution of test/tiles/helpers/synthetic-points.ts, generated in SQL. */
async function fillRiskPoints(db: Db, count: number): Promise<number> {
  const t = performance.now();
  await db.query('DELETE FROM risk_points');
  await db.query('SELECT setseed(0.2026)');
  const batch = 250_000;
  for (let from = 1; from <= count; from += batch) {
    await db.query(
      `WITH p AS (
         SELECT i, floor(random() * 5)::int AS d, random() < 0.7 AS clumped, random() AS u1, random() AS u2, random() AS u3, random() AS u4, random() AS lv
           FROM generate_series($1::int, $2::int) AS i)
       INSERT INTO risk_points (district_id, name_zh, name_en, category, level, responsible_unit, address, last_inspection, synthetic, geom)
       SELECT (ARRAY['yuexiu','huadu','wujiang','pingshan','jianghai'])[d + 1], '合成风险点第' || i || '号仓储区', 'Synthetic risk point ' || i,
              'fire', CASE WHEN lv < 0.05 THEN 'red' WHEN lv < 0.2 THEN 'orange' WHEN lv < 0.5 THEN 'yellow' ELSE 'blue' END,
              '街道办事处', '合成地址' || (100 + floor(u4 * 900)) || '号', date '2026-01-01' + floor(u4 * 330)::int, true,
              ST_SetSRID(CASE WHEN clumped THEN ST_MakePoint(
                (ARRAY[113.27,113.22,113.59,114.35,113.12])[d + 1] + sqrt(-2 * ln(u1 + 1e-12)) * cos(2 * pi() * u2) * 0.05,
                (ARRAY[23.13,23.40,24.80,22.70,22.55])[d + 1] + sqrt(-2 * ln(u3 + 1e-12)) * cos(2 * pi() * u4) * 0.05)
              ELSE ST_MakePoint(112.5 + u1 * 2.5, 22 + u3 * 3) END, 4326)
         FROM p`,
      [from, Math.min(count, from + batch - 1)],
    );
  }
  await db.query('ANALYZE risk_points');
  return performance.now() - t;
}

async function largeLayerPostgis(db: Db, count: number): Promise<TileCoord[]> {
  const layer = getLayer('risk_points')!;
  const fill = await fillRiskPoints(db, count);
  const engine = new PostgisEngine(db);
  const W = MERCATOR_HALF_WORLD;
  const rows: ZoomRow[] = [];
  const tiles: TileCoord[] = [];
  for (let z = 0; z <= 16; z++) {
    const cell = (2 * W) / 2 ** z;
    const r = await db.query<{ x: number; y: number; n: number }>(
      `SELECT floor((ST_X(g) + ${W}) / $1)::int AS x, floor((${W} - ST_Y(g)) / $1)::int AS y, count(*)::int AS n
         FROM (SELECT ST_Transform(geom, 3857) AS g FROM risk_points) p GROUP BY 1, 2 ORDER BY n DESC LIMIT 1`,
      [cell],
    );
    const tile = { z, x: r.rows[0].x, y: r.rows[0].y };
    tiles.push(tile);
    const m = await measure(() => engine.renderLayer({ layer, tile, filters: {}, who: ANONYMOUS }), z < 6 ? 2 : 4);
    rows.push({ z, points: r.rows[0].n, features: decodeTile(m.buf).risk_points?.length ?? 0, bytes: m.bytes, warm: m.warm });
  }
  printZoomTable(`### ${count.toLocaleString('en')} points, ST_AsMVT engine (rows written in ${ms(fill)})`, rows);
  return tiles;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = Date.now();
  const cpus = os.cpus();
  console.log('# Vector tile benchmark');
  console.log(`\n${new Date().toISOString().slice(0, 10)}; ${cpus.length} cores (${cpus[0]?.model.trim()}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GB; Node ${process.version}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const database = await createDatabase();
  const db = await openPostgres({ connectionString: database.url, max: 4 });
  try {
    await prepareDatabase(db, { demoData: true });
    const v = await db.query<{ v: string; p: string }>("SELECT split_part(version(), ' ', 2) AS v, postgis_lib_version() AS p");
    console.log(`PostgreSQL ${v.rows[0].v}, PostGIS ${v.rows[0].p}; demo data loaded into ${new URL(database.url).pathname.slice(1)}`);
    if (part('cached')) await cachedThroughput(database.url);
    if (part('uncached')) await uncachedLatency(database.url, db, '## 2. Uncached tiles: HTTP p95 ÷ the same ST_AsMVT statement run directly', DEMO_CASES(), 300);
    if (part('large')) {
      console.log('\n## 3. Large point layers: the densest tile of every zoom\n');
      await largeLayerInNode(100_000);
      const densest = await largeLayerPostgis(db, 100_000);
      const risk = getLayer('risk_points')!;
      await uncachedLatency(
        database.url,
        db,
        '### Uncached tiles of the 100,000-point layer: HTTP ÷ ST_AsMVT',
        [8, 11, 13, 15].map((z) => ({ name: `risk_points z${z} (densest tile)`, layer: risk, tile: densest[z] })),
        60,
      );
      if (!QUICK) {
        await largeLayerInNode(1_000_000);
        await largeLayerPostgis(db, 1_000_000);
      }
    }
  } finally {
    stopChildren();
    agent.destroy();
    await db.close();
    await database.drop();
  }
  console.log(`\nload average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; bench took ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((err) => {
  stopChildren();
  console.error(err);
  process.exit(1);
});
