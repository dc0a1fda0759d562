import { setMaxListeners } from 'node:events';
import type { StatementScope } from './ports.ts';

/** Why work was dropped: nobody is waiting for the answer any more. */
export class ClientGoneError extends Error {
  readonly code = 'CLIENT_GONE';
  constructor() {
    super('the client disconnected before the answer was ready');
    this.name = 'AbortError';
  }
}

/**
 * `scope` with `signal` in place of its client's disconnect signal (the kind, start,
 * read consistency and written version stay): for a computation shared by several
 * requests through a cache, which one leaving client must not cancel for the others,
 * and which the cache stops (`signal`) when the last of them has left.
 */
export function sharedScope(scope: StatementScope | undefined, signal: AbortSignal): StatementScope | undefined {
  return scope && { ...scope, signal };
}

/**
 * One computation wanted by several requests at once (identical requests arriving
 * together, an analysis cache entry being computed). It runs in the scope of the
 * request that started it with a signal of its own in place of that client's
 * (`sharedScope`): one leaving client does not stop it for the others. When
 * the last client waiting for it has left, it is stopped (its worker task
 * terminated, its statements cancelled) and its owner lets go of it (`release`), so
 * a later request starts afresh. A caller outside any request
 * (start-up, background work) cannot leave: it keeps the computation running.
 *
 * Its time limit is that of the latest request waiting for it, not of the first: on
 * the embedded backend no statement starts after its scope's start + the kind's limit
 * (server/db/deadline.ts), and a request that joined late must not get the first
 * one's timeout while its own time is not up. A caller without a deadline (outside
 * any request, or work that outlives its request) lifts it.
 */
export class SharedWork<T> {
  readonly result: Promise<T>;
  /** The scope the computation runs in: its `started` moves on as later requests join. */
  private readonly scope: StatementScope | undefined;
  private settled = false;
  /** Requests waiting for the result whose clients are still there. */
  private waiters = 0;
  private pinned = false;
  private readonly stop = new AbortController();

  /**
   * `scope`: the request that starts it (none: start-up or background work); `compute` runs
   * in `sharedScope` of it. `release` lets its owner (a map entry, a slot) let go of it:
   * it is called when the last waiting client has left, when it fails, and when it
   * succeeds unless `keepResult` (the owner is a cache of results).
   */
  constructor(
    scope: StatementScope | undefined,
    compute: (scope: StatementScope | undefined) => Promise<T>,
    private readonly release: (work: SharedWork<T>) => void = () => {},
    keepResult = false,
  ) {
    // Every statement of the computation listens to its signal, many at once: no warning past 10.
    setMaxListeners(0, this.stop.signal);
    this.scope = sharedScope(scope, this.stop.signal);
    this.result = compute(this.scope);
    this.result.then(
      () => {
        this.settled = true;
        if (!keepResult) release(this);
      },
      () => {
        this.settled = true;
        release(this);
      },
    );
  }

  /** The result for request `scope`, whose client (its `signal`; none: nobody's request) may leave before it is ready. */
  wait(scope: StatementScope | undefined): Promise<T> {
    if (this.settled) return this.result;
    const signal = scope?.signal;
    if (signal?.aborted) return Promise.reject(new ClientGoneError());
    this.joinDeadline(scope);
    if (!signal) {
      this.pinned = true;
      return this.result;
    }
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
          this.release(this);
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

  /** The computation now also works for `scope`: its deadline becomes the later of the two, or none. */
  private joinDeadline(scope: StatementScope | undefined): void {
    const shared = this.scope;
    if (shared?.started === undefined) return;
    const started = scope?.started;
    if (started === undefined) shared.started = undefined;
    else if (started > shared.started) shared.started = started;
  }
}

/**
 * A value computed once, when first asked for, and then kept: for the request of `scope`.
 * The computation runs in the scope of the first asker and is shared by those asking
 * meanwhile (SharedWork); one that fails, or that every asker left, is made again by the next.
 */
export function sharedOnce<T>(compute: (scope: StatementScope | undefined) => Promise<T>): (scope: StatementScope | undefined) => Promise<T> {
  let work: SharedWork<T> | undefined;
  return (scope) => {
    work ??= new SharedWork(
      scope,
      compute,
      (w) => {
        if (work === w) work = undefined;
      },
      true,
    );
    return work.wait(scope);
  };
}

/**
 * The shared work under `key` in `map` (computations under way, or kept results), started
 * as `compute` in `scope` when there is none. It leaves the map when it is abandoned or
 * fails, and when it succeeds unless `keepResult`: a later request then starts afresh.
 */
export function sharedIn<T>(
  map: Map<string, SharedWork<T>>,
  key: string,
  scope: StatementScope | undefined,
  compute: (scope: StatementScope | undefined) => Promise<T>,
  keepResult = false,
): SharedWork<T> {
  let work = map.get(key);
  if (!work) {
    work = new SharedWork(
      scope,
      compute,
      (w) => {
        if (map.get(key) === w) map.delete(key);
      },
      keepResult,
    );
    map.set(key, work);
  }
  return work;
}
