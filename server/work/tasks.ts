import { analyseCoverage, type CoverageAnalysis } from '../analysis/coverage.ts';
import type { Decay } from '../analysis/catchment.ts';
import type { PopulationCell, Shelter } from '../analysis/model.ts';
import type { ShelterSettings } from '../analysis/params.ts';
import { cellGrid } from '../analysis/reach.ts';
import { candidateReach, exactSiting, greedySiting, type Candidate } from '../analysis/siting.ts';
import { PointGrid } from '../analysis/point-grid.ts';
import { nearestLookup, type NearestShelterRow } from '../analysis/nearest.ts';

/**
 * The computations the worker pool runs (server/work/pool.ts): pure functions
 * of plain data in, plain data out. Spatial indexes are classes, so they are
 * rebuilt here from the points (milliseconds) rather than sent over.
 */

export interface CoverageAnalysisInput {
  cells: PopulationCell[];
  shelters: Shelter[];
  settings: ShelterSettings;
  decay: Decay;
}

export interface SitingInput {
  cells: PopulationCell[];
  candidates: Candidate[];
  radiusM: number;
  demand: Float64Array;
  k: number;
  /** People one new site can take; null = plain coverage. */
  capacity: number | null;
  exactMaxSubsets: number;
}

export interface NearestBatchInput {
  shelters: Pick<NearestShelterRow, 'lon' | 'lat' | 'district_id'>[];
  withRoom: Uint8Array;
  anyRoom: Uint8Array;
  options: { n: number; district?: string; includeFull: boolean; maxDistanceM?: number };
  points: [number, number][];
}

export const TASKS = {
  coverageAnalysis(input: CoverageAnalysisInput): CoverageAnalysis {
    return analyseCoverage(input.cells, cellGrid(input.cells), input.shelters, input.settings, input.decay);
  },

  siting(input: SitingInput) {
    const reach = candidateReach(input.candidates, cellGrid(input.cells), input.radiusM);
    const result = greedySiting(input.demand, reach, input.k, input.capacity ?? Infinity);
    const exact = input.capacity === null ? exactSiting(input.demand, reach, input.k, input.exactMaxSubsets) : null;
    return { picks: result.picks, stoppedEarly: result.stoppedEarly, exact };
  },

  /** Per point, the nearest shelters as [index, distance] pairs (the caller has the shelter rows). */
  nearestBatch(input: NearestBatchInput): { index: Int32Array; distance: Float64Array }[] {
    const grid = new PointGrid(
      input.shelters.map((s) => s.lon),
      input.shelters.map((s) => s.lat),
    );
    const index = { shelters: input.shelters as NearestShelterRow[], grid, withRoom: input.withRoom, anyRoom: input.anyRoom, districtOf: input.shelters.map((s) => s.district_id) };
    const lookup = nearestLookup(index, input.options);
    return input.points.map(([lon, lat]) => {
      const found = lookup(lon, lat);
      return { index: found.index.slice(0, found.count), distance: found.distance.slice(0, found.count) };
    });
  },
};

export type Tasks = typeof TASKS;
export type TaskName = keyof Tasks;
