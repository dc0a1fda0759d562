/**
 * Static-map benchmark: how long one district map takes to draw, where the time
 * goes (database, SVG composition, rasterisation), and ratios measured in the
 * same run: a full render ÷ sharp rasterising an empty SVG of the same size (the
 * floor no map can beat), and an uncached HTTP answer ÷ a cached one.
 *
 *   npx tsx bench/maps.ts                       # embedded database (in memory)
 *   DATABASE_URL=postgres://… npx tsx bench/maps.ts
 *   BENCH_RUNS=50 BENCH_DISTRICT=pingshan npx tsx bench/maps.ts
 *
 * The budget from the static-map issue: a district map with ~500 features in < 300 ms.
 */
import http from 'node:http';
import sharp from 'sharp';
import { openEmbedded } from '../server/db/embedded.ts';
import { openPostgres } from '../server/db/postgres.ts';
import { prepareDatabase } from '../server/db/prepare.ts';
import type { Db } from '../server/db/types.ts';
import { buildApp } from '../server/app.ts';
import { analysisServices } from '../server/analysis/service.ts';
import { computedLayers } from '../server/analysis/computed-layers.ts';
import { loadConfig } from '../server/config.ts';
import { silentLogger } from '../server/log.ts';
import { LAYERS as ALL_LAYERS, getLayer } from '../catalog/layers.ts';
import { tableFactsOnce } from '../catalog/table-facts.ts';
import { mapFonts } from '../server/maps/fonts.ts';
import { mapOptions } from '../server/maps/options.ts';
import type { StaticMapRequest } from '../server/maps/params.ts';
import { renderStaticMap } from '../server/maps/static-map.ts';
import { record } from './results.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const DISTRICT = process.env.BENCH_DISTRICT ?? 'huadu';
const LAYERS = ['flood_points', 'geohazard_sites', 'resources', 'shelters', 'risk_points'];
const BUDGET_MS = 300;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))];
const ms = (n: number) => `${n.toFixed(1)} ms`;

async function openDb(): Promise<Db> {
  const url = process.env.DATABASE_URL;
  const db = url ? await openPostgres({ connectionString: url }) : await openEmbedded();
  await prepareDatabase(db, { demoData: true });
  return db;
}

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const r = await fn();
  return [performance.now() - t, r];
}

async function main() {
  const db = await openDb();
  const fonts = await mapFonts(silentLogger);
  const options = mapOptions();
  const layers = LAYERS.map((id) => getLayer(id)!);
  const analysis = analysisServices(db);
  const sources = { analysis, computed: computedLayers(analysis), tableFacts: tableFactsOnce(db, ALL_LAYERS) };
  console.log(`static maps on ${db.backend}, district ${DISTRICT}, layers ${LAYERS.join(',')}, ${RUNS} runs each, font ${fonts.cjkFamily ?? 'none'}\n`);

  console.log('| size | features | drawn (points / clusters) | total median | p95 | query | SVG | rasterise | empty-SVG raster | total ÷ empty |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  const results: { size: string; median: number }[] = [];
  for (const [width, height, scale] of [
    [600, 400, 1],
    [1200, 800, 1],
    [1200, 800, 2],
  ] as const) {
    const request: StaticMapRequest = { area: { kind: 'district', id: DISTRICT }, layers: LAYERS, width, height, scale, lang: 'zh', format: 'png' };
    await renderStaticMap(db, request, layers, options, fonts.fontFamily, sources); // warm-up
    const totals: number[] = [];
    const query: number[] = [];
    const compose: number[] = [];
    const raster: number[] = [];
    let last;
    for (let i = 0; i < RUNS; i++) {
      const [t, map] = await time(() => renderStaticMap(db, request, layers, options, fonts.fontFamily, sources));
      totals.push(t);
      query.push(map.timings.query);
      compose.push(map.timings.compose);
      raster.push(map.timings.rasterise);
      last = map;
    }
    const empty = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width * scale}" height="${height * scale}" viewBox="0 0 ${width} ${height}"><rect width="${width}" height="${height}" fill="#fff"/></svg>`);
    const emptyTimes: number[] = [];
    for (let i = 0; i < RUNS; i++) emptyTimes.push((await time(() => sharp(empty).flatten({ background: '#fff' }).png({ compressionLevel: 6 }).toBuffer()))[0]);
    const size = `${width}×${height}${scale === 2 ? ' @2x' : ''}`;
    results.push({ size, median: median(totals) });
    record({
      bench: 'maps',
      name: `${DISTRICT} district map ${size}, ${last!.stats.features} features (${db.backend})`,
      value: median(totals),
      unit: 'ms',
      baseline: { name: 'sharp rasterising an empty SVG of the same size', value: median(emptyTimes) },
      better: 'lower',
    });
    console.log(
      `| ${size} | ${last!.stats.features} | ${last!.stats.points} / ${last!.stats.clusters} | ${ms(median(totals))} | ${ms(p95(totals))} | ${ms(median(query))} | ${ms(median(compose))} | ${ms(median(raster))} | ${ms(median(emptyTimes))} | ${(median(totals) / median(emptyTimes)).toFixed(1)}× |`,
    );
  }

  // Through HTTP: uncached (a new data version each time defeats the cache) vs cached.
  const app = buildApp({ db, config: loadConfig({}), log: silentLogger });
  const server = http.createServer(app).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}/maps/static.png?district=${DISTRICT}&layers=${LAYERS.join(',')}&width=1200&height=800`;
  const get = async () => {
    const r = await fetch(url);
    if (r.status !== 200) throw new Error(`${r.status} ${await r.text()}`);
    return Buffer.from(await r.arrayBuffer()).length;
  };
  await get();
  const uncached: number[] = [];
  const cached: number[] = [];
  let bytes = 0;
  for (let i = 0; i < RUNS; i++) {
    await db.query('UPDATE data_version SET version = version + 1');
    const [t, n] = await time(get);
    uncached.push(t);
    bytes = n;
    cached.push((await time(get))[0]);
  }
  server.close();
  console.log(`\nHTTP 1200×800 PNG (${(bytes / 1024).toFixed(0)} KiB): uncached ${ms(median(uncached))} (p95 ${ms(p95(uncached))}), cached ${ms(median(cached))} — cached answers ${(median(uncached) / median(cached)).toFixed(0)}× faster`);
  record({ bench: 'maps', name: 'HTTP 1200×800 PNG, uncached', value: median(uncached), unit: 'ms', baseline: { name: 'the same answer cached', value: median(cached) }, better: 'lower' });
  const worst = Math.max(...results.filter((r) => !r.size.includes('@2x')).map((r) => r.median));
  console.log(`budget: ${BUDGET_MS} ms for a district map at scale 1 → worst median ${ms(worst)}: ${worst < BUDGET_MS ? 'within budget' : 'OVER BUDGET'} (${(worst / BUDGET_MS).toFixed(2)} of it)`);
  await db.close();
}

await main();
