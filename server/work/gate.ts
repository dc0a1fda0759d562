import { serverBusy } from '../http/problem.ts';
import { ClientGoneError } from '../../catalog/shared-work.ts';

/**
 * At most `concurrency` jobs of one kind at a time, at most `maxQueue` waiting; a job
 * arriving at a full queue is refused at once with 503 + Retry-After instead of waiting
 * ever longer. A waiting job whose client leaves (`signal`, by default the current
 * request's) leaves the queue.
 *
 * For work that runs outside the worker pool and holds a scarce process-wide resource
 * while it runs: rasterising a static map holds one of libuv's four threads (sharp runs
 * libvips on them), which file reads, compression and DNS also need.
 */
export interface GateOptions {
  concurrency: number;
  maxQueue: number;
  /** Seconds a refused client is asked to wait (Retry-After). */
  retryAfterS: number;
  /** Says what is busy, in the 503's detail: "every … slot is busy". */
  what: string;
}

interface Waiting {
  start: () => void;
}

export class Gate {
  private active = 0;
  private readonly queue: Waiting[] = [];
  readonly counters = { completed: 0, rejectedFull: 0, abandoned: 0 };

  constructor(readonly options: GateOptions) {}

  stats() {
    return { concurrency: this.options.concurrency, active: this.active, queued: this.queue.length, ...this.counters };
  }

  async run<T>(job: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    if (signal?.aborted) throw new ClientGoneError();
    if (this.active >= this.options.concurrency) await this.waitForSlot(signal);
    else this.active++;
    try {
      return await job();
    } finally {
      this.counters.completed++;
      this.release();
    }
  }

  /** Resolves once a slot is handed to this job (counted as active by the one who hands it). */
  private waitForSlot(signal: AbortSignal | undefined): Promise<void> {
    if (this.queue.length >= this.options.maxQueue) {
      this.counters.rejectedFull++;
      return Promise.reject(
        serverBusy(`every ${this.options.what} slot is busy and ${this.options.maxQueue} requests are waiting; try again shortly`, this.options.retryAfterS),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const i = this.queue.indexOf(entry);
        if (i < 0) return;
        this.queue.splice(i, 1);
        this.counters.abandoned++;
        reject(new ClientGoneError());
      };
      const entry: Waiting = {
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(entry);
    });
  }

  /** The finished job's slot goes straight to the next in the queue, or back to the gate. */
  private release(): void {
    const next = this.queue.shift();
    if (next) next.start();
    else this.active--;
  }
}
