/**
 * A server process for bench/tiles.ts, so the load generator and the server do
 * not share an event loop. Listens on 127.0.0.1 on a free port and prints
 * `{"port": N}` on stdout when ready.
 *
 *   MODE=app      the one-map app (buildApp) on DATABASE_URL, its database opened as the server
 *                 opens it (server/db/open.ts: pool of PG_POOL_SIZE, PG_PLANNER_SETTINGS on every
 *                 connection, statement timeouts); TILE_CACHE_MB as in production (0 = no cache)
 *   MODE=express  the same app with the fast path removed: cached tiles through Express
 *   MODE=bare     bare node:http answering, per URL, the bytes and headers in BODY_FILE (JSON)
 *   MODE=handsql  bare node:http + node-pg (pool of 10, as the app) running a hand-written
 *                 ST_AsMVT of risk_points for /tiles/risk_points/{z}/{x}/{y}.mvt: the baseline
 *                 a competent user would write, with the same features and properties.
 *                 PLANNER=app (default): every connection gets the app's planner settings
 *                 (PG_PLANNER_SETTINGS, by default no parallel workers and no JIT), so the two
 *                 sides differ only in their statements; PLANNER=default: PostgreSQL's own
 *                 settings, as on a server nobody tuned.
 */
import fs from 'node:fs';
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { buildApp } from '../server/app.ts';
import { loadConfig } from '../server/config.ts';
import { silentLogger } from '../server/log.ts';
import { openDb } from '../server/db/open.ts';
import { plannerOptions } from '../server/db/postgres.ts';
import { applyKeepAlive } from '../server/http/keep-alive.ts';

const mode = process.env.MODE;

/**
 * Written by hand for the bench, not produced by the engine: every public property of a risk
 * point, the geometry transformed on the fly, the tile grown by the 64-unit buffer.
 */
export const HAND_WRITTEN_MVT = `
SELECT ST_AsMVT(q, 'risk_points', 4096, 'geom', 'id') AS mvt FROM (
  SELECT id, name_zh, name_en, district_id, street_id, level, category, level_source, responsible_unit,
         to_char(last_inspection, 'YYYY-MM-DD') AS last_inspection, address, synthetic,
         ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope($1, $2, $3), 4096, 64, true) AS geom
    FROM risk_points
   WHERE geom && ST_Transform(ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096), 4326) AND deleted_at IS NULL
) q`;

/**
 * The app's configuration as the bench runs it: production defaults, DATABASE_URL and
 * TILE_CACHE_MB from the bench, PG_PLANNER_SETTINGS / PG_POOL_SIZE when the caller sets them.
 */
function appConfig() {
  const env = process.env;
  return loadConfig({
    DATABASE_URL: env.DATABASE_URL,
    TILE_CACHE_MB: env.TILE_CACHE_MB ?? '64',
    PG_PLANNER_SETTINGS: env.PG_PLANNER_SETTINGS,
    PG_POOL_SIZE: env.PG_POOL_SIZE,
    // No rate limit: the load generator is one address asking tens of thousands of times a second.
    RATE_LIMIT_PER_MIN: '0',
  });
}

/** Keep-alive of the baselines' servers: longer than a measurement, so no connection is remade during one. */
const baseline = { keepAliveTimeout: 60_000 };

async function main() {
  let server: http.Server;
  if (mode === 'bare') {
    const spec = JSON.parse(fs.readFileSync(process.env.BODY_FILE!, 'utf8')) as { tiles: Record<string, string>; headers: Record<string, string> };
    const bodies = new Map(Object.entries(spec.tiles).map(([url, b64]) => [url, Buffer.from(b64, 'base64')]));
    server = http.createServer(baseline, (req, res) => {
      const body = bodies.get(req.url!);
      if (!body) {
        res.writeHead(404).end();
        return;
      }
      if (body.length === 0) {
        const { 'content-type': _type, ...rest } = spec.headers;
        res.writeHead(204, rest).end();
        return;
      }
      res.writeHead(200, { ...spec.headers, 'Content-Length': String(body.length) });
      res.end(body);
    });
  } else if (mode === 'handsql') {
    const planner = process.env.PLANNER ?? 'app';
    if (planner !== 'app' && planner !== 'default') throw new Error(`PLANNER=${planner}: app or default`);
    const settings = planner === 'app' ? appConfig().PG_PLANNER_SETTINGS : [];
    const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL!, max: 10, options: plannerOptions(settings) });
    server = http.createServer(baseline, (req, res) => {
      const m = /^\/tiles\/risk_points\/(\d+)\/(\d+)\/(\d+)\.mvt$/.exec(req.url!);
      if (!m) {
        res.writeHead(404).end();
        return;
      }
      pool.query<{ mvt: Buffer }>(HAND_WRITTEN_MVT, [Number(m[1]), Number(m[2]), Number(m[3])]).then(
        (r) => {
          const body = r.rows[0].mvt;
          res.writeHead(body.length ? 200 : 204, { 'Content-Type': 'application/vnd.mapbox-vector-tile', 'Content-Length': String(body.length) });
          res.end(body);
        },
        () => res.writeHead(500).end(),
      );
    });
  } else if (mode === 'app' || mode === 'express') {
    const config = appConfig();
    const db = await openDb(config, () => {});
    const app = buildApp({ db, config, log: silentLogger });
    if (mode === 'express') app.locals.tileFastPath.uninstall();
    server = http.createServer(app);
    // What server/main.ts does to the server it listens with: its per-request work is the app's too.
    applyKeepAlive(server, { keepAliveTimeoutMs: config.KEEP_ALIVE_TIMEOUT_MS });
  } else {
    throw new Error(`unknown MODE ${mode}`);
  }
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    process.stdout.write(JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0 }) + '\n');
  });
  process.on('SIGTERM', () => process.exit(0));
}

// Run as a program (bench/tiles.ts spawns it); imported, it only lends HAND_WRITTEN_MVT.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  });
}
