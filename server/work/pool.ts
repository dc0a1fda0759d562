import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { HttpProblem, serverBusy } from '../http/problem.ts';
import { ClientGoneError } from '../../catalog/shared-work.ts';
import type { TaskName, Tasks } from './tasks.ts';
import { threadCpuMs } from './thread-cpu.ts';

/**
 * A small pool of worker threads for CPU-heavy pure computations (siting,
 * coverage analyses, big nearest-shelter batches, import parsing), so one
 * request never holds the event loop that every other request needs.
 *
 * - At most `size` tasks run at once; at most `maxQueue` wait. A full queue is
 *   a 503 with Retry-After at once, instead of an ever longer wait.
 * - A task that uses more than `taskBudgetMs` of CPU time is stopped (its worker
 *   is terminated and replaced) and answered 422: that bounds the CPU any one
 *   request can take. CPU time, not time on the clock (Linux; elsewhere the
 *   clock): the cores are shared (and the workers may run at a lower priority,
 *   WORKER_NICE), and a computation that waited for a busy core has not cost
 *   more. One that has had less than its budget
 *   of CPU after WALL_BUDGET_FACTOR × the budget on the clock is stopped too,
 *   with 503 + Retry-After: the server is too busy, the request is not too big.
 * - A task whose request's client has gone is dropped from the queue, or its
 *   worker terminated when it already runs.
 *
 * Inputs and outputs are plain data (structured clone): the workers share
 * nothing with the main thread.
 */
export interface WorkerPoolOptions {
  size: number;
  maxQueue: number;
  taskBudgetMs: number;
  /**
   * Nice value of the worker threads (Linux; 0 = unchanged). When the cores are
   * busy, the thread answering tiles, items and writes goes first, and a heavy
   * analysis takes what is left over instead of half of what there is.
   */
  nice?: number;
  /** How many times its CPU budget a task may take on the clock while it waits for a busy core (default WALL_BUDGET_FACTOR). */
  wallBudgetFactor?: number;
}

interface Job {
  task: TaskName;
  input: unknown;
  signal?: AbortSignal;
  budgetMs: number;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  onAbort?: () => void;
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  /** The worker has loaded its modules and takes tasks. */
  loaded: boolean;
  job: Job | null;
  timer: NodeJS.Timeout | null;
  /** The kernel's id of the worker's thread, to read its CPU time (undefined: not on Linux). */
  tid?: number;
  /** The thread's CPU time (ms) and the clock when the current job started on it. */
  cpuAtStart?: number;
  startedAt: number;
}

/** CPU time (ms) the worker thread of `slot` has used, where it can be read. */
const cpuMsOf = (slot: Slot) => (slot.tid === undefined ? undefined : threadCpuMs(slot.tid));

/** How many times its CPU budget a task may take on the clock while it waits for a busy core. */
export const WALL_BUDGET_FACTOR = 5;
/** Shortest wait before the budget is looked at again (the CPU time is counted in 10 ms ticks). */
const MIN_RECHECK_MS = 50;

/**
 * In the bundle (server/build.ts) this module is part of server/dist/main.mjs, beside the
 * bundled worker.mjs and a copy of bootstrap.mjs; from the sources it sits beside worker.ts.
 * ONEMAP_WORKER_MODULE (a file URL) names another worker module: the test projects, whose
 * apps run from the sources, point it at the bundle's worker.mjs, so a worker thread loads
 * plain JavaScript instead of starting tsx's loader and transforming the modules again
 * (a thread's own CPU to start: 150–170 ms through tsx, 50–70 ms from the bundle; vitest.config.ts).
 */
const BUNDLED = import.meta.url.endsWith('.mjs');
const BOOTSTRAP = new URL('./bootstrap.mjs', import.meta.url);
const ENTRY =
  z
    .string()
    .regex(/^file:\/\/\/.+\.m?[jt]s$/, 'ONEMAP_WORKER_MODULE: a file URL of a worker module (file:///….mjs)')
    .optional()
    .parse(process.env.ONEMAP_WORKER_MODULE || undefined) ?? new URL(BUNDLED ? './worker.mjs' : './worker.ts', import.meta.url).href;

