import type { ChangeBus } from '../changes.ts';
import type { StatementScope } from '../db/types.ts';
import { ClientGoneError, sharedIn, type SharedWork } from '../../catalog/shared-work.ts';

/**
 * Results of analyses, keyed on what they depend on: the kind of analysis, the
 * district, the parsed parameters and the data version. Every committed edit
 * (ChangeBus) drops everything — analyses read several layers, and recomputing
 * one district takes well under a second — and the data-version part of the key
 * catches writes made by another process. Least recently used entries go first;
 * concurrent requests for the same key share one computation, which is stopped
 * and forgotten only when every request waiting for it has left (SharedWork).
 */
export class AnalysisCache {
  private readonly entries = new Map<string, SharedWork<unknown>>();
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

  /** The result for `key`, computed by `compute` (in the scope it is handed) unless cached; `scope`: the asking request's. */
  async get<T>(key: string, scope: StatementScope | undefined, compute: (scope: StatementScope | undefined) => Promise<T>): Promise<T> {
    // nothing is computed for a client that has already left
    if (scope?.signal?.aborted) throw new ClientGoneError();
    let entry = this.entries.get(key);
    if (entry) {
      this.hits++;
      this.entries.delete(key); // re-insert: most recently used last
      this.entries.set(key, entry);
    } else {
      this.misses++;
      // a failed or abandoned computation is not cached
      entry = sharedIn(this.entries, key, scope, compute, true);
      while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    }
    return (await entry.wait(scope)) as T;
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
