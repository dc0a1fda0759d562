import type { PopulationCell } from './model.ts';
import type { PointGrid } from './point-grid.ts';

/**
 * Where the next k shelters should go: greedy maximal covering location (MCLP).
 * Each step takes the candidate site that serves the most residents not yet
 * served; ties go to the lower candidate index (deterministic). Coverage is
 * submodular, so the greedy answer is within 1 − 1/e (≈ 63 %) of the optimum
 * (Nemhauser, Wolsey & Fisher 1978); `exactSiting` enumerates small instances
 * to show the actual ratio. Lazy evaluation (gains only shrink) keeps it fast.
 *
 * Capacity-aware variant: a new site serves at most `capacity` residents, the
 * nearest first; demand is then the residents left with no place after the
 * capacitated allocation, not merely those outside every radius.
 */
export interface Candidate {
  lon: number;
  lat: number;
  /** Where the candidate comes from: grid, cells, or a layer id. */
  source: string;
  /** Feature or cell id; null for grid points. */
  id: number | string | null;
  /** Candidate sites: name, kind and area (null when unknown). */
  site?: { name_zh: string; name_en: string | null; kind: string; area_m2: number | null; ownership: string | null };
}

/** For each candidate, the cells within the new shelter's radius, nearest first (ties: lower cell index). */
export interface CandidateReach {
  start: Int32Array;
  cell: Int32Array;
}

export function candidateReach(candidates: readonly Candidate[], grid: PointGrid, radiusM: number): CandidateReach {
  const start = new Int32Array(candidates.length + 1);
  const cells: number[] = [];
  const found: { i: number; d: number }[] = [];
  candidates.forEach((c, k) => {
    found.length = 0;
    grid.within(c.lon, c.lat, radiusM, (i, d) => found.push({ i, d }));
    found.sort((a, b) => a.d - b.d || a.i - b.i);
    for (const f of found) cells.push(f.i);
    start[k + 1] = cells.length;
  });
  return { start, cell: Int32Array.from(cells) };
}

export interface SitingPick {
  candidate: number;
  /** Residents newly served by this site. */
  gain: number;
}

export interface SitingResult {
  picks: SitingPick[];
  /** Why fewer than k sites were returned: nobody left to serve. */
  stoppedEarly: boolean;
  /** Per cell: demand left after the picks. */
  remaining: Float64Array;
}

