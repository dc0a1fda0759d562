/**
 * The allocation is a minimum-cost maximum flow: as many people sheltered as
 * possible, and among those assignments the least total distance. Checked
 * against independent oracles: exhaustive enumeration of every integral
 * assignment on small instances, and on larger ones a textbook max-flow for the
 * amount plus the optimality certificate of min-cost flow (no negative-cost
 * cycle in the residual graph, found with Bellman–Ford).
 */
import { describe, expect, it } from 'vitest';
import { allocateCapacity, minCostMaxFlow } from '../../server/analysis/allocation.ts';
import type { Reach } from '../../server/analysis/reach.ts';

function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Instance {
  supply: number[];
  cap: number[];
  pairs: { cell: number; shelter: number; cost: number }[];
}

function randomInstance(rand: () => number, nC: number, nS: number, maxUnits: number, density: number): Instance {
  const pairs: Instance['pairs'] = [];
  for (let j = 0; j < nS; j++) for (let i = 0; i < nC; i++) if (rand() < density) pairs.push({ cell: i, shelter: j, cost: 1 + Math.floor(rand() * 20) });
  return {
    supply: Array.from({ length: nC }, () => Math.floor(rand() * (maxUnits + 1))),
    cap: Array.from({ length: nS }, () => Math.floor(rand() * (maxUnits + 1))),
    pairs,
  };
}

const solve = (x: Instance) =>
  minCostMaxFlow(x.supply.length, x.cap.length, x.pairs.map((p) => p.cell), x.pairs.map((p) => p.shelter), x.pairs.map((p) => p.cost), x.supply, x.cap)!;

/** Every integral assignment: the largest amount, then the least cost at that amount. */
function bruteForce(x: Instance): { flow: number; cost: number } {
  const left = x.supply.slice();
  const free = x.cap.slice();
  let best = { flow: -1, cost: Infinity };
  const walk = (k: number, flow: number, cost: number) => {
    if (k === x.pairs.length) {
      if (flow > best.flow || (flow === best.flow && cost < best.cost)) best = { flow, cost };
      return;
    }
    const p = x.pairs[k];
    const most = Math.min(left[p.cell], free[p.shelter]);
    for (let f = 0; f <= most; f++) {
      left[p.cell] -= f;
      free[p.shelter] -= f;
      walk(k + 1, flow + f, cost + f * p.cost);
      left[p.cell] += f;
      free[p.shelter] += f;
    }
  };
  walk(0, 0, 0);
  return best;
}

function check(x: Instance, flow: Float64Array) {
  const load = x.cap.map(() => 0);
  const sent = x.supply.map(() => 0);
  x.pairs.forEach((p, k) => {
    expect(flow[k]).toBeGreaterThanOrEqual(0);
    expect(Number.isInteger(flow[k])).toBe(true);
    load[p.shelter] += flow[k];
    sent[p.cell] += flow[k];
  });
  load.forEach((l, j) => expect(l).toBeLessThanOrEqual(x.cap[j]));
  sent.forEach((s, i) => expect(s).toBeLessThanOrEqual(x.supply[i]));
  return { flow: sent.reduce((a, b) => a + b, 0), cost: x.pairs.reduce((a, p, k) => a + flow[k] * p.cost, 0) };
}

/** Edmonds–Karp on a dense matrix: the maximum amount. */
function maxFlow(x: Instance): number {
  const nC = x.supply.length, nS = x.cap.length, n = nC + nS + 2, s = 0, t = n - 1;
  const c = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  x.supply.forEach((r, i) => (c[s][1 + i] = r));
  x.cap.forEach((r, j) => (c[1 + nC + j][t] = r));
  for (const p of x.pairs) c[1 + p.cell][1 + nC + p.shelter] = Infinity;
  let total = 0;
  for (;;) {
    const prev = new Array<number>(n).fill(-1);
    prev[s] = s;
    const queue = [s];
    while (queue.length && prev[t] < 0) {
      const u = queue.shift()!;
      for (let v = 0; v < n; v++) if (prev[v] < 0 && c[u][v] > 0) (prev[v] = u), queue.push(v);
    }
    if (prev[t] < 0) return total;
    let push = Infinity;
    for (let v = t; v !== s; v = prev[v]) push = Math.min(push, c[prev[v]][v]);
    for (let v = t; v !== s; v = prev[v]) (c[prev[v]][v] -= push), (c[v][prev[v]] += push);
    total += push;
  }
}

/** Bellman–Ford over the residual graph of `flow`: true when some cycle has negative cost (the flow is not cheapest). */
function hasNegativeCycle(x: Instance, flow: Float64Array): boolean {
  const nC = x.supply.length, nS = x.cap.length, n = nC + nS + 2, s = 0, t = n - 1;
  const edges: [number, number, number][] = [];
  const sent = x.supply.map(() => 0);
  const load = x.cap.map(() => 0);
  x.pairs.forEach((p, k) => {
    sent[p.cell] += flow[k];
    load[p.shelter] += flow[k];
    edges.push([1 + p.cell, 1 + nC + p.shelter, p.cost]); // unbounded forward
    if (flow[k] > 0) edges.push([1 + nC + p.shelter, 1 + p.cell, -p.cost]);
  });
  x.supply.forEach((r, i) => {
    if (sent[i] < r) edges.push([s, 1 + i, 0]);
    if (sent[i] > 0) edges.push([1 + i, s, 0]);
  });
  x.cap.forEach((r, j) => {
    if (load[j] < r) edges.push([1 + nC + j, t, 0]);
    if (load[j] > 0) edges.push([t, 1 + nC + j, 0]);
  });
  const d = new Array<number>(n).fill(0); // a virtual root reaching every node at 0
  for (let round = 0; round < n; round++) {
    let changed = false;
    for (const [u, v, w] of edges) if (d[u] + w < d[v]) (d[v] = d[u] + w), (changed = true);
    if (!changed) return false;
  }
  return true;
}

