/**
 * The server process of bench/ogc.ts, so the load generator does not share
 * its event loop. On one database it listens twice on 127.0.0.1:
 *
 * - `appPort`: the one-map app (buildApp), the OGC API as deployed;
 * - `sqlPort`: bare node:http running the hand-written SQL of each bench page
 *   (GET /first, /bbox, /deep, /filtered) and answering its bytes: the honest
 *   baseline of "the page's SQL alone" over the same HTTP.
 *
 * Prints `{"appPort": N, "sqlPort": M, "rows": R}` on stdout when ready.
 *
 *   DATABASE_URL   postgres://… (loaded by bench/ogc.ts), or unset: embedded, in memory, loaded here
 *   PG_PLANNER_SETTINGS   as for the server (none = PostgreSQL defaults)
 *   BENCH_ROWS     synthetic risk points to add when the table is not loaded yet
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../server/app.ts';
import { loadConfig } from '../server/config.ts';
import { silentLogger } from '../server/log.ts';
import { openPostgres } from '../server/db/postgres.ts';
import { openEmbedded } from '../server/db/embedded.ts';
import { prepareDatabase } from '../server/db/prepare.ts';
import type { Db } from '../server/db/types.ts';
import { getLayer } from '../catalog/layers.ts';
import { ANONYMOUS, visibleProperties } from '../catalog/access.ts';
import { BENCH_PAGES, deepPosition, handWrittenSql, loadBenchRows } from './ogc-pages.ts';

async function main() {
  // No rate limit: the load generator is one address asking as fast as it can.
  const config = loadConfig({ DATABASE_URL: process.env.DATABASE_URL, PG_PLANNER_SETTINGS: process.env.PG_PLANNER_SETTINGS, RATE_LIMIT_PER_MIN: '0' });
  let db: Db;
  if (config.DATABASE_URL) {
    db = await openPostgres({ connectionString: config.DATABASE_URL, max: config.PG_POOL_SIZE, plannerSettings: config.PG_PLANNER_SETTINGS });
  } else {
    db = await openEmbedded({ plannerSettings: config.PG_PLANNER_SETTINGS });
    await prepareDatabase(db, { demoData: true });
  }
  const rows = await loadBenchRows(db, Number(process.env.BENCH_ROWS ?? 100_000));
  const properties = visibleProperties(getLayer('risk_points')!, ANONYMOUS).map((p) => p.name);
  // The hand-written deep page starts after the row at deepPosition(rows) in id order.
  const deepId = (await db.query<{ id: number }>('SELECT id FROM risk_points WHERE deleted_at IS NULL ORDER BY id OFFSET $1 LIMIT 1', [deepPosition(rows) - 1])).rows[0].id;
  const statements = new Map(BENCH_PAGES.map((page) => [`/${page.name}`, handWrittenSql(page, properties, deepId)]));

  const app = http.createServer(buildApp({ db, config, log: silentLogger }));
  const bare = http.createServer((req, res) => {
    const statement = statements.get(req.url ?? '');
    if (!statement) {
      res.writeHead(404).end();
      return;
    }
    db.query<{ body: string }>(statement.sql, statement.params).then(
      (r) => {
        res.writeHead(200, { 'content-type': 'application/geo+json' });
        res.end(r.rows[0].body);
      },
      (err: Error) => {
        res.writeHead(500).end(err.message);
      },
    );
  });
  for (const s of [app, bare]) s.keepAliveTimeout = 60_000;
  await Promise.all([app, bare].map((s) => new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(null)))));
  process.stdout.write(
    JSON.stringify({ appPort: (app.address() as AddressInfo).port, sqlPort: (bare.address() as AddressInfo).port, rows, backend: db.backend }) + '\n',
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
