import type { PopulationCell } from './model.ts';
import type { Reach } from './reach.ts';

/**
 * Capacitated allocation: residents are assigned to shelters within reach
 * without exceeding any shelter's capacity, sheltering as many people as
 * possible. The number sheltered is exact — a maximum flow
 * source → cell (residents) → shelter (within radius) → sink (capacity) — so
 * "unsheltered" is the true minimum number of people with no place.
 *
 * Which people get which place: first nearest-first (all cell–shelter pairs by
 * distance, ties by cell then shelter index), then augmenting paths (Dinic)
 * reroute only as much as needed to reach the maximum. The assignment is
 * deterministic; it is not a minimum-total-distance assignment.
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
}

export function allocateCapacity(
  cells: readonly Pick<PopulationCell, 'residents'>[],
  reach: Reach,
  /** Capacity of each shelter of the reach (people, ≥ 0). */
  capacity: ArrayLike<number>,
): AllocationResult {
  const nC = reach.cellCount;
  const nS = reach.shelterCount;
  const pairs = reach.cellOf.length;
  const residents = new Float64Array(nC);
  for (let i = 0; i < nC; i++) residents[i] = Math.max(0, Math.floor(cells[i].residents));
  const cap = new Float64Array(nS);
  for (let j = 0; j < nS; j++) cap[j] = Math.max(0, Math.floor(capacity[j]));

  // 1. nearest-first: pairs by distance, then cell, then shelter
  const pairShelter = new Int32Array(pairs);
  for (let j = 0; j < nS; j++) for (let k = reach.shelterStart[j]; k < reach.shelterStart[j + 1]; k++) pairShelter[k] = j;
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

  const sheltered = new Float64Array(nC);
  const load = new Float64Array(nS);
  for (let k = 0; k < pairs; k++) {
    sheltered[reach.cellOf[k]] += pairFlow[k];
    load[pairShelter[k]] += pairFlow[k];
  }
  let shelteredTotal = 0, residentsTotal = 0;
  for (let i = 0; i < nC; i++) {
    shelteredTotal += sheltered[i];
    residentsTotal += residents[i];
  }
  return { sheltered, load, pairFlow, shelteredTotal, unshelteredTotal: residentsTotal - shelteredTotal };
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
