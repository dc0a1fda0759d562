import type { OutgoingHttpHeaders } from 'node:http';
import { tileRange, tileWorldBBox, bboxIntersects, type TileCoord, type WorldBBox } from './tile-coords.ts';

/**
 * In-memory cache of finished tile responses, bounded in bytes and evicting the
 * least recently used, approximately: a hit only marks its entry (one store),
 * and eviction gives a marked entry a second chance, moving it to the back
 * unmarked (CLOCK, as PostgreSQL's buffer manager does). Moving the entry on
 * every hit (`Map` delete + set) cost a cached tile two more hash lookups of
 * its key. Entries remember their layers and tile so an edit drops exactly the
 * tiles over the changed feature (see `invalidate`) instead of the whole cache.
 * Every entry also holds its ready-made response headers so a cache hit is one
 * `writeHead` + `end`.
 */
export interface CachedTile {
  key: string;
  /** 200 with an MVT body, or 204 for an empty tile. */
  status: 200 | 204;
  body: Buffer;
  etag: string;
  layers: readonly string[];
  tile: TileCoord;
  /** Headers of a full answer (status 200/204). */
  headers: OutgoingHttpHeaders;
  /** Headers of a 304 answer to a matching If-None-Match. */
  notModifiedHeaders: OutgoingHttpHeaders;
  /** `headers` and `notModifiedHeaders` as `[name, value, …]` lists, made on the first answer (tiles/fast-path.ts). */
  headerList?: readonly string[];
  notModifiedList?: readonly string[];
  /**
   * The body compressed, per encoding, made once on the first request that asks
   * for it and kept with the entry (tiles/fast-path.ts `variantOf`).
   */
  variants?: Partial<Record<'br' | 'gzip', TileVariant>>;
  /**
   * May be answered before Express (tiles/fast-path.ts): false when earlier
   * middleware added request-dependent headers (Vary, Set-Cookie) to the response.
   */
  replayable: boolean;
  /** Asked for since eviction last passed it (TileCache's second chance). */
  recent?: boolean;
}

/** One encoded form of a cached tile: its bytes and the headers that go with them. */
export interface TileVariant {
  body: Buffer;
  etag: string;
  headers: OutgoingHttpHeaders;
  notModifiedHeaders: OutgoingHttpHeaders;
  headerList?: readonly string[];
  notModifiedList?: readonly string[];
}

export interface TileCacheStats {
  entries: number;
  bytes: number;
  maxBytes: number;
  hits: number;
  misses: number;
  evictions: number;
  invalidated: number;
}

// Bookkeeping per entry beyond the body: key string, header objects, map slots.
const ENTRY_OVERHEAD = 512;

export class TileCache {
  private readonly entries = new Map<string, CachedTile>();
  /** Bytes counted for each entry (its body plus the encoded variants added since). */
  private readonly sizes = new Map<string, number>();
  /** zoom → tile number (x * 2^z + y) → keys of the entries for that tile. */
  private readonly byTile = new Map<number, Map<number, Set<string>>>();
  private bytes = 0;
  private counters = { hits: 0, misses: 0, evictions: 0, invalidated: 0 };
  /**
   * Bumped by every invalidation. A tile rendered while an invalidation happened
   * may show the old data, so `set` refuses entries begun in an older epoch.
   */
  epoch = 0;

  constructor(readonly maxBytes: number) {}

  get enabled(): boolean {
    return this.maxBytes > 0;
  }

  /** The entry for `key`, marked recently used. */
  get(key: string): CachedTile | undefined {
    const entry = this.entries.get(key);
    if (!entry) {
      this.counters.misses++;
      return undefined;
    }
    this.counters.hits++;
    entry.recent = true;
    return entry;
  }

  /** Stores `entry` unless an invalidation happened since `startedEpoch` or it can never fit. */
  set(entry: CachedTile, startedEpoch: number): boolean {
    const size = sizeOf(entry);
    if (!this.enabled || startedEpoch !== this.epoch || size > this.maxBytes) return false;
    if (this.entries.has(entry.key)) this.remove(entry.key);
    entry.recent = false;
    this.entries.set(entry.key, entry);
    this.sizes.set(entry.key, size);
    this.index(entry).add(entry.key);
    this.bytes += size;
    this.evict();
    return true;
  }

