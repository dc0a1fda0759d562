import type { ChangeBus } from '../changes.ts';
import { ClientGoneError, currentScope, sharedByClients } from '../http/request-scope.ts';

/**
 * Results of analyses, keyed on what they depend on: the kind of analysis, the
 * district, the parsed parameters and the data version. Every committed edit
 * (ChangeBus) drops everything — analyses read several layers, and recomputing
 * one district takes well under a second — and the data-version part of the key
 * catches writes made by another process. Least recently used entries go first;
 * concurrent requests for the same key share one computation.
 *
 * A shared computation is not cancelled when one of the requests waiting for it
 * leaves, only when all of them have: then its worker task and statements are
 * stopped (it runs under a signal of its own, see `sharedByClients`), and it is
 * dropped from the cache, so a later request starts afresh. A caller outside any
 * request (start-up, a computed layer refreshed in the background) keeps it running.
 */
interface Entry {
  result: Promise<unknown>;
  settled: boolean;
  /** Requests waiting for the computation whose clients are still there. */
  waiters: number;
  /** A caller that cannot leave (no client) waits for it: it is never stopped. */
  pinned: boolean;
  stop: AbortController;
}

export class AnalysisCache {
  private readonly entries = new Map<string, Entry>();
  hits = 0;
  misses = 0;

  constructor(private readonly maxEntries: number) {}

  /** Drops every entry when an edit commits; returns the unsubscribe function. */
  invalidateOn(changes: ChangeBus): () => void {
    return changes.on(() => this.clear());
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  async get<T>(key: string, compute: () => Promise<T>): Promise<T> {
    const signal = currentScope()?.signal;
    if (signal?.aborted) throw new ClientGoneError();
    let entry = this.entries.get(key);
    if (entry) {
      this.hits++;
      this.entries.delete(key); // re-insert: most recently used last
      this.entries.set(key, entry);
    } else {
      this.misses++;
      entry = this.start(key, compute);
    }
    return (await this.wait(key, entry, signal)) as T;
  }

  private start(key: string, compute: () => Promise<unknown>): Entry {
    const stop = new AbortController();
    const entry: Entry = { result: sharedByClients(stop.signal, compute), settled: false, waiters: 0, pinned: false, stop };
    this.entries.set(key, entry);
    entry.result.then(
      () => (entry.settled = true),
      () => {
        entry.settled = true;
        // a failed computation is not cached
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return entry;
  }

  /** The entry's result for one caller, who may leave before it is ready. */
  private wait(key: string, entry: Entry, signal: AbortSignal | undefined): Promise<unknown> {
    if (entry.settled) return entry.result;
    if (!signal) {
      entry.pinned = true;
      return entry.result;
    }
    entry.waiters++;
    return new Promise((resolve, reject) => {
      let waiting = true;
      const done = () => {
        if (!waiting) return false;
        waiting = false;
        signal.removeEventListener('abort', leave);
        entry.waiters--;
        return true;
      };
      const leave = () => {
        if (!done()) return;
        reject(new ClientGoneError());
        if (entry.waiters === 0 && !entry.pinned && !entry.settled) {
          // nobody is waiting any more: stop the work and forget it
          if (this.entries.get(key) === entry) this.entries.delete(key);
          entry.stop.abort(new ClientGoneError());
        }
      };
      signal.addEventListener('abort', leave, { once: true });
      entry.result.then(
        (v) => done() && resolve(v),
        (e: unknown) => done() && reject(e),
      );
    });
  }
}

/** A stable key: the same parameters in any order give the same string. */
export function cacheKey(kind: string, parts: Record<string, unknown>): string {
  return `${kind}:${JSON.stringify(sortKeys(parts))}`;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, sortKeys(x)]));
  return v;
}
