import type { StatementScope } from '../db/types.ts';
import { ClientGoneError, sharedScope } from './request-scope.ts';

/**
 * One computation wanted by several requests at once (identical requests arriving
 * together, an analysis cache entry being computed). It runs in the scope of the
 * request that started it with a signal of its own in place of that client's
 * (`sharedScope`): one leaving client does not stop it for the others. When
 * the last client waiting for it has left, it is stopped (its worker task
 * terminated, its statements cancelled) and `onAbandoned` runs, so its owner can
 * forget it and a later request starts afresh. A caller outside any request
 * (start-up, background work) cannot leave: it keeps the computation running.
 */
export class SharedWork<T> {
  readonly result: Promise<T>;
  private settled = false;
  /** Requests waiting for the result whose clients are still there. */
  private waiters = 0;
  private pinned = false;
  private readonly stop = new AbortController();

  /** `scope`: the request that starts it (none: start-up or background work); `compute` runs in `sharedScope` of it. */
  constructor(
    scope: StatementScope | undefined,
    compute: (scope: StatementScope | undefined) => Promise<T>,
    private readonly onAbandoned: () => void = () => {},
  ) {
    this.result = compute(sharedScope(scope, this.stop.signal));
    const end = () => {
      this.settled = true;
    };
    this.result.then(end, end);
  }

  /** The result for a request whose client (`signal`; none: nobody's request) may leave before it is ready. */
  wait(signal: AbortSignal | undefined): Promise<T> {
    if (this.settled) return this.result;
    if (!signal) {
      this.pinned = true;
      return this.result;
    }
    if (signal.aborted) return Promise.reject(new ClientGoneError());
    this.waiters++;
    return new Promise<T>((resolve, reject) => {
      let waiting = true;
      const done = () => {
        if (!waiting) return false;
        waiting = false;
        signal.removeEventListener('abort', leave);
        this.waiters--;
        return true;
      };
      const leave = () => {
        if (!done()) return;
        reject(new ClientGoneError());
        if (this.waiters === 0 && !this.pinned && !this.settled) {
          this.onAbandoned();
          this.stop.abort(new ClientGoneError());
        }
      };
      signal.addEventListener('abort', leave, { once: true });
      this.result.then(
        (v) => done() && resolve(v),
        (e: unknown) => done() && reject(e),
      );
    });
  }
}
