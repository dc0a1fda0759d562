/**
 * Several server processes (issue 16 §1): requests/s of cached and uncached tiles
 * with WORKERS=2 ÷ WORKERS=1, the server started as deployed (the bundle `npm start`
 * runs, server/build.ts; node:cluster), loaded by wrk (C, one thread, so the load generator takes as
 * little of the two cores as it can). Goal on this 2-core machine: cached 2 ÷ 1
 * ≥ 1.6. Uncached is reported too (it is bound by PostgreSQL, which shares the
 * same two cores).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/<a database of its own> npx tsx bench/processes.ts
 *
 * The database named is migrated and gets the demo data plus BENCH_ROWS synthetic
 * risk points (default 100,000; bench/ogc-pages.ts). Needs `wrk` (Debian package).
 * The four servers (1 and 2 processes, cache on and off) run side by side; rounds
 * alternate between them so load from elsewhere hits both alike. Each tile is warmed
 * in every process's cache first (each process keeps its own).
 *
 * It also prints where the CPU went while wrk ran (/proc): the server processes,
 * the node:cluster primary, wrk, and the rest of the machine, and the requests
 * per CPU-second of the server processes. The 2 ÷ 1 ratio of requests/s can only
 * be as large as the ratio of the cores the servers got: wrk runs on the same two
 * cores (about half a core at 25,000 req/s), and under Linux's autogroup
 * scheduling every process started from one session shares that session's CPU
 * share, so on a machine busy with other sessions two processes get no more CPU
 * than one. docs/performance.md has the measured split.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureServerBuilt, SERVER_BUNDLE } from '../server/build.ts';
import { openPostgres } from '../server/db/postgres.ts';
import { prepareDatabase } from '../server/db/prepare.ts';
import { tileContaining, type TileCoord } from '../tiles/tile-coords.ts';
import { loadBenchRows } from './ogc-pages.ts';
import { QUICK_RUN, record } from './results.ts';
import { hasWrk, wrkScript } from './wrk.ts';
import { readProcStat } from '../server/work/thread-cpu.ts';

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
  await ensureServerBuilt();
  const child = spawn(process.execPath, ['--enable-source-maps', SERVER_BUNDLE], {
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

/** GET on a connection of its own: the X-Tile-Cache header of the answer. */
function onFreshConnection(port: number, p: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: p, agent: false, headers: { connection: 'close' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.headers['x-tile-cache'] as string | undefined));
      })
      .on('error', reject);
  });
}

/** CPU time used so far, in ms, by each process (all its threads), from /proc. */
function cpuMsByPid(): Map<number, { ppid: number; cpuMs: number }> {
  const out = new Map<number, { ppid: number; cpuMs: number }>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readProcStat(`/proc/${name}/stat`);
    if (stat) out.set(Number(name), stat); // else gone meanwhile
  }
  return out;
}

/** Busy and total clock ticks of the whole machine (/proc/stat; idle and iowait are not busy). */
function machineTicks(): { busy: number; total: number } {
  const [, ...v] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - v[3] - v[4], total };
}

