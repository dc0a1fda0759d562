/**
 * Reliability under load (docs/reliability.md). Runs the real server (the bundle `npm start`
 * runs, server/build.ts; its own process) on a THROWAWAY PostgreSQL cluster (bench/throwaway-pg.ts, never a
 * shared server) and drives a mixed load from this process:
 *
 *   base     tiles 70 %, OGC items 20 %, analyses 5 %, writes 5 % at --connections
 *   hostile  the same, plus one client repeating the heaviest siting request;
 *            prints the other clients' p95 against `base` (the ratio to watch)
 *   drop     the same, plus 50 clients announcing big bodies, sending 1 MB, hanging up
 *   outage   the same, with the PostgreSQL cluster stopped (crash) and started again
 *            mid-run; then every write answered 201 must be a row in the database
 *   steady   (not in the default list) a long quiet run: 4 clients, each pausing
 *            250 ms between requests, for --steady-seconds (600); the server's RSS
 *            is sampled every 10 s — memory must stay flat
 *
 * It reports, per phase: requests/s, errors (5xx other than 503, network errors,
 * timeouts after 60 s), 503 refusals (Retry-After) apart, statuses per class, p95 per class (failures included, with the time the client waited),
 * server RSS at start and end (from the server's own /metrics).
 *
 *   npx tsx bench/reliability.ts [--duration=60] [--connections=64]
 *        [--phases=base,hostile,drop,outage,steady] [--outage-seconds=5] [--steady-seconds=600]
 *
 * Rate limits are off in the server (RATE_LIMIT_PER_MIN=0): every client here
 * comes from 127.0.0.1, which a real deployment would not.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ensureServerBuilt, SERVER_BUNDLE } from '../server/build.ts';
import { openPostgres } from '../server/db/postgres.ts';
import { prepareDatabase } from '../server/db/prepare.ts';
import { createKey } from '../server/auth/keys.ts';
import { createThrowawayCluster, type ThrowawayCluster } from './throwaway-pg.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const DURATION_S = Number(arg('duration', '60'));
const CONNECTIONS = Number(arg('connections', '64'));
const PHASES = arg('phases', 'base,hostile,drop,outage').split(',');
const OUTAGE_S = Number(arg('outage-seconds', '5'));
const STEADY_S = Number(arg('steady-seconds', '600'));
const STEADY_CLIENTS = 4;
const STEADY_PAUSE_MS = 250;
const RSS_EVERY_S = 10;
const HOSTILE = '/analysis/siting?district=huadu&k=100&candidates=cells&radius=49999';
const REQUEST_TIMEOUT_MS = 60_000;

type Kind = 'tile' | 'items' | 'analysis' | 'write';
const MIX: [Kind, number][] = [
  ['tile', 0.7],
  ['items', 0.2],
  ['analysis', 0.05],
  ['write', 0.05],
];

interface Place {
  district: string;
  lon: number;
  lat: number;
  inside: [number, number][];
}

interface Sample {
  status: number; // 0 = network error or timeout
  ms: number;
  /** What the network failure was (ECONNRESET, TIMEOUT, …) when status is 0. */
  net?: string;
}

class PhaseStats {
  readonly samples = new Map<Kind | 'hostile' | 'drop', Sample[]>();
  add(kind: Kind | 'hostile' | 'drop', s: Sample) {
    let list = this.samples.get(kind);
    if (!list) this.samples.set(kind, (list = []));
    list.push(s);
  }
}

const p95 = (xs: number[]) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.95))];
};

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
let port = 0;

function call(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } : headers, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }));
      res.on('error', () => resolve({ status: 0, text: '', ms: performance.now() - started }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    // The text of a network failure names it (ECONNRESET, TIMEOUT, …) for the report.
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: 0, text: err.code ?? err.message, ms: performance.now() - started }));
    req.end(body);
  });
}

const pick = <T>(xs: readonly T[]) => xs[Math.floor(Math.random() * xs.length)];

function tileOf(lon: number, lat: number, z: number): [number, number] {
  const n = 2 ** z;
  const x = Math.floor(((lon + 180) / 360) * n);
  const r = (lat * Math.PI) / 180;
  const y = Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n);
  return [x, y];
}

interface World {
  places: Place[];
  tileLayers: string[];
  editor: string;
  acknowledged: number[];
}

