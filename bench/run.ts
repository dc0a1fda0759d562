/**
 * `npm run bench`: every benchmark, one after another, on data each generates,
 * and docs/performance.md rewritten between its bench markers with every figure
 * next to its baseline measured in the same run (bench/report.ts).
 *
 *   npm run bench                       # everything (aim: < 10 min on 2 quiet cores)
 *   npm run bench -- --quick            # small data, short measurements: checks that all of it runs
 *   npm run bench -- --only=tiles,ogc   # some benches: bundle tiles ogc import maps analysis pressure processes mapserver
 *   npm run bench -- --print            # print the report, do not touch the doc
 *   npm run bench -- --force            # write the doc although the machine is busy (labelled "loaded")
 *
 * The doc is not rewritten when the 1-minute load average is above 1.5 before the
 * run starts (other work on the machine), unless --force. Needs PostgreSQL with
 * PostGIS on 127.0.0.1 (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres):
 * every bench makes its own databases and drops them. `processes` needs `wrk`; `mapserver`
 * compares sizes with MapServer 8 where `mapserv` is installed (it says so and passes where not).
 * Each bench's own output goes to a log file (its path is printed).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { formatReport, parseFigures, replaceBetweenMarkers, writeDecision, type Figure, type RunMeta } from './report.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(HERE, '..');
const DOC = path.join(ROOT, 'docs', 'performance.md');
const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const PRINT = args.includes('--print');
const FORCE = args.includes('--force');
const ONLY = args.find((a) => a.startsWith('--only='))?.slice(7).split(',').filter(Boolean);
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

interface Bench {
  name: string;
  script: string;
  /** Where the bench's database comes from: none; `server` (it makes its own next to the URL); `own` (a fresh one made here). */
  db: 'none' | 'server' | 'own';
  /** The variable the bench reads the URL from. */
  urlVar?: 'DATABASE_URL' | 'BENCH_DATABASE_URL';
  /** Settings of a full run (where the bench's own defaults are longer than the 10-minute aim allows). */
  fullEnv?: Record<string, string>;
  quickEnv?: Record<string, string>;
  timeoutMin: number;
}

const BENCHES: Bench[] = [
  { name: 'bundle', script: 'bundle.ts', db: 'none', timeoutMin: 5 },
  // 4 s of load per measurement rather than 5 (24 measurements here, 12 in processes): every
  // figure still comes from three rounds, each of some 40,000 requests for the cached tiles.
  { name: 'tiles', script: 'tiles.ts', db: 'server', urlVar: 'BENCH_DATABASE_URL', fullEnv: { BENCH_SECONDS: '4' }, timeoutMin: 25 },
  // One connection and 32 (the concurrency every bench reports); 8 as well with `npx tsx bench/ogc.ts`,
  // whose default is 8,32: another 4 pages × 3 rounds × 2 sides × 3 s, 72 s of the 10 minutes.
  { name: 'ogc', script: 'ogc.ts', db: 'server', urlVar: 'DATABASE_URL', fullEnv: { BENCH_SECONDS: '3', BENCH_RUNS: '10', BENCH_CONNECTIONS: '32' }, quickEnv: { BENCH_ROWS: '20000', BENCH_SECONDS: '2', BENCH_CONNECTIONS: '8', BENCH_RUNS: '5' }, timeoutMin: 15 },
  { name: 'import', script: 'import.ts', db: 'server', urlVar: 'DATABASE_URL', quickEnv: { BENCH_ROWS: '10000' }, timeoutMin: 10 },
  { name: 'maps', script: 'maps.ts', db: 'own', urlVar: 'DATABASE_URL', quickEnv: { BENCH_RUNS: '5' }, timeoutMin: 10 },
  { name: 'analysis', script: 'analysis.ts', db: 'own', urlVar: 'DATABASE_URL', quickEnv: { BENCH_CITY: '0' }, timeoutMin: 10 },
  { name: 'pressure', script: 'pressure.ts', db: 'server', urlVar: 'DATABASE_URL', timeoutMin: 5 },
  { name: 'processes', script: 'processes.ts', db: 'own', urlVar: 'DATABASE_URL', fullEnv: { BENCH_SECONDS: '4' }, timeoutMin: 10 },
  // Only where MapServer is installed (apt-get install -y mapserver-bin cgi-mapserver; bench only, not CI).
  { name: 'mapserver', script: 'mapserver.ts', db: 'own', urlVar: 'DATABASE_URL', timeoutMin: 5 },
];

function localOnly(url: string): void {
  const host = new URL(url).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost') throw new Error(`the bench only talks to 127.0.0.1, not ${host}`);
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** The bench running now and how to drop its database, so Ctrl-C leaves no process or database behind. */
let current: { pid?: number; drop?: () => Promise<void> } = {};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    try {
      if (current.pid) process.kill(-current.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    void (current.drop?.() ?? Promise.resolve()).catch(() => {}).finally(() => process.exit(130));
  });
}

