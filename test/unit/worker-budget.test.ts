import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WorkerPool } from '../../server/work/pool.ts';
import { packCells } from '../../server/analysis/packed-cells.ts';
import type { PopulationCell } from '../../server/analysis/model.ts';
import { HttpProblem } from '../../server/http/problem.ts';

/**
 * The worker pool's budget is CPU time: a computation that waits for a busy core
 * (other work on the cores, or the workers' lower priority) is not stopped as too costly; one that
 * computes past its budget is (422); one that cannot get its CPU time within a
 * few times its budget on the clock is stopped as the server being busy (503).
 */

/** An exact siting choosing `k` of 40 candidates: k = 6 is ~0.1 s of CPU, k = 8 several seconds. */
function exactSiting(k: number) {
  const cells: PopulationCell[] = Array.from({ length: 40 }, (_, i) => ({ id: i + 1, lon: 100 + i * 0.01, lat: 0, residents: 10 + i, streetId: null, communityId: null }));
  return {
    cells: packCells(cells),
    candidates: cells.map((c) => ({ lon: c.lon, lat: c.lat, source: 'cells', id: c.id })),
    radiusM: 10,
    demand: Float64Array.from(cells, (c) => c.residents),
    k,
    capacity: null,
    exactMaxSubsets: 1e15,
  };
}

const pools: WorkerPool[] = [];
const hogs: ChildProcess[] = [];
afterEach(async () => {
  for (const h of hogs.splice(0)) h.kill('SIGKILL');
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

async function pool(options: Partial<ConstructorParameters<typeof WorkerPool>[0]>): Promise<WorkerPool> {
  const p = new WorkerPool({ size: 1, maxQueue: 1, taskBudgetMs: 500, ...options });
  pools.push(p);
  await p.warm();
  return p;
}

/** Keeps every core busy with processes at normal priority until the test ends. */
async function busyCores(count = 2): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, () => {
      const hog = spawn(process.execPath, ['-e', 'process.stdout.write("go"); for (;;) {}'], { stdio: ['ignore', 'pipe', 'ignore'] });
      hogs.push(hog);
      return new Promise<void>((resolve) => hog.stdout!.once('data', () => resolve()));
    }),
  );
}

const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'done',
    (e: unknown) => (e instanceof HttpProblem ? e.status : e),
  );

describe.runIf(process.platform === 'linux')('the worker pool budget is CPU time', () => {
  it('a computation slowed by busy cores, using less CPU than its budget, is not stopped', async () => {
    // Its CPU time on this machine, measured on idle cores (the clock time is at least the CPU
    // time); the budget is twice that, so the computation stays within it however fast the machine.
    const idle = await pool({ taskBudgetMs: 60_000 });
    const t0 = performance.now();
    await idle.run('siting', exactSiting(6), undefined);
    const budget = Math.max(50, Math.ceil(2 * (performance.now() - t0)));
    const p = await pool({ nice: 10, taskBudgetMs: budget, wallBudgetFactor: 60 });
    await busyCores();
    const started = performance.now();
    await expect(outcome(p.run('siting', exactSiting(6), undefined))).resolves.toBe('done');
    // it did wait for a core: on the clock it took longer than its budget (at nice 10 against two
    // busy cores it gets about a tenth of one; were the cores idle, nothing would be shown)
    expect(performance.now() - started).toBeGreaterThan(budget);
    expect(p.stats()).toMatchObject({ overBudget: 0, starved: 0 });
  });

  it('a computation using more CPU than its budget is stopped with 422', async () => {
    const p = await pool({ taskBudgetMs: 300 });
    await expect(outcome(p.run('siting', exactSiting(8), undefined))).resolves.toBe(422);
    expect(p.stats()).toMatchObject({ overBudget: 1, starved: 0 });
  });

  it('a computation that cannot get its CPU time within the factor of its budget on the clock is stopped with 503', async () => {
    const p = await pool({ nice: 19, taskBudgetMs: 300, wallBudgetFactor: 2 });
    await busyCores();
    await expect(outcome(p.run('siting', exactSiting(8), undefined))).resolves.toBe(503);
    // Counted apart from the costly requests: an operator tells busy cores from heavy requests.
    expect(p.stats()).toMatchObject({ overBudget: 0, starved: 1 });
  });
});

describe('ONEMAP_WORKER_MODULE', () => {
  it('is refused unless it is the file URL of a module', async () => {
    vi.resetModules();
    vi.stubEnv('ONEMAP_WORKER_MODULE', 'worker.mjs');
    try {
      await expect(import('../../server/work/pool.ts')).rejects.toThrow(/ONEMAP_WORKER_MODULE: a file URL of a worker module/);
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
  });
});