function requestFor(kind: Kind, w: World): { method: string; path: string; body?: string; headers?: Record<string, string> } {
  const p = pick(w.places);
  switch (kind) {
    case 'tile': {
      const z = 11 + Math.floor(Math.random() * 4);
      const [x, y] = tileOf(p.lon, p.lat, z);
      const dx = Math.floor(Math.random() * 5) - 2;
      const dy = Math.floor(Math.random() * 5) - 2;
      return { method: 'GET', path: `/tiles/${pick(w.tileLayers)}/${z}/${x + dx}/${y + dy}.mvt` };
    }
    case 'items': {
      const d = 0.02 + Math.random() * 0.05;
      const bbox = [p.lon - d, p.lat - d, p.lon + d, p.lat + d].map((v) => v.toFixed(4)).join(',');
      return { method: 'GET', path: `/ogc/collections/${pick(['shelters', 'risk_points'])}/items?limit=50&bbox=${bbox}` };
    }
    case 'analysis':
      return Math.random() < 0.5
        ? { method: 'GET', path: `/analysis/coverage?district=${p.district}` }
        : { method: 'GET', path: `/analysis/nearest-shelters?lon=${p.lon.toFixed(5)}&lat=${p.lat.toFixed(5)}&n=5` };
    case 'write': {
      const [lon, lat] = pick(p.inside);
      const feature = {
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [lon, lat] },
        properties: { name_zh: '压测风险点', district_id: p.district, level: 'blue', category: 'gas', responsible_unit: '应急管理局' },
      };
      return { method: 'POST', path: '/ogc/collections/risk_points/items', body: JSON.stringify(feature), headers: { authorization: w.editor } };
    }
  }
}

function chooseKind(): Kind {
  let r = Math.random();
  for (const [k, share] of MIX) {
    if (r < share) return k;
    r -= share;
  }
  return 'tile';
}

async function mixedClient(w: World, stats: PhaseStats, until: number, pauseMs = 0): Promise<void> {
  while (Date.now() < until) {
    if (pauseMs) await new Promise((ok) => setTimeout(ok, pauseMs));
    const kind = chooseKind();
    const r = requestFor(kind, w);
    const res = await call(r.method, r.path, r.body, r.headers);
    stats.add(kind, { status: res.status, ms: res.ms, ...(res.status === 0 ? { net: res.text } : {}) });
    if (kind === 'write' && res.status === 201) w.acknowledged.push(Number(JSON.parse(res.text).id));
    if (res.status === 0) await new Promise((ok) => setTimeout(ok, 50)); // do not spin on a dead link
  }
}

async function hostileClient(stats: PhaseStats, until: number): Promise<void> {
  while (Date.now() < until) {
    const res = await call('GET', HOSTILE);
    stats.add('hostile', { status: res.status, ms: res.ms });
    if (res.status === 0 || res.status === 429 || res.status === 503) await new Promise((ok) => setTimeout(ok, 200));
  }
}

/** Announces a big body, sends 1 MB of it and hangs up: a client that gave up mid-upload. */
async function droppingClient(w: World, stats: PhaseStats, until: number): Promise<void> {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  let n = 0;
  while (Date.now() < until) {
    const started = performance.now();
    const importing = n++ % 2 === 0;
    await new Promise<void>((done) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => done());
      socket.on('close', () => done());
      socket.on('data', () => {}); // an early 413 is fine; keep sending until 1 MB, then drop
      socket.on('connect', async () => {
        const head = importing
          ? `POST /import/shelters HTTP/1.1\r\nHost: bench\r\nAuthorization: ${w.editor}\r\nContent-Type: application/geo+json\r\nContent-Length: ${199 * 1024 * 1024}\r\n\r\n`
          : `POST /analysis/area-summary HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: ${200 * 1024 * 1024}\r\n\r\n`;
        socket.write(head);
        for (let i = 0; i < 16 && !socket.destroyed; i++) {
          if (!socket.write(chunk)) await new Promise((ok) => socket.once('drain', ok));
        }
        socket.destroy();
      });
    });
    stats.add('drop', { status: 200, ms: performance.now() - started });
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

async function serverRssMiB(): Promise<number> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const r = await call('GET', '/metrics');
    const m = /^process_resident_memory_bytes (\d+)/m.exec(r.text);
    if (m) return Math.round(Number(m[1]) / 1024 / 1024);
    await new Promise((ok) => setTimeout(ok, 500));
  }
  return NaN;
}

