import type { PopulationCell, Shelter } from './model.ts';
import type { ShelterClass } from './options.ts';
import { PointGrid } from './point-grid.ts';

/**
 * Which population cells each shelter reaches within its class radius, with the
 * distances: the one spatial join every analysis (coverage, 2SFCA, allocation,
 * siting baseline) builds on. Stored both ways in flat arrays:
 * by shelter (shelterStart/cellOf) and by cell (cellStart/shelterOf).
 */
export interface Reach {
  shelterCount: number;
  cellCount: number;
  /** Pairs of shelter j: k in shelterStart[j]..shelterStart[j+1]; cellOf[k], distOf[k]. */
  shelterStart: Int32Array;
  cellOf: Int32Array;
  distOf: Float64Array;
  /** Pairs of cell i: k in cellStart[i]..cellStart[i+1]; shelterOf[k], cellDist[k]; nearest first. */
  cellStart: Int32Array;
  shelterOf: Int32Array;
  cellDist: Float64Array;
  /** Radius each shelter was joined with, metres. */
  radiusOf: Float64Array;
}

/** A grid over the cells' points, built once per snapshot. */
export function cellGrid(cells: readonly PopulationCell[]): PointGrid {
  return new PointGrid(
    cells.map((c) => c.lon),
    cells.map((c) => c.lat),
  );
}

export function computeReach(
  cells: readonly PopulationCell[],
  grid: PointGrid,
  shelters: readonly Pick<Shelter, 'lon' | 'lat' | 'shelterClass'>[],
  radii: Record<ShelterClass, number>,
): Reach {
  const nS = shelters.length;
  const nC = cells.length;
  const shelterStart = new Int32Array(nS + 1);
  const radiusOf = new Float64Array(nS);
  let cellOfList: number[] = [];
  let distList: number[] = [];
  for (let j = 0; j < nS; j++) {
    const s = shelters[j];
    const r = radii[s.shelterClass];
    radiusOf[j] = r;
    const found: { i: number; d: number }[] = [];
    grid.within(s.lon, s.lat, r, (i, d) => found.push({ i, d }));
    found.sort((a, b) => a.i - b.i); // cell order: deterministic whatever the grid layout
    for (const f of found) {
      cellOfList.push(f.i);
      distList.push(f.d);
    }
    shelterStart[j + 1] = cellOfList.length;
  }
  const cellOf = Int32Array.from(cellOfList);
  const distOf = Float64Array.from(distList);
  cellOfList = distList = [];

  // transpose: pairs by cell, nearest shelter first (ties: lower shelter index)
  const cellStart = new Int32Array(nC + 1);
  for (let k = 0; k < cellOf.length; k++) cellStart[cellOf[k] + 1]++;
  for (let i = 0; i < nC; i++) cellStart[i + 1] += cellStart[i];
  const cursor = cellStart.slice(0, nC);
  const shelterOf = new Int32Array(cellOf.length);
  const cellDist = new Float64Array(cellOf.length);
  for (let j = 0; j < nS; j++) {
    for (let k = shelterStart[j]; k < shelterStart[j + 1]; k++) {
      const pos = cursor[cellOf[k]]++;
      shelterOf[pos] = j;
      cellDist[pos] = distOf[k];
    }
  }
  for (let i = 0; i < nC; i++) sortPairs(shelterOf, cellDist, cellStart[i], cellStart[i + 1]);
  return { shelterCount: nS, cellCount: nC, shelterStart, cellOf, distOf, cellStart, shelterOf, cellDist, radiusOf };
}

/** Insertion sort of a cell's (usually few) pairs by distance, then shelter index. */
function sortPairs(idx: Int32Array, dist: Float64Array, from: number, to: number): void {
  for (let a = from + 1; a < to; a++) {
    const i = idx[a], d = dist[a];
    let b = a - 1;
    while (b >= from && (dist[b] > d || (dist[b] === d && idx[b] > i))) {
      idx[b + 1] = idx[b];
      dist[b + 1] = dist[b];
      b--;
    }
    idx[b + 1] = i;
    dist[b + 1] = d;
  }
}
