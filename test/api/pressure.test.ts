import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb } from '../setup/db.ts';
import { buildApp } from '../../server/app.ts';
import { loadConfig } from '../../server/config.ts';
import { silentLogger } from '../../server/log.ts';
import { workerPool } from '../../server/work/shared.ts';
import { until } from '../helpers/until.ts';
import type { Db } from '../../server/db/types.ts';

/**
 * One expensive request must not stall the others: heavy analyses run on the
 * worker pool, are stopped past their budget, a full queue answers 503 at once,
 * and work for a client that left is dropped.
 */
const HEAVY = '/analysis/siting?district=huadu&k=100&candidates=cells&radius=49999';

let db: Db;
beforeAll(async () => {
  db = await testDb();
});
afterAll(async () => db?.close());

async function listen(env: Record<string, string>) {
  const app = buildApp({ db, config: loadConfig(env), log: silentLogger });
  const server: http.Server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  await workerPool().warm();
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/**
 * A heavy siting that only has to hold a worker: `leave()` disconnects its client while it
 * runs (it must not have ended by then), and resolves once the pool has stopped the task and
 * its worker is free again. Waiting for such a siting to end took 8–25 s of a whole run.
 */
function runningSiting(url: string) {
  const ac = new AbortController();
  let ended = false;
  const answer = fetch(url, { signal: ac.signal }).then(
    (r) => {
      ended = true;
      return r.status;
    },
    (e: Error) => e.name,
  );
  return {
    async leave() {
      expect(ended, 'the siting ended before its client left').toBe(false);
      ac.abort();
      expect(await answer).toBe('AbortError');
      await until(() => workerPool().stats().busy === 0, 10_000);
    },
  };
}

const points = (n: number) => Array.from({ length: n }, (_, i) => [113.2 + (i % 50) * 0.002, 23.4 + Math.floor(i / 50) * 0.002]);

describe('heavy analyses run off the event loop', () => {
  it('answers /health while the heaviest siting runs, and stops that siting at its budget with 422', async () => {
    const server = await listen({ WORKER_POOL_SIZE: '2', WORKER_TASK_BUDGET_MS: '1000' });
    try {
      const heavy = fetch(server.base + HEAVY).then(async (r) => ({ status: r.status, type: r.headers.get('content-type'), body: await r.json(), at: performance.now() }));
      await until(() => workerPool().stats().busy > 0, 60_000);
      const health = await fetch(`${server.base}/health`);
      const healthAt = performance.now();
      expect(health.status).toBe(200);
      const answer = await heavy;
      // /health was asked after the computation had started and answered before it ended
      expect(healthAt).toBeLessThan(answer.at);
      expect(answer.type).toMatch(/application\/problem\+json/);
      // Stopped at its budget: 422 once it has used 1 s of CPU, or 503 when cores busy with other
      // work did not give it that much within 5 × 1 s on the clock (as under a whole test run).
      expect([422, 503]).toContain(answer.status);
      expect(answer.body.detail).toMatch(answer.status === 422 ? /1000 ms of CPU time/ : /did not get its 1000 ms of CPU time/);
      // Counted by why it was stopped: too costly (422) or starved of CPU by busy cores (503).
      expect(workerPool().stats()[answer.status === 422 ? 'overBudget' : 'starved']).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });

  it('answers 503 with Retry-After at once when every worker is busy and the queue is full', async () => {
    const server = await listen({ WORKER_POOL_SIZE: '1', WORKER_QUEUE_MAX: '0', WORKER_TASK_BUDGET_MS: '8000' });
    try {
      const heavy = runningSiting(server.base + HEAVY.replace('k=100', 'k=99'));
      await until(() => workerPool().stats().busy > 0, 60_000);
      const r = await fetch(`${server.base}/analysis/nearest-shelters`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ points: points(600) }),
      });
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect((await r.json()).title).toBe('Server busy');
      // The siting only had to hold the one worker: its client leaves, which stops it.
      await heavy.leave();
      // the pool took work again afterwards, on the worker started in place of the stopped one
      const ok = await fetch(`${server.base}/analysis/nearest-shelters`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ points: points(600) }),
      });
      expect(ok.status).toBe(200);
      expect((await ok.json()).results).toHaveLength(600);
    } finally {
      await server.close();
    }
  });

  it('drops a queued task when its client disconnects', async () => {
    const server = await listen({ WORKER_POOL_SIZE: '1', WORKER_QUEUE_MAX: '4', WORKER_TASK_BUDGET_MS: '8000' });
    // Two sitings hold the one worker, one running and one queued, so the task below is still in
    // the queue when its client leaves, however slow the machine. Behind one siting alone it was
    // not always: a siting that reached its budget first let the task start running.
    const sitings: AbortController[] = [];
    const siting = (k: number) => {
      const ac = new AbortController();
      sitings.push(ac);
      fetch(server.base + HEAVY.replace('k=100', `k=${k}`), { signal: ac.signal }).catch(() => {});
    };
    try {
      siting(98);
      await until(() => workerPool().stats().busy > 0, 60_000);
      siting(97);
      await until(() => workerPool().stats().queued === 1, 60_000);
      const abandonedBefore = workerPool().stats().abandoned;
      const ac = new AbortController();
      const dropped = fetch(`${server.base}/analysis/nearest-shelters`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ points: points(700) }),
        signal: ac.signal,
      }).catch((e: Error) => e.name);
      await until(() => workerPool().stats().queued === 2, 60_000);
      ac.abort();
      expect(await dropped).toBe('AbortError');
      await until(() => workerPool().stats().abandoned === abandonedBefore + 1, 5000);
      // A running task whose client leaves is stopped too: the test above.
    } finally {
      for (const ac of sitings) ac.abort();
      await until(() => workerPool().stats().busy === 0 && workerPool().stats().queued === 0, 15_000);
      await server.close();
    }
  });
});