/** Max-heap on (gain desc, index asc). */
class GainHeap {
  private readonly gain: number[] = [];
  private readonly idx: number[] = [];
  get size() {
    return this.idx.length;
  }
  private above(a: number, b: number) {
    return this.gain[a] > this.gain[b] || (this.gain[a] === this.gain[b] && this.idx[a] < this.idx[b]);
  }
  private swap(a: number, b: number) {
    [this.gain[a], this.gain[b]] = [this.gain[b], this.gain[a]];
    [this.idx[a], this.idx[b]] = [this.idx[b], this.idx[a]];
  }
  push(gain: number, index: number) {
    this.gain.push(gain);
    this.idx.push(index);
    for (let i = this.idx.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!this.above(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  peek(): { gain: number; index: number } | undefined {
    return this.idx.length ? { gain: this.gain[0], index: this.idx[0] } : undefined;
  }
  pop(): { gain: number; index: number } {
    const top = { gain: this.gain[0], index: this.idx[0] };
    const g = this.gain.pop()!, x = this.idx.pop()!;
    if (this.idx.length) {
      this.gain[0] = g;
      this.idx[0] = x;
      for (let i = 0; ; ) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < this.idx.length && this.above(l, m)) m = l;
        if (r < this.idx.length && this.above(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}

export function greedySiting(
  /** Residents to serve per cell (uncovered, or unsheltered for the capacity-aware variant). */
  demand: ArrayLike<number>,
  reach: CandidateReach,
  k: number,
  /** People one new site can take (one figure, or one per candidate: a site's own area); Infinity = plain coverage. */
  capacity: number | ArrayLike<number> = Infinity,
): SitingResult {
  const remaining = Float64Array.from(demand);
  const n = reach.start.length - 1;
  const capacityOf = typeof capacity === 'number' ? () => capacity : (c: number) => capacity[c];
  const gainOf = (c: number) => {
    let g = 0;
    for (let p = reach.start[c]; p < reach.start[c + 1]; p++) g += remaining[reach.cell[p]];
    return Math.min(g, capacityOf(c));
  };
  const heap = new GainHeap();
  for (let c = 0; c < n; c++) {
    const g = gainOf(c);
    if (g > 0) heap.push(g, c);
  }
  const picks: SitingPick[] = [];
  while (picks.length < k && heap.size > 0) {
    const top = heap.pop();
    const g = gainOf(top.index);
    const next = heap.peek();
    if (next && (g < next.gain || (g === next.gain && top.index > next.index))) {
      if (g > 0) heap.push(g, top.index); // stale bound: re-queue with the true gain
      continue;
    }
    if (g <= 0) break;
    // serve the nearest residents first, up to capacity
    let left = g;
    for (let p = reach.start[top.index]; p < reach.start[top.index + 1] && left > 0; p++) {
      const i = reach.cell[p];
      const take = Math.min(remaining[i], left);
      remaining[i] -= take;
      left -= take;
    }
    picks.push({ candidate: top.index, gain: g });
  }
  return { picks, stoppedEarly: picks.length < k, remaining };
}

/**
 * The optimum of plain MCLP by enumerating every subset of size min(k, n) of the
 * candidates that serve anyone; null when that is more than `maxSubsets`.
 */
export function exactSiting(demand: ArrayLike<number>, reach: CandidateReach, k: number, maxSubsets: number): { optimum: number; subsets: number; best: number[] } | null {
  const useful: number[] = [];
  for (let c = 0; c < reach.start.length - 1; c++) {
    let g = 0;
    for (let p = reach.start[c]; p < reach.start[c + 1]; p++) g += demand[reach.cell[p]];
    if (g > 0) useful.push(c);
  }
  const m = Math.min(k, useful.length);
  if (binomial(useful.length, m) > maxSubsets) return null;
  const served = new Int32Array(demand.length); // how many chosen candidates serve each cell
  let value = 0, best = -1, subsets = 0;
  let bestSet: number[] = [];
  const chosen: number[] = [];
  const add = (c: number, sign: 1 | -1) => {
    for (let p = reach.start[c]; p < reach.start[c + 1]; p++) {
      const i = reach.cell[p];
      if (sign === 1 && served[i]++ === 0) value += demand[i];
      if (sign === -1 && --served[i] === 0) value -= demand[i];
    }
  };
  const walk = (from: number) => {
    if (chosen.length === m) {
      subsets++;
      if (value > best) {
        best = value;
        bestSet = chosen.map((x) => useful[x]);
      }
      return;
    }
    for (let x = from; x <= useful.length - (m - chosen.length); x++) {
      chosen.push(x);
      add(useful[x], 1);
      walk(x + 1);
      add(useful[x], -1);
      chosen.pop();
    }
  };
  walk(0);
  return { optimum: Math.max(best, 0), subsets, best: bestSet };
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) {
    r = (r * (n - k + i)) / i;
    if (r > Number.MAX_SAFE_INTEGER) return Infinity;
  }
  return Math.round(r);
}

/** Grid points every `spacingM` metres over a bounding box, row by row from the south-west. */
export function gridCandidates(bbox: [number, number, number, number], spacingM: number, kx: number, ky: number): Candidate[] {
  const [minLon, minLat, maxLon, maxLat] = bbox;
  const dLon = spacingM / kx, dLat = spacingM / ky;
  const out: Candidate[] = [];
  for (let lat = minLat + dLat / 2; lat < maxLat; lat += dLat) for (let lon = minLon + dLon / 2; lon < maxLon; lon += dLon) out.push({ lon, lat, source: 'grid', id: null });
  return out;
}

/** Candidates from the populated cells' points (cells with residents), in cell order. */
export function cellCandidates(cells: readonly PopulationCell[]): Candidate[] {
  return cells.filter((c) => c.residents > 0).map((c) => ({ lon: c.lon, lat: c.lat, source: 'cells', id: c.id }));
}
