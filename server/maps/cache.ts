import { createHash } from 'node:crypto';
import type { FeatureChange } from '../changes.ts';
import type { BBox } from './params.ts';
import { geometryBBox } from '../geo/bbox.ts';

/**
 * Rendered images in memory, least recently used dropped first, bounded by count
 * and by bytes. An entry remembers which layers it drew and the lon/lat extent
 * it shows, so a committed edit (ChangeBus) drops exactly the images it could
 * have changed; the data version is part of every key as well, so edits made by
 * another process are never served stale either.
 */
export interface CachedImage {
  body: Buffer;
  contentType: string;
  etag: string;
  /** Layer ids whose features the image shows (requested and administrative outlines). */
  layers: ReadonlySet<string>;
  /** lon/lat extent of the map frame; null for images that show no data (legends). */
  extent: BBox | null;
}

export function etagOf(body: Buffer): string {
  return `"${createHash('sha1').update(body).digest('base64url').slice(0, 27)}"`;
}

const intersects = (a: BBox, b: BBox) => a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3];

export class ImageCache {
  private readonly entries = new Map<string, CachedImage>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly maxEntries: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  get(key: string): CachedImage | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      // Map keeps insertion order: re-inserting marks the entry most recently used.
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  set(key: string, image: CachedImage): void {
    if (image.body.length > this.maxBytes) return;
    this.delete(key);
    this.entries.set(key, image);
    this.bytes += image.body.length;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes && this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
      this.bytes -= entry.body.length;
    }
  }

  delete(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.bytes -= e.body.length;
  }

  /** Drops every image the change could have altered; returns how many were dropped. */
  invalidate(change: FeatureChange): number {
    const boxes = [change.bbox ?? null, geometryBBox(change.before), geometryBBox(change.after)].filter((b): b is BBox => b !== null);
    let dropped = 0;
    for (const [key, e] of [...this.entries]) {
      if (!e.extent || !e.layers.has(change.layer)) continue;
      // Without geometry we cannot tell where the edit was: drop every image of the layer.
      if (boxes.length === 0 || boxes.some((b) => intersects(b, e.extent!))) {
        this.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}
