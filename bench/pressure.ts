/**
 * Pressure benchmark: does one heavy request stall everybody else?
 *
 *   npx tsx bench/pressure.ts                         # embedded database (in memory) + demo data
 *   DATABASE_URL=postgres://… npx tsx bench/pressure.ts
 *
 * Measured in one run, on the same server: `/health` latency alone, and while the
 * heaviest siting request known (defect 3 of the reliability issue) runs, at 1
 * and at 32 concurrent `/health` clients; the ratio "during / alone" is the
 * figure (before the worker pool it was the heavy request's whole duration,
 * 10–70 s). Also: how long the heavy request took (it is stopped at
 * WORKER_TASK_BUDGET_MS) and the worst event-loop delay while it ran.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { openBenchDb } from './bench-db.ts';
import { buildApp } from '../server/app.ts';
import { loadConfig } from '../server/config.ts';
import { silentLogger } from '../server/log.ts';
import { workerPool } from '../server/work/shared.ts';
import { record } from './results.ts';

const HEAVY = '/analysis/siting?district=huadu&k=100&candidates=cells&radius=49999';
const ms = (n: number) => `${n.toFixed(1)} ms`;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

const { db, cleanup } = await openBenchDb();
const app = buildApp({ db, config: loadConfig(process.env), log: silentLogger });
const server: http.Server = app.listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
await workerPool().warm();
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function get(path: string): Promise<{ status: number; ms: number }> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get(base + path, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, ms: performance.now() - t }));
      })
      .on('error', reject);
  });
}

/** `clients` loops asking /health until `until()` is false; latencies of every answer. */
async function healthLoad(clients: number, until: () => boolean): Promise<number[]> {
  const out: number[] = [];
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (until()) out.push((await get('/health')).ms);
    }),
  );
  return out;
}

for (let i = 0; i < 20; i++) await get('/health'); // warm up
for (const clients of [1, 32]) {
  const aloneEnd = performance.now() + 3000;
  const alone = await healthLoad(clients, () => performance.now() < aloneEnd);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  let running = true;
  const heavy = get(HEAVY.replace('k=100', `k=${100 - clients}`)).then((r) => ((running = false), r));
  const during = await healthLoad(clients, () => running);
  const h = await heavy;
  loop.disable();
  const p50a = pct(alone, 0.5), p50d = pct(during, 0.5), p95a = pct(alone, 0.95), p95d = pct(during, 0.95);
  console.log(`/health at ${clients} connection(s): alone p50 ${ms(p50a)} p95 ${ms(p95a)} (${alone.length} answers); during the heavy siting p50 ${ms(p50d)} p95 ${ms(p95d)} max ${ms(Math.max(...during))} (${during.length} answers)`);
  record({
    bench: 'pressure',
    name: `/health p95 at ${clients} connection(s) while the heavy siting runs (${h.status} after ${h.ms.toFixed(0)} ms)`,
    value: p95d,
    unit: 'ms',
    baseline: { name: '/health p95 alone', value: p95a },
    better: 'lower',
  });
  console.log(`  ratio during/alone: p50 ${(p50d / p50a).toFixed(2)}×, p95 ${(p95d / p95a).toFixed(2)}×; heavy request: ${h.status} after ${ms(h.ms)}; worst event-loop delay meanwhile ${ms(loop.max / 1e6)} (${((loop.max / 1e6 / h.ms) * 100).toFixed(1)} % of the heavy request)`);
}
console.log('worker pool:', JSON.stringify(workerPool().stats()));
agent.destroy();
server.close();
await cleanup();
process.exit(0);
