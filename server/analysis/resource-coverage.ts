import type { PopulationCell } from './model.ts';
import type { PointGrid } from './point-grid.ts';
import { computeReach } from './reach.ts';

/**
 * Generic coverage for any point layer (fire stations, rescue teams, depots):
 * residents within a radius — given in metres or as minutes at a speed — of at
 * least one feature, per unit and in total, and residents per feature against a
 * "one per N residents" target (Huadu: one fire station per 120,000 residents;
 * Pingshan: 5-minute fire response).
 */
export interface ResourcePoint {
  id: number;
  lon: number;
  lat: number;
  streetId: string | null;
  communityId: string | null;
}

export function resourceCoverage(cells: readonly PopulationCell[], grid: PointGrid, points: readonly ResourcePoint[], radiusM: number): Uint8Array {
  const reach = computeReach(
    cells,
    grid,
    points.map((p) => ({ lon: p.lon, lat: p.lat, shelterClass: 'emergency' as const })),
    { emergency: radiusM, fixed: radiusM, central: radiusM },
  );
  const covered = new Uint8Array(cells.length);
  for (let i = 0; i < cells.length; i++) covered[i] = reach.cellStart[i + 1] > reach.cellStart[i] ? 1 : 0;
  return covered;
}
