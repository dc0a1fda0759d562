/**
 * Import benchmark: 100,000 risk points as one CSV (Chinese headers, GCJ-02
 * coordinates) through POST /import/risk_points — validation, district checks,
 * one transaction with an audit row per feature. Budget: < 30 s. Prints rows/s
 * and the ratio to a bare INSERT … SELECT of the same rows in the same run.
 *
 *   npx tsx bench/import.ts                                        # embedded database (in memory)
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/import.ts
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { openBenchDb } from './bench-db.ts';
import { buildApp } from '../server/app.ts';
import { loadConfig } from '../server/config.ts';
import { silentLogger } from '../server/log.ts';
import { createKey } from '../server/auth/keys.ts';
import { transformPosition } from '../server/geo/gcoord.ts';
import { record } from './results.ts';

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);

async function main() {
  const { db, cleanup } = await openBenchDb();
  try {
    const key = (await createKey(db, { name: 'bench', role: 'editor' })).key;
    // Positions inside Huadu: jitter around its demo risk points (deterministic).
    const seeds = (await db.query<{ x: number; y: number }>("SELECT ST_X(geom) AS x, ST_Y(geom) AS y FROM risk_points WHERE district_id = 'huadu' ORDER BY id")).rows;
    const lines = ['名称,所属区,风险等级,类别,责任单位,经度,纬度'];
    const levels = ['红色', '橙色', '黄色', '蓝色'];
    for (let i = 0; i < ROWS; i++) {
      const s = seeds[i % seeds.length];
      const [gx, gy] = transformPosition([s.x + ((i % 7) - 3) * 1e-4, s.y + ((i % 5) - 2) * 1e-4], 'WGS84', 'GCJ02');
      lines.push(`批量风险点${i},花都区,${levels[i % 4]},other,花都区应急管理局,${gx.toFixed(7)},${gy.toFixed(7)}`);
    }
    const body = lines.join('\n');

    const app = buildApp({ db, config: loadConfig({ LOG_LEVEL: 'silent' }), log: silentLogger });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as AddressInfo).port;

    const started = performance.now();
    const report = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/import/risk_points?crs=gcj02', headers: { authorization: `Bearer ${key}`, 'content-type': 'text/csv' } }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });
    const importMs = performance.now() - started;
    server.close();
    const parsed = JSON.parse(report.body);
    if (report.status !== 201) throw new Error(`import failed: ${report.status} ${report.body.slice(0, 500)}`);

    // Baseline: the same number of rows inserted by the database alone, no API.
    const baseStart = performance.now();
    await db.tx(async (q) => {
      await q.query(
        `INSERT INTO risk_points (district_id, name_zh, category, level, responsible_unit, synthetic, geom)
         SELECT 'huadu', 'base' || g, 'other', 'blue', 'x', true, ST_SetSRID(ST_MakePoint(113.2 + g * 1e-7, 23.4), 4326)
           FROM generate_series(1, $1) g`,
        [ROWS],
      );
      throw Object.assign(new Error('rollback'), { benchRollback: true });
    }).catch((e) => {
      if (!e.benchRollback) throw e;
    });
    const baseMs = performance.now() - baseStart;

    console.log(`backend: ${db.backend}; rows: ${ROWS}; body: ${(body.length / 1e6).toFixed(1)} MB`);
    console.log(`import over HTTP: ${(importMs / 1000).toFixed(2)} s (${Math.round(ROWS / (importMs / 1000))} rows/s), imported ${parsed.imported}; budget 30 s → ${(importMs / 30000).toFixed(2)} of it`);
    console.log(`phases (ms): ${JSON.stringify(parsed.timings)}`);
    record({
      bench: 'import',
      name: `${ROWS.toLocaleString('en')} risk points, CSV over HTTP (${db.backend})`,
      value: importMs / 1000,
      unit: 's',
      baseline: { name: 'bare INSERT … SELECT of the same count', value: baseMs / 1000 },
      better: 'lower',
    });
    console.log(`bare INSERT … SELECT of ${ROWS} rows: ${(baseMs / 1000).toFixed(2)} s; import ÷ bare insert = ${(importMs / baseMs).toFixed(1)}×`);
  } finally {
    await cleanup();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
