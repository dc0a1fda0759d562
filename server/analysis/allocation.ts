import type { PopulationCell } from './model.ts';
import type { Reach } from './reach.ts';

/**
 * Capacitated allocation: residents are assigned to shelters within reach
 * without exceeding any shelter's capacity, sheltering as many people as
 * possible. The number sheltered is exact — a maximum flow
 * source → cell (residents) → shelter (within radius) → sink (capacity) — so
 * "unsheltered" is the true minimum number of people with no place.
 *
 * Many assignments shelter that maximum. The one returned has the least total
 * walking distance among them (minimum-cost maximum flow; distances counted
 * in whole millimetres so sums are exact), so which street is left without
 * places follows from distance, not from the order the solver met the cells.
 * Ties among equally short assignments are broken by a fixed order (cells and
 * shelters by index), so the answer is deterministic.
 *
 * Successive shortest paths with Dijkstra on reduced costs (Johnson
 * potentials), one cell at a time (see minCostMaxFlow).
 */
export interface AllocationResult {
  /** Per cell: residents given a place. */
  sheltered: Float64Array;
  /** Per shelter: residents assigned. */
  load: Float64Array;
  /** Per pair of the reach, in shelter-major order (reach.cellOf): residents of that cell sent to that shelter. */
  pairFlow: Float64Array;
  shelteredTotal: number;
  unshelteredTotal: number;
  /** Sum over assigned residents of the distance to their shelter, metres (from millimetre costs). */
  totalDistanceM: number;
  /** 'min_cost': the least total distance among maximum flows; 'max_flow': the same number sheltered,
   *  nearest-first then rerouted (the district was too large for the least-distance search's budget). */
  method: AllocationMethod;
}

export type AllocationMethod = 'min_cost' | 'max_flow';

/** Edge relaxations the least-distance search may spend before the faster max-flow assignment is used
 *  instead (keeps one analysis well under the per-request CPU bound on the largest districts). */
export const DEFAULT_ALLOCATION_WORK = 5_000_000;

export function allocateCapacity(
  cells: readonly Pick<PopulationCell, 'residents'>[],
  reach: Reach,
  /** Capacity of each shelter of the reach (people, ≥ 0). */
  capacity: ArrayLike<number>,
  workBudget = DEFAULT_ALLOCATION_WORK,
): AllocationResult {
  const nC = reach.cellCount;
  const nS = reach.shelterCount;
  const pairs = reach.cellOf.length;
  const residents = new Float64Array(nC);
  for (let i = 0; i < nC; i++) residents[i] = Math.max(0, Math.floor(cells[i].residents));
  const cap = new Float64Array(nS);
  for (let j = 0; j < nS; j++) cap[j] = Math.max(0, Math.floor(capacity[j]));
  const pairShelter = new Int32Array(pairs);
  for (let j = 0; j < nS; j++) for (let k = reach.shelterStart[j]; k < reach.shelterStart[j + 1]; k++) pairShelter[k] = j;
  const cost = new Float64Array(pairs);
  for (let k = 0; k < pairs; k++) cost[k] = Math.round(reach.distOf[k] * 1000);

  let pairFlow = minCostMaxFlow(nC, nS, reach.cellOf, pairShelter, cost, residents, cap, workBudget);
  const method: AllocationMethod = pairFlow ? 'min_cost' : 'max_flow';
  if (!pairFlow) pairFlow = nearestFirstMaxFlow(nC, nS, reach, pairShelter, residents, cap);

  const sheltered = new Float64Array(nC);
  const load = new Float64Array(nS);
  let totalMm = 0;
  for (let k = 0; k < pairs; k++) {
    sheltered[reach.cellOf[k]] += pairFlow[k];
    load[pairShelter[k]] += pairFlow[k];
    totalMm += pairFlow[k] * cost[k];
  }
  let shelteredTotal = 0, residentsTotal = 0;
  for (let i = 0; i < nC; i++) {
    shelteredTotal += sheltered[i];
    residentsTotal += residents[i];
  }
  return { sheltered, load, pairFlow, shelteredTotal, unshelteredTotal: residentsTotal - shelteredTotal, totalDistanceM: totalMm / 1000, method };
}