/** The server's RSS every RSS_EVERY_S seconds until `until`: the samples, and the change over the second half. */
async function sampleRss(until: number, extra: Record<string, unknown>): Promise<void> {
  const samples: number[] = [];
  while (Date.now() < until) {
    samples.push(await serverRssMiB());
    await new Promise((ok) => setTimeout(ok, RSS_EVERY_S * 1000));
  }
  samples.push(await serverRssMiB());
  const half = samples.slice(Math.floor(samples.length / 2));
  extra.rssSamplesMiB = samples.join(' ');
  extra.rssMinMaxMiB = `${Math.min(...samples)}–${Math.max(...samples)}`;
  extra.rssSecondHalfChangeMiB = half[half.length - 1] - half[0];
}

/** Seconds until a write is acknowledged again after the outage (NaN: not within 120 s). */
async function secondsToRecover(w: World, since: number): Promise<number> {
  while (Date.now() - since < 120_000) {
    const r = requestFor('write', w);
    const res = await call(r.method, r.path, r.body, r.headers);
    if (res.status === 201) {
      w.acknowledged.push(Number(JSON.parse(res.text).id));
      return Math.round((Date.now() - since) / 100) / 10;
    }
    await new Promise((ok) => setTimeout(ok, 250));
  }
  return NaN;
}

interface PhaseResult {
  phase: string;
  rps: number;
  requests: number;
  errors: number;
  refused: number;
  statuses: Record<string, number>;
  p95: Record<string, number>;
  rssStart: number;
  rssEnd: number;
  extra: Record<string, unknown>;
}

async function runPhase(name: string, w: World, cluster: ThrowawayCluster): Promise<PhaseResult> {
  const stats = new PhaseStats();
  const rssStart = await serverRssMiB();
  const started = Date.now();
  const steady = name === 'steady';
  const until = started + (steady ? STEADY_S : DURATION_S) * 1000;
  const extra: Record<string, unknown> = {};
  const clients: Promise<void>[] = [];
  const mixed = steady ? STEADY_CLIENTS : name === 'hostile' ? CONNECTIONS - 1 : CONNECTIONS;
  for (let i = 0; i < mixed; i++) clients.push(mixedClient(w, stats, until, steady ? STEADY_PAUSE_MS : 0));
  if (steady) clients.push(sampleRss(until, extra));
  if (name === 'hostile') clients.push(hostileClient(stats, until));
  if (name === 'drop') for (let i = 0; i < 50; i++) clients.push(droppingClient(w, stats, until));
  if (name === 'outage') {
    const ackBefore = w.acknowledged.length;
    clients.push(
      (async () => {
        await new Promise((ok) => setTimeout(ok, (DURATION_S * 1000) / 3));
        const down = Date.now();
        cluster.stop('immediate');
        await new Promise((ok) => setTimeout(ok, OUTAGE_S * 1000));
        cluster.start();
        const up = Date.now();
        extra.writableAgainAfterStartS = await secondsToRecover(w, up);
        extra.outage = `stopped (immediate) at +${Math.round((down - started) / 1000)} s for ${OUTAGE_S} s, started in ${((Date.now() - down) / 1000 - OUTAGE_S).toFixed(1)} s`;
      })(),
    );
    await Promise.all(clients);
    extra.writesAcknowledgedInPhase = w.acknowledged.length - ackBefore;
  } else {
    await Promise.all(clients);
  }
  const elapsed = (Date.now() - started) / 1000;
  const rssEnd = await serverRssMiB();
  const statuses: Record<string, number> = {};
  let requests = 0;
  let errors = 0;
  let refused = 0;
  const result: Record<string, number> = {};
  for (const [kind, list] of stats.samples) {
    if (kind === 'drop') {
      extra.droppedUploads = list.length;
      continue;
    }
    for (const s of list) {
      const label = `${kind}:${s.status || `neterr ${s.net ?? ''}`.trim()}`;
      statuses[label] = (statuses[label] ?? 0) + 1;
      // 503 with Retry-After is a designed refusal (busy workers, database down), counted apart.
      if (s.status === 503) refused++;
      else if (s.status === 0 || s.status >= 500) errors++;
    }
    if (kind !== 'hostile') requests += list.length;
    // Failures count with the time the client waited (a timeout waited REQUEST_TIMEOUT_MS).
    result[kind] = Math.round(p95(list.map((s) => s.ms)));
  }
  const others = [...stats.samples].filter(([k]) => k !== 'hostile' && k !== 'drop').flatMap(([, l]) => l.map((s) => s.ms));
  result.all = Math.round(p95(others));
  return { phase: name, rps: Math.round(requests / elapsed), requests, errors, refused, statuses, p95: result, rssStart, rssEnd, extra };
}

