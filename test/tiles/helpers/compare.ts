import type { DecodedFeature, DecodedTile } from './decode.ts';

export interface Tolerance {
  /** Units each coordinate may differ by inside the tile (rounding: one unit per axis). */
  unit: number;
  /**
   * Units allowed for vertices in the buffer beyond the tile edge: where an outline
   * is clipped there depends on how each engine simplified the part outside, and
   * the buffer is never drawn.
   */
  buffer: number;
  extent: number;
}

export const ONE_UNIT: Tolerance = { unit: 1, buffer: 4, extent: 4096 };

/**
 * Compares two decoded tiles feature by feature: same layers, same features
 * (matched by MVT id, by the `id` property of text-id layers, or — for clusters —
 * by their counts), same properties, and positions: every vertex of one geometry
 * lies within one unit per axis (Euclidean √2) of the other's outline.
 * Returns the differences in words; an empty list means equal.
 */
export function compareTiles(a: DecodedTile, b: DecodedTile, tolerance: Tolerance = ONE_UNIT): string[] {
  const diffs: string[] = [];
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const name of names) {
    const fa = a[name] ?? [];
    const fb = b[name] ?? [];
    if (!a[name] || !b[name]) {
      diffs.push(`${name}: layer only in ${a[name] ? 'first' : 'second'} tile (${fa.length || fb.length} features)`);
      continue;
    }
    const byKey = (fs: DecodedFeature[]) => {
      const m = new Map<string, DecodedFeature[]>();
      for (const f of fs) {
        const k = featureKey(f);
        m.set(k, [...(m.get(k) ?? []), f]);
      }
      return m;
    };
    const ma = byKey(fa);
    const mb = byKey(fb);
    for (const [k, list] of ma) {
      const other = mb.get(k) ?? [];
      if (other.length !== list.length) {
        diffs.push(`${name} ${k}: ${list.length} vs ${other.length} features`);
        continue;
      }
      // Same key (clusters with equal counts): pair them by position.
      const remaining = [...other];
      for (const f of list) {
        let best = 0;
        let bestDist = Infinity;
        remaining.forEach((g, i) => {
          const d = Math.hypot(f.geometry[0][0][0] - g.geometry[0][0][0], f.geometry[0][0][1] - g.geometry[0][0][1]);
          if (d < bestDist) [best, bestDist] = [i, d];
        });
        const g = remaining.splice(best, 1)[0];
        diffs.push(...compareFeature(`${name} ${k}`, f, g, tolerance));
      }
    }
    for (const [k, list] of mb) if (!ma.has(k)) diffs.push(`${name} ${k}: only in second tile (${list.length})`);
  }
  return diffs;
}

function featureKey(f: DecodedFeature): string {
  if (f.id !== undefined) return `#${f.id}`;
  if (f.properties.id !== undefined) return `id=${f.properties.id}`;
  if (f.properties.cluster) return `cluster ${JSON.stringify(sorted(f.properties))}`;
  return `anonymous ${JSON.stringify(sorted(f.properties))}`;
}

function sorted(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([x], [y]) => x.localeCompare(y)));
}

function compareFeature(where: string, f: DecodedFeature, g: DecodedFeature, tolerance: Tolerance): string[] {
  const diffs: string[] = [];
  if (f.type !== g.type) diffs.push(`${where}: type ${f.type} vs ${g.type}`);
  const pa = JSON.stringify(sorted(f.properties));
  const pb = JSON.stringify(sorted(g.properties));
  if (pa !== pb) diffs.push(`${where}: properties ${pa} vs ${pb}`);
  const ab = outlineDistance(f, g, tolerance.extent);
  const ba = outlineDistance(g, f, tolerance.extent);
  const inside = Math.max(ab.inside, ba.inside);
  const buffer = Math.max(ab.buffer, ba.buffer);
  if (inside > tolerance.unit * Math.SQRT2 + 1e-9) diffs.push(`${where}: positions differ by ${inside.toFixed(2)} units`);
  if (buffer > tolerance.buffer + 1e-9) diffs.push(`${where}: positions in the buffer differ by ${buffer.toFixed(2)} units`);
  return diffs;
}

/**
 * Largest distance from a vertex of `f` to the nearest vertex (points) or segment
 * (lines, rings) of `g`, separately for vertices inside the tile and in the buffer.
 */
export function outlineDistance(f: DecodedFeature, g: DecodedFeature, extent = 4096): { inside: number; buffer: number } {
  const worst = { inside: 0, buffer: 0 };
  const gParts = g.geometry;
  for (const ring of f.geometry) {
    for (const [x, y] of ring) {
      let best = Infinity;
      for (const part of gParts) {
        if (g.type === 1 || part.length === 1) {
          for (const [px, py] of part) best = Math.min(best, Math.hypot(x - px, y - py));
          continue;
        }
        for (let i = 1; i < part.length; i++) best = Math.min(best, segmentDistance(x, y, part[i - 1], part[i]));
      }
      const where = x >= 0 && x <= extent && y >= 0 && y <= extent ? 'inside' : 'buffer';
      worst[where] = Math.max(worst[where], best);
    }
  }
  return worst;
}

function segmentDistance(x: number, y: number, [ax, ay]: [number, number], [bx, by]: [number, number]): number {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / len2));
  return Math.hypot(x - (ax + t * dx), y - (ay + t * dy));
}
