import type { Db, StatementScope } from '../db/types.ts';
import { scopedDb } from '../db/scoped.ts';
import { currentDataVersion } from '../db/data-version.ts';
import { sharedIn, type SharedWork } from '../../catalog/shared-work.ts';
import type { LayerDef } from '../../catalog/layers.ts';
import { queryHash } from './cursor.ts';
import { countMatching, estimateMatching, type ItemsFilter, type TableFacts } from './sql.ts';

/**
 * `numberMatched` of items responses. An exact count(*) over a large table
 * costs more than the page itself, and a next-link walk would pay it on every
 * page, so counts are cached per collection, filter and data version (every
 * edit, import and check-in bumps the version, which empties the cache).
 *
 * Modes (`numberMatched=` parameter):
 * - `auto` (default): exact (cached) unless the planner estimates more than
 *   `exactMax` matches; then the planner's estimate, marked as such.
 * - `exact`: always exact (cached).
 * - `estimate`: the planner's row estimate (EXPLAIN), no scan.
 * - `none`: no numberMatched at all.
 */
export type MatchedMode = 'auto' | 'exact' | 'estimate' | 'none';

export interface Matched {
  value: number;
  kind: 'exact' | 'estimate';
}

/** Entries kept per data version; a long tail of distinct filters cannot grow memory without bound. */
const MAX_ENTRIES = 5000;

export class MatchedCounts {
  private version = -1;
  private readonly cache = new Map<string, SharedWork<Matched>>();

  constructor(
    private readonly db: Db,
    private readonly exactMax: number,
  ) {}

  /** The data version, read once per request (one small row) so edits from every process invalidate; `scope`: the request's. */
  dataVersion(scope: StatementScope | undefined): Promise<number> {
    return currentDataVersion(scopedDb(this.db, scope));
  }

  /**
   * numberMatched for `filter` on `layer` at `version`; undefined for mode `none`. A count is
   * made in the `scope` of the request that first asks for it; requests asking meanwhile
   * share it (SharedWork: it stops when the last of them has left), and a failed one is
   * made again by the next.
   */
  async get(
    layer: LayerDef,
    facts: TableFacts,
    filter: ItemsFilter,
    mode: MatchedMode,
    version: number,
    scope: StatementScope | undefined,
    computed?: string,
  ): Promise<Matched | undefined> {
    if (mode === 'none') return undefined;
    // Computed rows arrive as one parameter: counting them is cheap and they change with the analysis.
    if (computed !== undefined) return { value: await countMatching(scopedDb(this.db, scope), layer, facts, filter, computed), kind: 'exact' };
    if (version !== this.version) {
      this.cache.clear();
      this.version = version;
    }
    const key = `${layer.id}:${queryHash(filter, [])}`;
    const exact = () => this.remember(key, scope, async (db) => ({ value: await countMatching(db, layer, facts, filter), kind: 'exact' as const }));
    const estimate = () => this.remember(`${key}~`, scope, async (db) => ({ value: await estimateMatching(db, layer, facts, filter), kind: 'estimate' as const }));
    if (mode === 'exact') return exact();
    if (mode === 'estimate') return estimate();
    const known = this.cache.get(key);
    if (known) return known.wait(scope);
    const guess = await estimate();
    return guess.value > this.exactMax ? guess : exact();
  }

  /** The count under `key`, made by `compute` with the database bound to the shared scope unless remembered or under way. */
  private remember(key: string, scope: StatementScope | undefined, compute: (db: Db) => Promise<Matched>): Promise<Matched> {
    if (!this.cache.has(key) && this.cache.size >= MAX_ENTRIES) this.cache.clear();
    // A failed or abandoned count is not remembered; the next request tries again.
    return sharedIn(this.cache, key, scope, (shared) => compute(scopedDb(this.db, shared)), true).wait(scope);
  }
}
