/**
 * Capacitated allocation: the number sheltered is a maximum flow, checked
 * against an independent textbook max-flow (Edmonds–Karp on a dense matrix),
 * and never breaks a capacity or a radius.
 */
import { describe, expect, it } from 'vitest';
import { allocateCapacity } from '../../server/analysis/allocation.ts';
import { computeReach, cellGrid, type Reach } from '../../server/analysis/reach.ts';
import { mulberry32 } from './random.ts';

/** Edmonds–Karp on an adjacency matrix: source 0, cells, shelters, sink. */
function edmondsKarp(residents: number[], capacity: number[], edges: [number, number][]): number {
  const nC = residents.length, nS = capacity.length, n = nC + nS + 2, s = 0, t = n - 1;
  const cap = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  residents.forEach((r, i) => (cap[s][1 + i] = r));
  capacity.forEach((c, j) => (cap[1 + nC + j][t] = c));
  for (const [i, j] of edges) cap[1 + i][1 + nC + j] = Infinity;
  let flow = 0;
  for (;;) {
    const prev = new Array<number>(n).fill(-1);
    prev[s] = s;
    const queue = [s];
    while (queue.length && prev[t] < 0) {
      const u = queue.shift()!;
      for (let v = 0; v < n; v++) if (prev[v] < 0 && cap[u][v] > 0) (prev[v] = u), queue.push(v);
    }
    if (prev[t] < 0) return flow;
    let push = Infinity;
    for (let v = t; v !== s; v = prev[v]) push = Math.min(push, cap[prev[v]][v]);
    for (let v = t; v !== s; v = prev[v]) (cap[prev[v]][v] -= push), (cap[v][prev[v]] += push);
    flow += push;
  }
}

function pairsOf(reach: Reach): [number, number][] {
  const out: [number, number][] = [];
  for (let j = 0; j < reach.shelterCount; j++) for (let k = reach.shelterStart[j]; k < reach.shelterStart[j + 1]; k++) out.push([reach.cellOf[k], j]);
  return out;
}

describe('allocateCapacity', () => {
  it('reroutes when nearest-first would strand people: A next to S1 but also within reach of S2, B only near S1', () => {
    // hand-built reach: A (cell 0) reaches S1 at 10 m and S2 at 400 m; B (cell 1) reaches S1 at 50 m only
    const reach: Reach = {
      shelterCount: 2,
      cellCount: 2,
      shelterStart: Int32Array.from([0, 2, 3]),
      cellOf: Int32Array.from([0, 1, 0]),
      distOf: Float64Array.from([10, 50, 400]),
      cellStart: Int32Array.from([0, 2, 3]),
      shelterOf: Int32Array.from([0, 1, 0]),
      cellDist: Float64Array.from([10, 400, 50]),
      radiusOf: Float64Array.from([500, 500]),
    };
    const r = allocateCapacity([{ residents: 100 }, { residents: 100 }], reach, [100, 100]);
    expect(r.shelteredTotal).toBe(200);
    expect(Array.from(r.sheltered)).toEqual([100, 100]);
    expect(Array.from(r.pairFlow)).toEqual([0, 100, 100]); // A → S2, B → S1
  });

  it('equals an independent max-flow on 200 random instances and respects every capacity and radius', () => {
    const rand = mulberry32(42);
    for (let t = 0; t < 200; t++) {
      const nC = 1 + Math.floor(rand() * 12), nS = Math.floor(rand() * 6);
      const cells = Array.from({ length: nC }, (_, i) => ({ id: i, lon: 113 + rand() * 0.02, lat: 23 + rand() * 0.02, residents: Math.floor(rand() * 300), streetId: null, communityId: null }));
      const shelters = Array.from({ length: nS }, () => ({ lon: 113 + rand() * 0.02, lat: 23 + rand() * 0.02, shelterClass: 'emergency' as const }));
      const capacity = shelters.map(() => Math.floor(rand() * 400));
      const reach = computeReach(cells, cellGrid(cells), shelters, { emergency: 300 + rand() * 900, fixed: 0, central: 0 });
      const r = allocateCapacity(cells, reach, capacity);
      const edges = pairsOf(reach);
      expect(r.shelteredTotal, `instance ${t}`).toBe(edmondsKarp(cells.map((c) => c.residents), capacity, edges));
      capacity.forEach((c, j) => expect(r.load[j]).toBeLessThanOrEqual(c));
      cells.forEach((c, i) => expect(r.sheltered[i]).toBeLessThanOrEqual(c.residents));
      expect(r.pairFlow.every((f) => f >= 0 && Number.isInteger(f))).toBe(true);
      expect(r.unshelteredTotal).toBe(cells.reduce((s, c) => s + c.residents, 0) - r.shelteredTotal);
    }
  });

  it('is deterministic and handles no shelters, no residents and zero capacity', () => {
    const rand = mulberry32(5);
    const cells = Array.from({ length: 300 }, (_, i) => ({ id: i, lon: 113 + rand() * 0.05, lat: 23 + rand() * 0.05, residents: Math.floor(rand() * 300), streetId: null, communityId: null }));
    const shelters = Array.from({ length: 20 }, () => ({ lon: 113 + rand() * 0.05, lat: 23 + rand() * 0.05, shelterClass: 'emergency' as const }));
    const reach = computeReach(cells, cellGrid(cells), shelters, { emergency: 600, fixed: 0, central: 0 });
    const caps = shelters.map(() => Math.floor(rand() * 2000));
    const a = allocateCapacity(cells, reach, caps);
    const b = allocateCapacity(cells, reach, caps);
    expect(Array.from(a.pairFlow)).toEqual(Array.from(b.pairFlow));
    const none = computeReach(cells, cellGrid(cells), [], { emergency: 600, fixed: 0, central: 0 });
    expect(allocateCapacity(cells, none, []).shelteredTotal).toBe(0);
    expect(allocateCapacity(cells, reach, caps.map(() => 0)).shelteredTotal).toBe(0);
    expect(allocateCapacity([], computeReach([], cellGrid([]), shelters, { emergency: 600, fixed: 0, central: 0 }), caps).shelteredTotal).toBe(0);
  });
});
