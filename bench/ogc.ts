/**
 * OGC API – Features benchmark: one page of 1,000 features through HTTP ÷ the
 * SQL query underneath it (ST_AsGeoJSON + json_agg in the database), measured
 * in the same run on the same data. The issue's budget: ≤ 2×.
 *
 *   npx tsx bench/ogc.ts                                        # embedded database (in memory)
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/ogc.ts
 *
 * With DATABASE_URL the bench creates its own database next to the one named
 * (onemap_bench_<pid>) and drops it afterwards; it never writes into yours.
 * It adds 10,000 synthetic risk points to the demo data.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { openBenchDb } from './bench-db.ts';
import type { Db } from '../server/db/types.ts';
import { buildApp } from '../server/app.ts';
import { loadConfig } from '../server/config.ts';
import { silentLogger } from '../server/log.ts';
import { LAYERS, getLayer, visibleProperties, ANONYMOUS } from '../tiles/layers.ts';
import { countMatching, selectFeaturePage, tableFacts } from '../server/ogc/sql.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const PAGE = 1000;
const EXTRA = 10_000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))];
const ms = (n: number) => `${n.toFixed(1)} ms`;

function get(port: number, path: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: keepAlive }, (res) => {
        let bytes = 0;
        res.on('data', (d: Buffer) => (bytes += d.length));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      })
      .on('error', reject);
  });
}
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** Times each function RUNS times, interleaved, so load from other processes affects all alike. */
async function timeInterleaved(fns: (() => Promise<unknown>)[]): Promise<number[][]> {
  for (const fn of fns) {
    await fn();
    await fn(); // warm-up
  }
  const out: number[][] = fns.map(() => []);
  for (let i = 0; i < RUNS; i++) {
    for (const [k, fn] of fns.entries()) {
      const t = performance.now();
      await fn();
      out[k].push(performance.now() - t);
    }
  }
  return out;
}

async function main() {
  const { db, cleanup } = await openBenchDb();
  try {
    await db.query(
      `INSERT INTO risk_points (district_id, name_zh, name_en, category, level, responsible_unit, last_inspection, address, synthetic, geom)
       SELECT (SELECT id FROM districts ORDER BY id LIMIT 1), '基准风险点' || i, 'Bench risk point ' || i, 'other',
              (ARRAY['red','orange','yellow','blue'])[1 + i % 4], '基准单位', date '2024-01-01' + (i % 300), '基准路' || i || '号', true,
              ST_SetSRID(ST_MakePoint(113.2 + (i % 100) / 1000.0, 23.1 + (i / 100) / 1000.0), 4326)
         FROM generate_series(1, $1::int) AS i`,
      [EXTRA],
    );
    await db.query('ANALYZE risk_points');
    const layer = getLayer('risk_points')!;
    const facts = (await tableFacts(db, LAYERS)).get('risk_points')!;
    const properties = visibleProperties(layer, ANONYMOUS);
    const total = await countMatching(db, layer, facts, { properties: [] });

    const server = buildApp({ db, config: loadConfig({}), log: silentLogger }).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as AddressInfo).port;

    console.log(`OGC items on ${db.backend}: risk_points, ${total} features, pages of ${PAGE}, ${RUNS} runs each\n`);
    console.log('| page | SQL (page query) median | count query median | HTTP median | HTTP p95 | bytes | HTTP ÷ SQL |');
    console.log('|---|---|---|---|---|---|---|');
    const rows: { name: string; ratio: number }[] = [];
    for (const [name, offset, query] of [
      ['first', 0, ''],
      ['deep (offset 9000)', 9000, ''],
      ['filtered level=red,orange', 0, '&level=red,orange'],
      ['CSV', 0, '&f=csv'],
      ['crs=gcj02', 0, '&crs=gcj02'],
    ] as const) {
      const filter = query.includes('level=')
        ? { properties: [{ property: layer.properties.find((p) => p.name === 'level')!, values: ['red', 'orange'] }] }
        : { properties: [] };
      const page = { layer, facts, filter, sort: [], limit: PAGE, offset };
      let bytes = 0;
      const path = `/ogc/collections/risk_points/items?limit=${PAGE}${offset ? `&offset=${offset}` : ''}${query}`;
      const [sql, count, httpTimes] = await timeInterleaved([
        () => selectFeaturePage(db, page, properties, 'lonlat'),
        () => countMatching(db, layer, facts, filter),
        async () => {
          const r = await get(port, path);
          if (r.status !== 200) throw new Error(`${path} → ${r.status}`);
          bytes = r.bytes;
        },
      ]);
      const ratio = median(httpTimes) / median(sql);
      rows.push({ name, ratio });
      console.log(`| ${name} | ${ms(median(sql))} | ${ms(median(count))} | ${ms(median(httpTimes))} | ${ms(p95(httpTimes))} | ${(bytes / 1024).toFixed(0)} KiB | ${ratio.toFixed(2)}× |`);
    }
    const geojson = rows.filter((r) => r.name !== 'CSV' && r.name !== 'crs=gcj02');
    console.log(`\nbudget: a GeoJSON page of ${PAGE} ≤ 2× its SQL query — worst ${Math.max(...geojson.map((r) => r.ratio)).toFixed(2)}× (${Math.max(...geojson.map((r) => r.ratio)) <= 2 ? 'within' : 'OVER'} budget)`);
    server.close();
    keepAlive.destroy();
  } finally {
    await cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
