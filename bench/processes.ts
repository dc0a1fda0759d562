/**
 * Several server processes (issue 16 §1): requests/s of cached and uncached tiles
 * with WORKERS=2 ÷ WORKERS=1, the server started as deployed (`server/main.ts`,
 * node:cluster), loaded by wrk (C, one thread, so the load generator takes as
 * little of the two cores as it can). Goal on this 2-core machine: cached 2 ÷ 1
 * ≥ 1.6. Uncached is reported too (it is bound by PostgreSQL, which shares the
 * same two cores).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/<a database of its own> npx tsx bench/processes.ts
 *
 * The database named is migrated and gets the demo data plus BENCH_ROWS synthetic
 * risk points (default 100,000; bench/ogc-pages.ts). Needs `wrk` (Debian package).
 * The four servers (1 and 2 processes, cache on and off) run side by side; rounds
 * alternate between them so load from elsewhere hits both alike.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { openPostgres } from '../server/db/postgres.ts';
import { prepareDatabase } from '../server/db/prepare.ts';
import { tileContaining, type TileCoord } from '../tiles/tile-coords.ts';
import { loadBenchRows } from './ogc-pages.ts';
import { QUICK_RUN, record } from './results.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROWS = Number(process.env.BENCH_ROWS ?? (QUICK_RUN ? 20_000 : 100_000));
const SECONDS = Number(process.env.BENCH_SECONDS ?? (QUICK_RUN ? 2 : 5));
const ROUNDS = QUICK_RUN ? 1 : 3;
const CONNECTIONS = 32;
const run = promisify(execFile);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** 64 z14 tiles over the synthetic rows (113.1–113.3 E, 23.0–23.25 N), 8 × 8. */
function benchTiles(): TileCoord[] {
  const nw = tileContaining(113.1, 23.25, 14);
  const se = tileContaining(113.3, 23.0, 14);
  const tiles: TileCoord[] = [];
  for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) tiles.push({ z: 14, x: nw.x + Math.round(((se.x - nw.x) * i) / 7), y: nw.y + Math.round(((se.y - nw.y) * j) / 7) });
  return tiles;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

interface Server {
  label: string;
  port: number;
  child: ChildProcess;
}

async function startServer(label: string, env: Record<string, string>): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, '..', 'server', 'main.ts')], {
    // No rate limit: the load generator is one address asking thousands of times a second.
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', RATE_LIMIT_PER_MIN: '0' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${label}: the server exited with ${child.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${port}/ready`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return { label, port, child };
    if (Date.now() - started > 120_000) throw new Error(`${label}: not ready after 120 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function stopServer(s: Server): Promise<void> {
  if (s.child.exitCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await exited;
}

/** wrk, one thread, CONNECTIONS connections cycling over `paths`: requests/s. */
async function wrk(port: number, script: string): Promise<number> {
  const { stdout } = await run('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${SECONDS}s`, '--timeout', '30s', '-s', script, `http://127.0.0.1:${port}`], { maxBuffer: 1 << 20 });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  const bad = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
  if (!rps) throw new Error(`wrk printed no rate:\n${stdout}`);
  if (bad) throw new Error(`wrk: ${bad[1]} non-2xx answers on port ${port}`);
  return Number(rps[1]);
}

async function main() {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL (a PostgreSQL database for this bench): several processes need PostgreSQL');
  await run('wrk', ['--version']).catch((err: NodeJS.ErrnoException) => {
    // wrk --version exits 1 after printing its version; only a missing program is fatal.
    if (err.code === 'ENOENT') throw new Error('this bench needs wrk (Debian: apt-get install wrk)');
  });
  const db = await openPostgres({ connectionString: url, max: 2 });
  try {
    await prepareDatabase(db, { demoData: true });
    await loadBenchRows(db, ROWS);
  } finally {
    await db.close();
  }
  const paths = benchTiles().map((t) => `/tiles/risk_points/${t.z}/${t.x}/${t.y}.mvt`);
  const script = path.join(os.tmpdir(), `onemap-bench-processes-${process.pid}.lua`);
  fs.writeFileSync(
    script,
    `local paths = { ${paths.map((p) => `"${p}"`).join(', ')} }\nlocal i = 0\nrequest = function()\n  i = i + 1\n  return wrk.format("GET", paths[(i % #paths) + 1])\nend\n`,
  );
  const servers: Server[] = [];
  try {
    for (const [label, env] of [
      ['1 process, cached', { WORKERS: '1' }],
      ['2 processes, cached', { WORKERS: '2' }],
      ['1 process, uncached', { WORKERS: '1', TILE_CACHE_MB: '0' }],
      ['2 processes, uncached', { WORKERS: '2', TILE_CACHE_MB: '0' }],
    ] as const) {
      servers.push(await startServer(label, { DATABASE_URL: url, ...env }));
    }
    // Every process of a server holds its own cache: warm each tile on each of them (connections go
    // round between processes) until a whole pass over the tiles is answered from the caches.
    for (const s of servers.filter((x) => x.label.endsWith(', cached'))) {
      let misses = paths.length;
      for (let pass = 0; pass < 12 && misses > 0; pass++) {
        const answers = await Promise.all(paths.map((p) => fetch(`http://127.0.0.1:${s.port}${p}`).then(async (r) => (await r.arrayBuffer(), r.headers.get('x-tile-cache')))));
        misses = pass < 2 ? paths.length : answers.filter((h) => h !== 'hit').length;
      }
      if (misses) console.log(`${s.label}: ${misses} of ${paths.length} tiles still uncached after the warm-up`);
    }
    const rates = new Map<string, number[]>(servers.map((s) => [s.label, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of servers) rates.get(s.label)!.push(await wrk(s.port, script));
    }
    console.log(`\n## Several processes: wrk -t1 -c${CONNECTIONS}, 64 z14 tiles of ${ROWS.toLocaleString('en')} points, ${ROUNDS} round(s) of ${SECONDS} s, median\n`);
    console.log('| tiles | 1 process | 2 processes | 2 ÷ 1 |');
    console.log('|---|---|---|---|');
    for (const kind of ['cached', 'uncached'] as const) {
      const one = median(rates.get(`1 process, ${kind}`)!);
      const two = median(rates.get(`2 processes, ${kind}`)!);
      console.log(`| ${kind} | ${one.toFixed(0)}/s | ${two.toFixed(0)}/s | **${(two / one).toFixed(2)}** |`);
      record({
        bench: 'processes',
        name: `${kind} tiles, WORKERS=2, wrk ${CONNECTIONS} connections`,
        value: two,
        unit: 'req/s',
        baseline: { name: 'WORKERS=1, same run', value: one },
        better: 'higher',
        ...(kind === 'cached' ? { goal: { op: '>=' as const, value: 1.6 } } : {}),
      });
    }
  } finally {
    await Promise.all(servers.map(stopServer));
    fs.rmSync(script, { force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