/**
 * The previous assignment, kept for districts too large for the least-distance search within the
 * work budget: nearest-first (pairs by distance, ties by cell then shelter), then augmenting paths
 * (Dinic) reroute only as much as needed to reach the maximum. Deterministic, the same maximum;
 * not the least total distance.
 */
function nearestFirstMaxFlow(nC: number, nS: number, reach: Reach, pairShelter: Int32Array, residents: Float64Array, cap: Float64Array): Float64Array {
  const pairs = reach.cellOf.length;
  // 1. nearest-first: pairs by distance, then cell, then shelter
  const byDistance = new Int32Array(pairs);
  for (let k = 0; k < pairs; k++) byDistance[k] = k;
  byDistance.sort((a, b) => reach.distOf[a] - reach.distOf[b] || reach.cellOf[a] - reach.cellOf[b] || pairShelter[a] - pairShelter[b]);
  const pairFlow = new Float64Array(pairs);
  const left = residents.slice();
  const free = cap.slice();
  for (let q = 0; q < pairs; q++) {
    const k = byDistance[q];
    const i = reach.cellOf[k], j = pairShelter[k];
    const amount = Math.min(left[i], free[j]);
    if (amount > 0) {
      pairFlow[k] = amount;
      left[i] -= amount;
      free[j] -= amount;
    }
  }

  // 2. maximum flow from there (Dinic on the residual graph)
  augmentToMaximum(nC, nS, reach, pairShelter, residents, cap, pairFlow, left, free);

  return pairFlow;
}


/**
 * Minimum-cost maximum flow on the bipartite graph cell i (supply[i]) → shelter j
 * (pair k: cellOf[k] → shelterOf[k], cost[k] ≥ 0, integral) → sink (cap[j]). Returns the flow per pair.
 *
 * Every cell also has an "unsheltered" edge straight to the sink at a cost M above any path's, so
 * the cheapest flow that sends every resident somewhere shelters as many as possible first, then
 * at the least distance. Cells are added one by one, each by shortest augmenting paths from that
 * cell (Dijkstra on reduced costs, stopped at the sink): augmenting any excess along a shortest path
 * keeps a min-cost flow min-cost, and a search from one cell only explores its neighbourhood.
 * Nodes: cells 0..nC-1, shelters nC..nC+nS-1, sink nC+nS; edge x and x^1 are a pair (forward, reverse).
 */
