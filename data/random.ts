/**
 * Seeded pseudo-random numbers for the demo data. Everything synthetic in
 * `data/` draws from here and never from Math.random, so the same seed gives
 * byte-identical output on every run and machine.
 */

/** mulberry32: 32-bit state, tiny and fast; plenty for synthetic geography. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a hash of a string: derives independent sub-seeds from names ("huadu/shelters"). */
export function hashSeed(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class Random {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  /** A generator for one named purpose, independent of how much other purposes draw. */
  static for(seed: number, purpose: string): Random {
    return new Random((hashSeed(purpose) ^ Math.imul(seed >>> 0, 0x9e3779b1)) >>> 0);
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.next();
  }

  /** Uniform in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)];
  }

  /** Standard normal deviate (Box-Muller; one of the pair is discarded to keep the stream simple). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Log-normal with median 1: exp(sigma * N(0,1)). */
  logNormal(sigma: number): number {
    return Math.exp(sigma * this.normal());
  }

  /** Fisher-Yates shuffle into a new array. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }

  /** Index drawn with probability proportional to weights (via a prefix-sum table). */
  weighted(table: WeightTable): number {
    return table.draw(this.next());
  }
}

/** Prefix sums of non-negative weights, for repeated weighted draws in O(log n). */
export class WeightTable {
  private readonly cumulative: Float64Array;
  readonly total: number;

  constructor(weights: readonly number[]) {
    this.cumulative = new Float64Array(weights.length);
    let sum = 0;
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i];
      if (!(w >= 0) || !Number.isFinite(w)) throw new Error(`bad weight ${w} at ${i}`);
      sum += w;
      this.cumulative[i] = sum;
    }
    if (sum <= 0) throw new Error('weights sum to zero');
    this.total = sum;
  }

  draw(u: number): number {
    const target = u * this.total;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid] > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/**
 * Splits an integer total into integer parts proportional to weights that sum
 * to exactly `total` (largest-remainder method; ties go to the lower index).
 * `minimum` is given to every part first.
 */
export function apportion(total: number, weights: readonly number[], minimum = 0): number[] {
  if (!Number.isInteger(total) || total < 0) throw new Error(`total must be a non-negative integer, got ${total}`);
  const n = weights.length;
  if (n === 0) {
    if (total !== 0) throw new Error('cannot apportion a non-zero total over nothing');
    return [];
  }
  const rest = total - minimum * n;
  if (rest < 0) throw new Error(`total ${total} is below ${n} x minimum ${minimum}`);
  const sum = weights.reduce((s, w) => s + w, 0);
  const shares = sum > 0 ? weights.map((w) => (rest * w) / sum) : weights.map(() => rest / n);
  const parts = shares.map((s) => Math.floor(s));
  let left = rest - parts.reduce((s, p) => s + p, 0);
  const order = shares
    .map((s, i) => ({ i, frac: s - Math.floor(s) }))
    .sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (let k = 0; left > 0; k = (k + 1) % n, left--) parts[order[k].i] += 1;
  return parts.map((p) => p + minimum);
}