describe('allocation: minimum total distance among maximum flows', () => {
  it('equals exhaustive enumeration on 400 small random instances', () => {
    const rand = mulberry32(14);
    for (let t = 0; t < 400; t++) {
      const x = randomInstance(rand, 1 + Math.floor(rand() * 3), 1 + Math.floor(rand() * 3), 3, 0.7);
      if (x.pairs.length > 7) x.pairs.length = 7;
      const got = check(x, solve(x));
      expect(got, JSON.stringify(x)).toEqual(bruteForce(x));
    }
  });

  it('on 150 larger instances: the maximum amount (Edmonds–Karp) and no negative-cost residual cycle', () => {
    const rand = mulberry32(41);
    for (let t = 0; t < 150; t++) {
      const x = randomInstance(rand, 5 + Math.floor(rand() * 40), 1 + Math.floor(rand() * 10), 60, 0.3);
      const flow = solve(x);
      const got = check(x, flow);
      expect(got.flow).toBe(maxFlow(x));
      expect(hasNegativeCycle(x, flow)).toBe(false);
    }
  });

  it('the certificate can fail: a swapped assignment has a negative cycle', () => {
    // A: S1 at 1, S2 at 5; B: S1 at 5, S2 at 1 — swapping costs 10 instead of 2
    const x: Instance = { supply: [1, 1], cap: [1, 1], pairs: [{ cell: 0, shelter: 0, cost: 1 }, { cell: 1, shelter: 0, cost: 5 }, { cell: 0, shelter: 1, cost: 5 }, { cell: 1, shelter: 1, cost: 1 }] };
    expect(hasNegativeCycle(x, Float64Array.of(0, 1, 1, 0))).toBe(true);
    expect(Array.from(solve(x))).toEqual([1, 0, 0, 1]);
  });

  it('hand-worked: who stays without a place is the one farther away, and the result is the same every time', () => {
    // S1 holds 100 and reaches cell A (100 people, 450 m) and cell B (100 people, 50 m); S2 holds 100 and reaches A at 480 m only.
    // Maximum: 200 sheltered. Cheapest: B→S1 (50 m), A→S2 (480 m) = 53,000 m; the alternative A→S1, B unsheltered shelters only 100.
    const reach = {
      shelterCount: 2,
      cellCount: 2,
      shelterStart: Int32Array.of(0, 2, 3),
      cellOf: Int32Array.of(0, 1, 0),
      distOf: Float64Array.of(450, 50, 480),
    } as unknown as Reach;
    const cells = [{ residents: 100 }, { residents: 100 }];
    const a = allocateCapacity(cells, reach, [100, 100]);
    expect(Array.from(a.pairFlow)).toEqual([0, 100, 100]);
    expect(a.totalDistanceM).toBe(53_000);
    // with S2 only 40 places: 140 sheltered; A gets S2's 40 (A is the only one S2 reaches), B takes S1
    const b = allocateCapacity(cells, reach, [100, 40]);
    expect(Array.from(b.sheltered)).toEqual([40, 100]);
    expect(b.unshelteredTotal).toBe(60);
    // equal distances: a fixed order decides, the same on every run
    const tie = { ...reach, distOf: Float64Array.of(100, 100, 100) } as Reach;
    const runs = Array.from({ length: 5 }, () => Array.from(allocateCapacity(cells, tie, [100, 100]).pairFlow).join());
    expect(new Set(runs).size).toBe(1);
    expect(a.method).toBe('min_cost');
  });

  it('beyond the work budget: the same maximum by the faster max-flow assignment, and says so', () => {
    const rand = mulberry32(7);
    for (let t = 0; t < 20; t++) {
      const x = randomInstance(rand, 30, 6, 50, 0.4);
      const shelterStart = Int32Array.from({ length: x.cap.length + 1 }, (_, j) => x.pairs.filter((p) => p.shelter < j).length);
      const sorted = [...x.pairs].sort((p, q) => p.shelter - q.shelter);
      const reach = { shelterCount: x.cap.length, cellCount: x.supply.length, shelterStart, cellOf: Int32Array.from(sorted, (p) => p.cell), distOf: Float64Array.from(sorted, (p) => p.cost) } as unknown as Reach;
      const cells = x.supply.map((residents) => ({ residents }));
      const exact = allocateCapacity(cells, reach, x.cap);
      const bounded = allocateCapacity(cells, reach, x.cap, 0);
      expect(exact.method).toBe('min_cost');
      expect(bounded.method).toBe('max_flow');
      expect(bounded.shelteredTotal).toBe(exact.shelteredTotal);
      expect(bounded.totalDistanceM).toBeGreaterThanOrEqual(exact.totalDistanceM);
    }
  });
});