export function minCostMaxFlow(
  nC: number,
  nS: number,
  cellOf: ArrayLike<number>,
  shelterOf: ArrayLike<number>,
  cost: ArrayLike<number>,
  supply: ArrayLike<number>,
  cap: ArrayLike<number>,
  /** Edge relaxations allowed; beyond them the search gives up and returns null. */
  workBudget = Infinity,
): Float64Array | null {
  let work = 0;
  const pairs = cost.length;
  const sink = nC + nS, nodes = nC + nS + 1;
  const reachable = new Uint8Array(nC);
  let costSum = 0;
  for (let k = 0; k < pairs; k++) {
    reachable[cellOf[k]] = 1;
    costSum += cost[k];
  }
  // above the cost of any simple path, and still exact in doubles for district sizes (< 2^53)
  const unsheltered = costSum + 1;
  const edgeCount = 2 * (pairs + nS + nC);
  const to = new Int32Array(edgeCount);
  const from = new Int32Array(edgeCount);
  const res = new Float64Array(edgeCount);
  const w = new Float64Array(edgeCount);
  let e = 0;
  const add = (u: number, v: number, capacity: number, c: number) => {
    from[e] = u; to[e] = v; res[e] = capacity; w[e] = c; e++;
    from[e] = v; to[e] = u; res[e] = 0; w[e] = -c; e++;
  };
  const pairEdge = new Int32Array(pairs);
  for (let k = 0; k < pairs; k++) {
    pairEdge[k] = e;
    add(cellOf[k], nC + shelterOf[k], supply[cellOf[k]], cost[k]);
  }
  for (let j = 0; j < nS; j++) add(nC + j, sink, cap[j], 0);
  for (let i = 0; i < nC; i++) if (reachable[i]) add(i, sink, supply[i], unsheltered);

  // adjacency (CSR), edges in creation order per node: deterministic
  const start = new Int32Array(nodes + 1);
  for (let x = 0; x < e; x++) start[from[x] + 1]++;
  for (let v = 0; v < nodes; v++) start[v + 1] += start[v];
  const adj = new Int32Array(e);
  const cursor = start.slice(0, nodes);
  for (let x = 0; x < e; x++) adj[cursor[from[x]]++] = x;

  // all costs start ≥ 0, so zero potentials are feasible; only differences of potentials matter
  const h = new Float64Array(nodes);
  const dist = new Float64Array(nodes).fill(Infinity);
  const prev = new Int32Array(nodes);
  const done = new Uint8Array(nodes);
  const touched = new Int32Array(nodes);
  const heap = new MinHeap(64);
  for (let r = 0; r < nC; r++) {
    if (!reachable[r]) continue;
    let remaining = supply[r];
    while (remaining > 0) {
      let nTouched = 0;
      dist[r] = 0;
      touched[nTouched++] = r;
      heap.clear();
      heap.push(0, r);
      while (heap.size > 0) {
        const d = heap.topKey();
        const u = heap.pop();
        if (done[u] || d > dist[u]) continue;
        done[u] = 1;
        if (u === sink) break;
        work += start[u + 1] - start[u];
        for (let a = start[u]; a < start[u + 1]; a++) {
          const x = adj[a];
          if (res[x] <= 0) continue;
          const v = to[x];
          if (done[v]) continue;
          const nd = d + w[x] + h[u] - h[v];
          if (nd < dist[v]) {
            if (dist[v] === Infinity) touched[nTouched++] = v;
            dist[v] = nd;
            prev[v] = x;
            heap.push(nd, v);
          }
        }
      }
      const ds = dist[sink]; // always reached: the cell's unsheltered edge has room for all it holds
      // reduced costs stay ≥ 0: settled nodes move by dist − ds, every other node by 0 (i.e. all by
      // min(dist, ds) minus the common ds, which no reduced cost sees)
      for (let t = 0; t < nTouched; t++) {
        const v = touched[t];
        if (done[v] && dist[v] < ds) h[v] += dist[v] - ds;
      }
      let push = remaining;
      for (let v = sink; v !== r; v = from[prev[v]]) push = Math.min(push, res[prev[v]]);
      for (let v = sink; v !== r; v = from[prev[v]]) {
        res[prev[v]] -= push;
        res[prev[v] ^ 1] += push;
      }
      remaining -= push;
      for (let t = 0; t < nTouched; t++) {
        dist[touched[t]] = Infinity;
        done[touched[t]] = 0;
      }
      if (work > workBudget) return null;
    }
  }
  const flow = new Float64Array(pairs);
  for (let k = 0; k < pairs; k++) flow[k] = res[pairEdge[k] + 1];
  return flow;
}

