import os from 'node:os';
import type { Config } from '../config.ts';
import { WorkerPool, type WorkerPoolOptions } from './pool.ts';

/**
 * The process's one worker pool. The app configures it from WORKER_* settings
 * (server/config.ts) when it is built; code that runs heavy computations asks
 * for it with `workerPool()`.
 */
export const DEFAULT_WORKER_POOL: WorkerPoolOptions = {
  // One thread per core beyond the one serving HTTP, at least one, two on the usual 2-core machine.
  size: Math.max(2, Math.min(8, os.availableParallelism() - 1)),
  maxQueue: 16,
  taskBudgetMs: 2000,
  nice: 0,
};

/** The pool's options from the configuration (WORKER_*). */
export function workerPoolOptions(config: Pick<Config, 'WORKER_POOL_SIZE' | 'WORKER_QUEUE_MAX' | 'WORKER_TASK_BUDGET_MS' | 'WORKER_NICE'>): WorkerPoolOptions {
  return {
    size: config.WORKER_POOL_SIZE ?? DEFAULT_WORKER_POOL.size,
    maxQueue: config.WORKER_QUEUE_MAX,
    taskBudgetMs: config.WORKER_TASK_BUDGET_MS,
    nice: config.WORKER_NICE,
  };
}

let pool: WorkerPool | null = null;
let options: WorkerPoolOptions = DEFAULT_WORKER_POOL;

/** Sets the options of the pool; a running pool with other options is replaced (its tasks finish on the old one). */
export function configureWorkerPool(next: Partial<WorkerPoolOptions>): WorkerPool {
  const merged = { ...DEFAULT_WORKER_POOL, ...next };
  if (pool && JSON.stringify(merged) !== JSON.stringify(options)) {
    const old = pool;
    pool = null;
    setTimeout(() => void old.close(), merged.taskBudgetMs * 2).unref();
  }
  options = merged;
  return workerPool();
}

export function workerPool(): WorkerPool {
  pool ??= new WorkerPool(options);
  return pool;
}

/** Stops the workers (shutdown). */
export async function closeWorkerPool(): Promise<void> {
  const p = pool;
  pool = null;
  await p?.close();
}