/** `root` and every process below it. */
function treeOf(root: number, procs: Map<number, { ppid: number }>): Set<number> {
  const tree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, p] of procs) {
      if (!tree.has(pid) && tree.has(p.ppid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  return tree;
}

const TICKS_PER_S = 100; // USER_HZ on Linux

/** One wrk run: its rate, and how many cores each party used meanwhile. */
interface Measured {
  rps: number;
  /** Cores used by the server's request-serving processes (the workers; the process itself with WORKERS=1). */
  server: number;
  /** Cores used by the node:cluster primary (0 with WORKERS=1). */
  primary: number;
  wrk: number;
  /** Everything else on the machine (PostgreSQL, other servers, other users). */
  rest: number;
}

/**
 * wrk, one thread, CONNECTIONS connections cycling over `paths`: requests/s, and
 * the CPU the server's processes, wrk and the rest of the machine used while it ran
 * (the shell's `times` gives wrk's own CPU exactly). `BENCH_WRK_CPU=1` pins wrk
 * to that CPU with taskset.
 */
async function wrk(server: Server, script: string, clustered: boolean): Promise<Measured> {
  const pin = process.env.BENCH_WRK_CPU;
  const cmd = `${pin ? `taskset -c ${Number(pin)} ` : ''}wrk -t1 -c${CONNECTIONS} -d${SECONDS}s --timeout 30s -s "$1" "$2"; times`;
  const before = { procs: cpuMsByPid(), machine: machineTicks(), at: performance.now() };
  const { stdout } = await run('sh', ['-c', cmd, 'sh', script, `http://127.0.0.1:${server.port}`], { maxBuffer: 1 << 20 });
  const after = { procs: cpuMsByPid(), machine: machineTicks(), at: performance.now() };
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  const bad = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
  if (!rps) throw new Error(`wrk printed no rate:\n${stdout}`);
  if (bad) throw new Error(`wrk: ${bad[1]} non-2xx answers on port ${server.port}`);
  // `times`: the shell's own user and system time, then its children's (wrk's).
  const times = [...stdout.matchAll(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]));
  const seconds = (after.at - before.at) / 1000;
  const used = (pid: number) => ((after.procs.get(pid)?.cpuMs ?? 0) - (before.procs.get(pid)?.cpuMs ?? after.procs.get(pid)?.cpuMs ?? 0)) / 1000;
  const root = server.child.pid!;
  const tree = [...treeOf(root, after.procs)];
  const primary = clustered ? used(root) : 0;
  const serverCpu = tree.reduce((sum, pid) => sum + used(pid), 0) - primary;
  const wrkCpu = times[1] ?? 0;
  const machine = (after.machine.busy - before.machine.busy) / TICKS_PER_S;
  return { rps: Number(rps[1]), server: serverCpu / seconds, primary: primary / seconds, wrk: wrkCpu / seconds, rest: Math.max(0, machine - serverCpu - primary - wrkCpu) / seconds };
}

async function main() {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL (a PostgreSQL database for this bench): several processes need PostgreSQL');
  if (!(await hasWrk())) throw new Error('this bench needs wrk (Debian: apt-get install wrk)');
  const db = await openPostgres({ connectionString: url, max: 2 });
  try {
    await prepareDatabase(db, { demoData: true });
    await loadBenchRows(db, ROWS);
  } finally {
    await db.close();
  }
  const paths = benchTiles().map((t) => `/tiles/risk_points/${t.z}/${t.x}/${t.y}.mvt`);
  const script = path.join(os.tmpdir(), `onemap-bench-processes-${process.pid}.lua`);
  fs.writeFileSync(script, wrkScript(paths));
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
    // Every process of a server holds its own cache: warm each tile on each of them. node:cluster hands
    // new connections to its workers in turn, so a tile asked twice on two fresh connections reaches both;
    // warm until a whole pass, each tile twice, is answered from the caches.
    for (const s of servers.filter((x) => x.label.endsWith(', cached'))) {
      let misses = paths.length;
      for (let pass = 0; pass < 6 && misses > 0; pass++) {
        misses = 0;
        for (const p of paths) for (let k = 0; k < 2; k++) if ((await onFreshConnection(s.port, p)) !== 'hit') misses++;
      }
      if (misses) console.log(`${s.label}: ${misses} of ${2 * paths.length} answers still uncached after the warm-up`);
    }
    const runs = new Map<string, Measured[]>(servers.map((s) => [s.label, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of servers) runs.get(s.label)!.push(await wrk(s, script, s.label.startsWith('2 ')));
    }
    const at = (label: string) => {
      const rs = runs.get(label)!;
      const m = (k: keyof Measured) => median(rs.map((r) => r[k]));
      return { rps: m('rps'), server: m('server'), primary: m('primary'), wrk: m('wrk'), rest: m('rest') };
    };
    const load = os.loadavg().map((l) => l.toFixed(2)).join(' / ');
    console.log(`\n## Several processes: wrk -t1 -c${CONNECTIONS}, 64 z14 tiles of ${ROWS.toLocaleString('en')} points, ${ROUNDS} round(s) of ${SECONDS} s, median; load ${load}\n`);
    console.log('| tiles | 1 process | 2 processes | 2 ÷ 1 |');
    console.log('|---|---|---|---|');
    for (const kind of ['cached', 'uncached'] as const) {
      const one = at(`1 process, ${kind}`).rps;
      const two = at(`2 processes, ${kind}`).rps;
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
    // Where the two cores went while wrk ran: what the server processes had decides what they could do.
    console.log(`\nCPU while wrk ran, in cores (of ${os.availableParallelism()}); "rest" is PostgreSQL, the idle servers and everything else on the machine\n`);
    console.log('| server | req/s | server processes | cluster primary | wrk | rest | req per server CPU-second |');
    console.log('|---|---|---|---|---|---|---|');
    for (const s of servers) {
      const m = at(s.label);
      console.log(`| ${s.label} | ${m.rps.toFixed(0)} | ${m.server.toFixed(2)} | ${m.primary.toFixed(2)} | ${m.wrk.toFixed(2)} | ${m.rest.toFixed(2)} | ${(m.rps / m.server).toFixed(0)} |`);
    }
    const [one, two] = [at('1 process, cached'), at('2 processes, cached')];
    record({
      bench: 'processes',
      name: 'cached tiles per CPU-second of the server processes, WORKERS=2',
      value: two.rps / two.server,
      unit: 'req/CPU-s',
      baseline: { name: 'WORKERS=1, same run', value: one.rps / one.server },
      better: 'higher',
    });
    record({
      bench: 'processes',
      name: 'cores the server processes had under wrk (cached tiles), WORKERS=2',
      value: two.server,
      unit: 'cores',
      baseline: { name: 'WORKERS=1, same run', value: one.server },
      better: 'higher',
    });
  } finally {
    await Promise.all(servers.map(stopServer));
    fs.rmSync(script, { force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