/** Seconds a client should wait before asking again when the pool is saturated. */
export const POOL_RETRY_AFTER_S = 2;

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private closed = false;
  /**
   * Tasks finished; stopped for using more CPU time than their budget (422: the request is too
   * costly); stopped for not getting that CPU time in WALL_BUDGET_FACTOR × the budget on the clock
   * (503: the cores are busy, the request is fine); dropped because the client left; refused
   * because the queue was full.
   */
  readonly counters = { completed: 0, overBudget: 0, starved: 0, abandoned: 0, rejectedFull: 0 };

  constructor(readonly options: WorkerPoolOptions) {}

  /** Starts the workers now (each loads the TypeScript modules, which takes a moment), not on the first request. */
  warm(): Promise<void> {
    while (this.slots.length < this.options.size) this.slots.push(this.spawn());
    return Promise.all(this.slots.map((s) => s.ready)).then(() => undefined);
  }

  stats() {
    return { size: this.options.size, loaded: this.slots.filter((s) => s.loaded).length, busy: this.slots.filter((s) => s.job).length, queued: this.queue.length, ...this.counters };
  }

  /** Runs `task(input)` on a worker; aborted by `signal` (its request's client left; none: nobody's request). */
  run<K extends TaskName>(
    task: K,
    input: Parameters<Tasks[K]>[0],
    signal: AbortSignal | undefined,
    /** A larger budget for work whose size is bounded otherwise (imports: IMPORT_MAX_MB). */
    budgetMs = this.options.taskBudgetMs,
  ): Promise<Awaited<ReturnType<Tasks[K]>>> {
    if (this.closed) return Promise.reject(new HttpProblem(503, 'Shutting down', 'the server is shutting down'));
    if (signal?.aborted) return Promise.reject(new ClientGoneError());
    while (this.slots.length < this.options.size) this.slots.push(this.spawn());
    const busy = this.slots.every((s) => s.job);
    if (busy && this.queue.length >= this.options.maxQueue) {
      this.counters.rejectedFull++;
      return Promise.reject(serverBusy(`every analysis worker is busy and ${this.options.maxQueue} requests are waiting; try again shortly`, POOL_RETRY_AFTER_S));
    }
    return new Promise((resolve, reject) => {
      const job: Job = { task, input, signal, budgetMs, resolve: resolve as (v: unknown) => void, reject };
      if (signal) {
        job.onAbort = () => this.abandon(job);
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.queue.push(job);
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) this.finish(job, new HttpProblem(503, 'Shutting down', 'the server is shutting down'), true);
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()));
  }

  private spawn(): Slot {
    const worker = new Worker(BOOTSTRAP, { workerData: { entry: ENTRY, nice: this.options.nice ?? 0 } });
    const slot: Slot = { worker, loaded: false, job: null, timer: null, ready: Promise.resolve(), startedAt: 0 };
    slot.ready = new Promise<void>((ready) => {
      const onFirst = (m: { ready?: boolean; tid?: number }) => {
        if (m?.ready) {
          worker.off('message', onFirst);
          slot.loaded = true;
          slot.tid = m.tid;
          ready();
          this.dispatch();
        }
      };
      worker.on('message', onFirst);
    });
    worker.on('message', (m: { ready?: boolean; ok?: boolean; value?: unknown; error?: { message: string; status?: number; param?: string } }) => {
      if (m?.ready || !slot.job) return;
      const job = slot.job;
      this.release(slot);
      this.counters.completed++;
      if (m.ok) this.finish(job, m.value, false);
      else {
        const e = m.error!;
        this.finish(job, e.status ? new HttpProblem(e.status, 'Invalid request', e.message, e.param ? [{ name: e.param, reason: e.message }] : []) : new Error(e.message), true);
      }
      this.dispatch();
    });
    worker.on('error', (err) => this.replace(slot, err));
    worker.on('exit', () => this.replace(slot, new Error('an analysis worker stopped')));
    // Workers must not keep a finished process (or test run) alive (after the listeners, which ref again).
    worker.unref();
    return slot;
  }

  /** A worker died or was terminated: fail its task (if any) and start a fresh one in its place. */
  private replace(slot: Slot, err: unknown): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    const job = slot.job;
    this.release(slot);
    this.slots.splice(i, 1);
    if (job) this.finish(job, err, true);
    if (!slot.loaded) {
      // It could not even load: respawning would loop. Fail what waits; the next run() tries again.
      for (const waiting of this.queue.splice(0)) this.finish(waiting, err, true);
      return;
    }
    if (!this.closed) {
      this.slots.push(this.spawn());
      this.dispatch();
    }
  }

  private release(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.job = null;
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.job || this.queue.length === 0) continue;
      if (!slot.loaded) continue; // it dispatches itself once loaded
      const job = this.queue.shift()!;
      slot.job = job;
      slot.startedAt = performance.now();
      slot.cpuAtStart = cpuMsOf(slot);
      this.watchBudget(slot, job, job.budgetMs);
      slot.worker.postMessage({ task: job.task, input: job.input });
    }
  }

  /**
   * Looks at the task's budget after `ms`: stopped (422) once it has used its CPU
   * budget, or (503) once it has waited WALL_BUDGET_FACTOR × the budget on the clock;
   * otherwise looked at again when it could have used the CPU time it has left.
   */
  private watchBudget(slot: Slot, job: Job, ms: number): void {
    slot.timer = setTimeout(() => {
      if (slot.job !== job) return;
      const now = cpuMsOf(slot);
      const wallMs = performance.now() - slot.startedAt;
      // without the thread's CPU time (not Linux, or the thread gone), the clock
      const cpuMs = now === undefined || slot.cpuAtStart === undefined ? wallMs : now - slot.cpuAtStart;
      const wallLimitMs = job.budgetMs * (this.options.wallBudgetFactor ?? WALL_BUDGET_FACTOR);
      if (cpuMs < job.budgetMs && wallMs < wallLimitMs) {
        this.watchBudget(slot, job, Math.max(MIN_RECHECK_MS, job.budgetMs - cpuMs));
        return;
      }
      if (cpuMs >= job.budgetMs) {
        this.counters.overBudget++;
        const p = new HttpProblem(
          422,
          'Request too costly',
          `the computation needs more than the ${job.budgetMs} ms of CPU time allowed per request; narrow it (smaller radius, fewer candidates or a smaller k)`,
        );
        this.stop(slot, p);
      } else {
        this.counters.starved++;
        this.stop(slot, serverBusy(`the computation did not get its ${job.budgetMs} ms of CPU time within ${wallLimitMs / 1000} s: the server is busy; try again shortly`, POOL_RETRY_AFTER_S));
      }
    }, ms);
    slot.timer.unref();
  }

  /** Stops the task on `slot` by terminating its worker (JavaScript cannot be interrupted otherwise). */
  private stop(slot: Slot, reason: unknown): void {
    const job = slot.job;
    this.release(slot);
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    if (job) this.finish(job, reason, true);
    void slot.worker.terminate();
    if (!this.closed) {
      this.slots.push(this.spawn());
      this.dispatch();
    }
  }

  private abandon(job: Job): void {
    this.counters.abandoned++;
    const q = this.queue.indexOf(job);
    if (q >= 0) {
      this.queue.splice(q, 1);
      this.finish(job, new ClientGoneError(), true);
      return;
    }
    const slot = this.slots.find((s) => s.job === job);
    if (slot) this.stop(slot, new ClientGoneError());
  }

  private finish(job: Job, value: unknown, failed: boolean): void {
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    if (failed) job.reject(value);
    else job.resolve(value);
  }
}