async function main() {
  const t0 = Date.now();
  const cluster = await createThrowawayCluster();
  let server: ChildProcess | undefined;
  const cleanup = () => {
    if (server && server.exitCode === null) server.kill('SIGKILL');
    cluster.remove();
  };
  process.on('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  try {
    const admin = new pg.Client({ connectionString: cluster.url('postgres') });
    await admin.connect();
    await admin.query('CREATE DATABASE onemap');
    await admin.end();
    const url = cluster.url('onemap');
    const db = await openPostgres({ connectionString: url, max: 2 });
    await prepareDatabase(db, { demoData: true });
    const editor = `Bearer ${(await createKey(db, { name: 'load bench', role: 'editor' })).key}`;
    const rows = await db.query<{ id: string; lon: number; lat: number; inside: string }>(
      `SELECT id, ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat,
              ST_AsGeoJSON(ST_GeneratePoints(ST_Buffer(geom::geography, -300)::geometry, 200, 1)) AS inside
         FROM districts ORDER BY id`,
    );
    const places: Place[] = rows.rows.map((r) => ({ district: r.id, lon: r.lon, lat: r.lat, inside: JSON.parse(r.inside).coordinates }));
    await db.close();

    port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    await ensureServerBuilt();
    server = spawn(process.execPath, ['--enable-source-maps', SERVER_BUNDLE], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: url, PORT: String(port), HOST: '127.0.0.1', DEMO_DATA: 'false', LOG_LEVEL: 'warn', RATE_LIMIT_PER_MIN: '0', RATE_LIMIT_KEY_PER_MIN: '0' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let serverLog = '';
    server.stderr!.on('data', (d) => (serverLog = (serverLog + d).slice(-20_000)));
    server.on('exit', (code, signal) => {
      console.log(`SERVER EXITED (code ${code}, signal ${signal}); its last log lines:\n${serverLog.split('\n').slice(-15).join('\n')}`);
    });
    for (let i = 0; ; i++) {
      if ((await call('GET', '/health')).status === 200) break;
      if (i > 600 || server.exitCode !== null) throw new Error(`server did not start:\n${serverLog}`);
      await new Promise((ok) => setTimeout(ok, 200));
    }
    const layers = JSON.parse((await call('GET', '/layers')).text) as { layers: { id: string }[] };
    const ids = layers.layers.map((l) => l.id);
    const tileLayers = [ids.includes('shelters') ? 'shelters' : ids[0], ids.includes('risk_points') ? 'risk_points' : ids[0], ids.slice(0, 3).join(',')];
    const world: World = { places, tileLayers, editor, acknowledged: [] };

    console.log(
      `reliability bench: ${CONNECTIONS} connections, ${DURATION_S} s per phase${PHASES.includes('steady') ? ` (steady: ${STEADY_CLIENTS} clients, ${STEADY_S} s)` : ''}, phases ${PHASES.join(', ')}; ${new Date().toISOString()}`,
    );
    const results: PhaseResult[] = [];
    for (const phase of PHASES) {
      const r = await runPhase(phase, world, cluster);
      results.push(r);
      const base = results.find((x) => x.phase === 'base');
      const ratio = base && r.phase !== 'base' ? ` others' p95 ${(r.p95.all / base.p95.all).toFixed(2)}× base` : '';
      console.log(
        `${r.phase.padEnd(8)} ${String(r.rps).padStart(5)} req/s  errors ${r.errors}  503 ${r.refused}  p95 ms: tile ${r.p95.tile} items ${r.p95.items} analysis ${r.p95.analysis} write ${r.p95.write} all ${r.p95.all}` +
          (r.p95.hostile !== undefined ? ` hostile ${r.p95.hostile}` : '') +
          `  RSS ${r.rssStart} → ${r.rssEnd} MiB${ratio}`,
      );
      console.log(`         statuses ${JSON.stringify(r.statuses)} ${JSON.stringify(r.extra)}`);
    }

    // Every write answered 201 must be a row, whatever happened in between.
    const check = new pg.Client({ connectionString: url });
    await check.connect();
    const present = await check.query<{ n: number }>('SELECT count(*)::int AS n FROM risk_points WHERE id = ANY($1::bigint[])', [world.acknowledged]);
    await check.end();
    console.log(`acknowledged writes ${world.acknowledged.length}, rows present ${present.rows[0].n}${present.rows[0].n === world.acknowledged.length ? ' (all)' : ' — LOST WRITES'}`);
    console.log(`total ${Math.round((Date.now() - t0) / 1000)} s`);
    console.log(JSON.stringify({ connections: CONNECTIONS, durationS: DURATION_S, results, acknowledged: world.acknowledged.length, present: present.rows[0].n }));
  } finally {
    cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