/** Binary heap of (key, node), smallest key first; ties by the smaller node (deterministic). */
class MinHeap {
  private keys: Float64Array;
  private vals: Int32Array;
  size = 0;
  constructor(capacity: number) {
    this.keys = new Float64Array(Math.max(16, capacity));
    this.vals = new Int32Array(Math.max(16, capacity));
  }
  clear() {
    this.size = 0;
  }
  private less(a: number, b: number) {
    return this.keys[a] < this.keys[b] || (this.keys[a] === this.keys[b] && this.vals[a] < this.vals[b]);
  }
  private swap(a: number, b: number) {
    const k = this.keys[a]; this.keys[a] = this.keys[b]; this.keys[b] = k;
    const v = this.vals[a]; this.vals[a] = this.vals[b]; this.vals[b] = v;
  }
  push(key: number, val: number) {
    if (this.size === this.keys.length) {
      const k = new Float64Array(this.size * 2); k.set(this.keys); this.keys = k;
      const v = new Int32Array(this.size * 2); v.set(this.vals); this.vals = v;
    }
    let i = this.size++;
    this.keys[i] = key;
    this.vals[i] = val;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  topKey() {
    return this.keys[0];
  }
  pop(): number {
    const top = this.vals[0];
    this.size--;
    if (this.size > 0) {
      this.keys[0] = this.keys[this.size];
      this.vals[0] = this.vals[this.size];
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < this.size && this.less(l, m)) m = l;
        if (r < this.size && this.less(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}

/**
 * Nodes: 0 source, 1..nC cells, nC+1..nC+nS shelters, nC+nS+1 sink. Edge e and
 * e^1 are a pair (forward, reverse); `res` holds residual capacities.
 */
function augmentToMaximum(
  nC: number,
  nS: number,
  reach: Reach,
  pairShelter: Int32Array,
  residents: Float64Array,
  cap: Float64Array,
  pairFlow: Float64Array,
  left: Float64Array,
  free: Float64Array,
): void {
  const pairs = pairFlow.length;
  const source = 0, sink = nC + nS + 1, nodes = nC + nS + 2;
  const edgeCount = 2 * (nC + pairs + nS);
  const to = new Int32Array(edgeCount);
  const res = new Float64Array(edgeCount);
  const from = new Int32Array(edgeCount);
  let e = 0;
  const add = (u: number, v: number, forwardResidual: number, backwardResidual: number) => {
    from[e] = u; to[e] = v; res[e] = forwardResidual; e++;
    from[e] = v; to[e] = u; res[e] = backwardResidual; e++;
  };
  for (let i = 0; i < nC; i++) add(source, 1 + i, left[i], residents[i] - left[i]);
  const pairEdge = new Int32Array(pairs);
  for (let k = 0; k < pairs; k++) {
    pairEdge[k] = e;
    const i = reach.cellOf[k];
    add(1 + i, 1 + nC + pairShelter[k], residents[i] - pairFlow[k], pairFlow[k]);
  }
  for (let j = 0; j < nS; j++) add(1 + nC + j, sink, free[j], cap[j] - free[j]);

  // adjacency (CSR), edges in creation order per node: deterministic
  const start = new Int32Array(nodes + 1);
  for (let x = 0; x < edgeCount; x++) start[from[x] + 1]++;
  for (let v = 0; v < nodes; v++) start[v + 1] += start[v];
  const adj = new Int32Array(edgeCount);
  const cursor = start.slice(0, nodes);
  for (let x = 0; x < edgeCount; x++) adj[cursor[from[x]]++] = x;

  const level = new Int32Array(nodes);
  const queue = new Int32Array(nodes);
  const it = new Int32Array(nodes);
  const stackEdge = new Int32Array(nodes);
  for (;;) {
    level.fill(-1);
    level[source] = 0;
    let qh = 0, qt = 0;
    queue[qt++] = source;
    while (qh < qt) {
      const u = queue[qh++];
      for (let a = start[u]; a < start[u + 1]; a++) {
        const x = adj[a];
        if (res[x] > 0 && level[to[x]] < 0) {
          level[to[x]] = level[u] + 1;
          queue[qt++] = to[x];
        }
      }
    }
    if (level[sink] < 0) break;
    for (let v = 0; v < nodes; v++) it[v] = start[v];
    // iterative blocking-flow DFS: stackEdge[0..depth) are the edges of the current path
    let depth = 0;
    let u = source;
    for (;;) {
      if (u === sink) {
        let push = Infinity;
        for (let s = 0; s < depth; s++) push = Math.min(push, res[stackEdge[s]]);
        let cut = depth;
        for (let s = 0; s < depth; s++) {
          const x = stackEdge[s];
          res[x] -= push;
          res[x ^ 1] += push;
          if (res[x] === 0 && cut === depth) cut = s;
        }
        depth = cut;
        u = depth === 0 ? source : to[stackEdge[depth - 1]];
        continue;
      }
      let advanced = false;
      for (; it[u] < start[u + 1]; it[u]++) {
        const x = adj[it[u]];
        if (res[x] > 0 && level[to[x]] === level[u] + 1) {
          stackEdge[depth++] = x;
          u = to[x];
          advanced = true;
          break;
        }
      }
      if (advanced) continue;
      level[u] = -1; // dead end in this phase
      if (depth === 0) break;
      depth--;
      u = from[stackEdge[depth]];
      it[u]++;
    }
  }
  for (let k = 0; k < pairs; k++) pairFlow[k] = res[pairEdge[k] + 1];
}
