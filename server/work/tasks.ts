import { analyseCoverage, type CoverageAnalysis } from '../analysis/coverage.ts';
import type { Decay } from '../analysis/catchment.ts';
import type { Shelter } from '../analysis/model.ts';
import type { ShelterSettings } from '../analysis/params.ts';
import { cellGrid } from '../analysis/reach.ts';
import { packCellsFromJson, unpackCells, type PackedCells } from '../analysis/packed-cells.ts';
import { candidateReach, exactSiting, greedySiting, type Candidate } from '../analysis/siting.ts';
import { PointGrid } from '../analysis/point-grid.ts';
import { nearestLookup, type NearestShelterRow } from '../analysis/nearest.ts';
import { parseCsvRows, parseGeoJsonRows, parseXlsxRows, type ImportFormat, type RawRow, type RowError } from '../imports/parse.ts';
import { getLayer } from '../../catalog/layers.ts';
import { composeMap, type ComposedMapBytes, type MapComposition } from '../maps/compose.ts';

/**
 * The computations the worker pool runs (server/work/pool.ts): pure functions
 * of plain data in, plain data out. Spatial indexes are classes, so they are
 * rebuilt here from the points (milliseconds) rather than sent over.
 */

export interface CoverageAnalysisInput {
  /** Packed (server/analysis/packed-cells.ts): cheap to copy on the main thread. */
  cells: PackedCells;
  shelters: Shelter[];
  settings: ShelterSettings;
  decay: Decay;
}

export interface SitingInput {
  cells: PackedCells;
  candidates: Candidate[];
  radiusM: number;
  demand: Float64Array;
  k: number;
  /** People one new site can take (one figure or one per candidate); null = plain coverage. */
  capacity: number | Float64Array | null;
  exactMaxSubsets: number;
}

export interface NearestBatchInput {
  shelters: Pick<NearestShelterRow, 'lon' | 'lat' | 'district_id'>[];
  withRoom: Uint8Array;
  anyRoom: Uint8Array;
  /** Per shelter: 1 when inside a hazard zone (left out unless includeExposed). */
  exposedFlag: Uint8Array;
  /** Per shelter: 1 when stored as unusable (left out unless includeUnusable). */
  unusableFlag: Uint8Array;
  options: { n: number; district?: string; includeFull: boolean; includeExposed: boolean; includeUnusable: boolean; maxDistanceM?: number };
  points: [number, number][];
}

export interface ParseImportInput {
  /** Registry id (the layer definition itself is not plain data). */
  layerId: string;
  format: ImportFormat;
  data: Uint8Array;
}

export const TASKS = {
  /** The rows of an import file, or the one error that makes the whole file unreadable. */
  async parseImport(input: ParseImportInput): Promise<{ rows: RawRow[] } | { error: RowError }> {
    const layer = getLayer(input.layerId)!;
    const data = Buffer.from(input.data.buffer, input.data.byteOffset, input.data.byteLength);
    if (input.format === 'csv') return { rows: parseCsvRows(layer, data.toString('utf8')) };
    if (input.format === 'xlsx') return { rows: await parseXlsxRows(layer, data) };
    const parsed = parseGeoJsonRows(layer, data.toString('utf8'));
    return Array.isArray(parsed) ? { rows: parsed } : { error: parsed };
  },

  /** A district's population cells from the JSON text the snapshot query gives (server/analysis/snapshot.ts). */
  packCellsFromJson(json: string): PackedCells {
    return packCellsFromJson(json);
  },

  /** A static map's features parsed and its SVG composed (server/maps/static-map.ts rasterises it). */
  composeMap(input: MapComposition): ComposedMapBytes {
    return composeMap(input);
  },

  coverageAnalysis(input: CoverageAnalysisInput): CoverageAnalysis {
    const cells = unpackCells(input.cells);
    return analyseCoverage(cells, cellGrid(cells), input.shelters, input.settings, input.decay);
  },

  siting(input: SitingInput) {
    const reach = candidateReach(input.candidates, cellGrid(unpackCells(input.cells)), input.radiusM);
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
    const index = {
      shelters: input.shelters as NearestShelterRow[],
      grid,
      withRoom: input.withRoom,
      anyRoom: input.anyRoom,
      districtOf: input.shelters.map((s) => s.district_id),
      // the zones themselves stay with the caller, which names them in the answer
      exposed: new Map(),
      exposedFlag: input.exposedFlag,
      unusableFlag: input.unusableFlag,
    };
    const lookup = nearestLookup(index, input.options);
    return input.points.map(([lon, lat]) => {
      const found = lookup(lon, lat);
      return { index: found.index.slice(0, found.count), distance: found.distance.slice(0, found.count) };
    });
  },
};

export type Tasks = typeof TASKS;
export type TaskName = keyof Tasks;