  /** Counts `bytes` more for `entry` (an encoded variant was added to it), if it is still cached. */
  grew(entry: CachedTile, bytes: number): void {
    if (this.entries.get(entry.key) !== entry) return;
    this.sizes.set(entry.key, this.sizes.get(entry.key)! + bytes);
    this.bytes += bytes;
    this.evict();
  }

  /**
   * Drops the oldest entries not asked for since they were last passed, until the
   * cache fits; each marked entry on the way goes to the back unmarked. Ends: every
   * pass over an entry clears its mark.
   */
  private evict(): void {
    while (this.bytes > this.maxBytes) {
      const [key, oldest] = this.entries.entries().next().value as [string, CachedTile];
      if (oldest.recent) {
        oldest.recent = false;
        this.entries.delete(key);
        this.entries.set(key, oldest);
        continue;
      }
      this.remove(key);
      this.counters.evictions++;
    }
  }

  /**
   * Drops the entries that include `layer` and whose tile intersects one of
   * `areasAt(z)` (world coordinates). Returns how many were dropped.
   */
  invalidate(layer: string, areasAt: (z: number) => WorldBBox[]): number {
    this.epoch++;
    let dropped = 0;
    for (const [z, tiles] of [...this.byTile]) {
      const doomed: string[] = [];
      for (const area of areasAt(z)) doomed.push(...this.keysOver(layer, z, tiles, area));
      for (const key of doomed) if (this.remove(key)) dropped++;
    }
    this.counters.invalidated += dropped;
    return dropped;
  }

  private keysOver(layer: string, z: number, tiles: Map<number, Set<string>>, area: WorldBBox): string[] {
    const r = tileRange(area, z);
    const span = (r.x1 - r.x0 + 1) * (r.y1 - r.y0 + 1);
    const doomed: string[] = [];
    const collect = (keys: Set<string> | undefined) => {
      for (const key of keys ?? []) if (this.entries.get(key)?.layers.includes(layer)) doomed.push(key);
    };
    if (span <= tiles.size) {
      const n = 2 ** z;
      for (let x = r.x0; x <= r.x1; x++) for (let y = r.y0; y <= r.y1; y++) collect(tiles.get(x * n + y));
    } else {
      // Large areas at high zoom: test the cached tiles instead of enumerating the range.
      for (const keys of tiles.values()) {
        const first = this.entries.get(keys.values().next().value as string);
        if (first && bboxIntersects(tileWorldBBox(first.tile), area)) collect(keys);
      }
    }
    return doomed;
  }

  /** Drops every entry of `layer` (when a change cannot be located). */
  invalidateLayer(layer: string): number {
    this.epoch++;
    let dropped = 0;
    for (const [key, entry] of this.entries) if (entry.layers.includes(layer) && this.remove(key)) dropped++;
    this.counters.invalidated += dropped;
    return dropped;
  }

  clear(): void {
    this.epoch++;
    this.entries.clear();
    this.sizes.clear();
    this.byTile.clear();
    this.bytes = 0;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  stats(): TileCacheStats {
    return { entries: this.entries.size, bytes: this.bytes, maxBytes: this.maxBytes, ...this.counters };
  }

  private index(entry: CachedTile): Set<string> {
    const { z, x, y } = entry.tile;
    let tiles = this.byTile.get(z);
    if (!tiles) this.byTile.set(z, (tiles = new Map()));
    const id = x * 2 ** z + y;
    let keys = tiles.get(id);
    if (!keys) tiles.set(id, (keys = new Set()));
    return keys;
  }

  private remove(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    this.bytes -= this.sizes.get(key) ?? sizeOf(entry);
    this.sizes.delete(key);
    const { z, x, y } = entry.tile;
    const tiles = this.byTile.get(z);
    const id = x * 2 ** z + y;
    const keys = tiles?.get(id);
    keys?.delete(key);
    if (keys && keys.size === 0) tiles!.delete(id);
    if (tiles && tiles.size === 0) this.byTile.delete(z);
    return true;
  }
}

function sizeOf(entry: CachedTile): number {
  return entry.body.length + entry.key.length * 2 + ENTRY_OVERHEAD;
}