/** Runs one bench in its own process; its output goes to `log`. Resolves with the exit code (or the reason it was stopped). */
function runBench(bench: Bench, env: Record<string, string>, log: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const out = fs.openSync(log, 'w');
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, bench.script)], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', out, out],
      detached: true, // its own process group, so a stop reaches the servers it started too
    });
    current.pid = child.pid;
    const limit = QUICK ? Math.min(bench.timeoutMin, 8) : bench.timeoutMin;
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
    }, limit * 60_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      fs.closeSync(out);
      if (code === 0) resolve(undefined);
      else resolve(signal ? `stopped (${signal}) after ${limit} min at most` : `exited with ${code}`);
    });
  });
}

async function versions(): Promise<Record<string, string>> {
  const v: Record<string, string> = { Node: process.version };
  try {
    const r = await admin((c) => c.query<{ v: string }>("SELECT split_part(current_setting('server_version'), ' ', 1) AS v"));
    v.PostgreSQL = r.rows[0].v;
    const p = await admin((c) => c.query<{ v: string }>("SELECT default_version AS v FROM pg_available_extensions WHERE name = 'postgis'"));
    if (p.rows[0]) v.PostGIS = p.rows[0].v;
  } catch {
    // reported as missing
  }
  for (const [name, pkg] of [
    ['PGlite', '@electric-sql/pglite'],
    ['OpenLayers', 'ol'],
  ] as const) {
    try {
      v[name] = (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      // not installed
    }
  }
  return v;
}

async function main(): Promise<number> {
  localOnly(ADMIN_URL);
  const unknown = (ONLY ?? []).filter((n) => !BENCHES.some((b) => b.name === n));
  if (unknown.length) {
    console.error(`unknown bench ${unknown.join(', ')}; the benches are ${BENCHES.map((b) => b.name).join(', ')}`);
    return 2;
  }
  const benches = BENCHES.filter((b) => !ONLY || ONLY.includes(b.name));
  // The load is read before the run: during it the benches themselves keep both cores busy.
  const loadStart = os.loadavg();
  const decision = writeDecision(loadStart[0], FORCE);
  if (!PRINT && !decision.write) {
    console.error(`npm run bench: ${decision.reason}. (--print runs and prints without writing.)`);
    return 2;
  }
  const started = new Date();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onemap-bench-'));
  const resultsFile = path.join(dir, 'figures.jsonl');
  console.log(`npm run bench${QUICK ? ' --quick' : ''}: ${benches.map((b) => b.name).join(', ')}; logs in ${dir}`);
  const failed: { bench: string; error: string }[] = [];
  const took: { name: string; seconds: number }[] = [];
  for (const bench of benches) {
    const log = path.join(dir, `${bench.name}.log`);
    const env: Record<string, string> = { BENCH_RESULTS: resultsFile, ...(QUICK ? { BENCH_QUICK: '1', ...bench.quickEnv } : bench.fullEnv) };
    let drop: (() => Promise<void>) | undefined;
    if (bench.db === 'server') env[bench.urlVar!] = ADMIN_URL;
    if (bench.db === 'own') {
      const name = `onemap_bench_run_${process.pid}_${bench.name}`;
      await admin((c) => c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
      const u = new URL(ADMIN_URL);
      u.pathname = `/${name}`;
      env[bench.urlVar!] = u.toString();
      drop = () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`)).then(() => undefined);
    }
    const t = Date.now();
    process.stdout.write(`  ${bench.name.padEnd(10)} … `);
    current = { drop };
    const error = await runBench(bench, env, log).finally(() => drop?.());
    current = {};
    const seconds = Math.round((Date.now() - t) / 1000);
    took.push({ name: bench.name, seconds });
    console.log(`${error ? `FAILED (${error}; see ${log})` : 'done'} in ${seconds} s`);
    if (error) failed.push({ bench: bench.name, error: `${error}; last lines: ${lastLines(log, 3)}` });
  }
  const figures: Figure[] = fs.existsSync(resultsFile) ? parseFigures(fs.readFileSync(resultsFile, 'utf8')) : [];
  const cpus = os.cpus();
  const meta: RunMeta = {
    date: started,
    cores: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown CPU',
    memoryBytes: os.totalmem(),
    versions: await versions(),
    loadStart,
    loadEnd: os.loadavg(),
    durationMs: Date.now() - started.getTime(),
    quick: QUICK,
    benches: took,
    failed,
    loaded: decision.loaded,
  };
  const report = formatReport(meta, figures);
  if (PRINT) {
    console.log(`\n${report}`);
  } else {
    fs.writeFileSync(DOC, replaceBetweenMarkers(fs.readFileSync(DOC, 'utf8'), report));
    console.log(`\n${figures.length} figures written to docs/performance.md${decision.loaded ? ' (labelled loaded)' : ''}`);
  }
  return failed.length ? 1 : 0;
}

function lastLines(file: string, n: number): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-n).join(' ⏎ ').slice(0, 400);
  } catch {
    return '';
  }
}

process.exitCode = await main();
