import { allocateCapacity, type AllocationResult } from './allocation.ts';
import { twoStepCatchment, type CatchmentResult, type Decay } from './catchment.ts';
import type { AdminUnit, DistrictSnapshot, PopulationCell, Shelter } from './model.ts';
import type { ShelterSettings } from './params.ts';
import type { PointGrid } from './point-grid.ts';
import { computeReach, type Reach } from './reach.ts';

/**
 * Shelter coverage of one district: who is within a usable shelter's class
 * radius (radius coverage), how much shelter area each resident can reach
 * (2SFCA), and who has no place once capacities are respected (allocation) —
 * all from one spatial join (reach.ts), then summed per street or community.
 */
export interface ShelterModel {
  /** Shelters that count under the settings' statuses and exclusions, ordered by id. */
  usable: Shelter[];
  reach: Reach;
  /** Per usable shelter: people it holds (capacity basis, minus occupancy if asked). */
  capacity: Float64Array;
  /** Per usable shelter: effective area, m² (2SFCA supply). */
  supply: Float64Array;
}

/** m² per person of a shelter under the class basis: its stay class's standard, else its planning class's. */
export function classStandardM2(s: Pick<Shelter, 'shelterClass' | 'stayClass'>, settings: Pick<ShelterSettings, 'm2ByClass' | 'm2ByStay'>): number {
  return s.stayClass ? settings.m2ByStay[s.stayClass] : settings.m2ByClass[s.shelterClass];
}

export function shelterCapacity(s: Pick<Shelter, 'effectiveAreaM2' | 'capacity' | 'occupancy' | 'shelterClass' | 'stayClass'>, settings: ShelterSettings): number {
  const byArea = (m2: number) => Math.floor(s.effectiveAreaM2 / m2 + 1e-9);
  const base =
    settings.capacityBasis === 'area'
      ? byArea(settings.m2PerPerson)
      : settings.capacityBasis === 'stated' || s.capacity > 0
        ? s.capacity
        : byArea(classStandardM2(s, settings));
  return Math.max(0, settings.occupancy === 'subtract' ? base - s.occupancy : base);
}

export function prepareShelters(cells: readonly PopulationCell[], grid: PointGrid, shelters: readonly Shelter[], settings: ShelterSettings): ShelterModel {
  const excluded = new Set(settings.excludedShelters);
  const usable = shelters.filter((s) => settings.statuses.includes(s.status) && !excluded.has(s.id) && (s.usable !== false || settings.includeUnusable));
  return {
    usable,
    reach: computeReach(cells, grid, usable, settings.radii),
    capacity: Float64Array.from(usable, (s) => shelterCapacity(s, settings)),
    supply: Float64Array.from(usable, (s) => s.effectiveAreaM2),
  };
}

export interface CoverageAnalysis {
  model: ShelterModel;
  /** Per cell: 1 when some usable shelter reaches it. */
  covered: Uint8Array;
  catchment: CatchmentResult;
  allocation: AllocationResult;
}

export function analyseCoverage(cells: readonly PopulationCell[], grid: PointGrid, shelters: readonly Shelter[], settings: ShelterSettings, decay: Decay): CoverageAnalysis {
  const model = prepareShelters(cells, grid, shelters, settings);
  const covered = new Uint8Array(cells.length);
  for (let i = 0; i < cells.length; i++) covered[i] = model.reach.cellStart[i + 1] > model.reach.cellStart[i] ? 1 : 0;
  return {
    model,
    covered,
    catchment: twoStepCatchment(cells, model.reach, model.supply, decay),
    allocation: allocateCapacity(cells, model.reach, model.capacity),
  };
}

export type UnitLevel = 'street' | 'community';

interface Tally {
  residents: number;
  covered: number;
  sheltered: number;
  accessWeighted: number;
  belowTarget: number;
  shelters: number;
  area: number;
  capacity: number;
}

const emptyTally = (): Tally => ({ residents: 0, covered: 0, sheltered: 0, accessWeighted: 0, belowTarget: 0, shelters: 0, area: 0, capacity: 0 });

const round = (x: number, digits = 2) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};
const ratioOrNull = (num: number, den: number, digits = 2) => (den > 0 ? round(num / den, digits) : null);

/** One unit's (or the district's) line of the coverage table. */
export interface CoverageLine {
  residents: number;
  covered_residents: number;
  uncovered_residents: number;
  /** 0–100; null when the unit has no residents. */
  covered_pct: number | null;
  shelters: number;
  shelter_area_m2: number;
  area_per_resident_m2: number | null;
  target_m2_per_resident: number;
  meets_target: boolean | null;
  area_shortfall_m2: number;
  capacity: number;
  catchment_m2_per_resident: number | null;
  catchment_meets_target: boolean | null;
  residents_below_target_by_catchment: number;
  sheltered_residents: number;
  unsheltered_residents: number;
  unsheltered_pct: number | null;
}

function line(t: Tally, target: number): CoverageLine {
  const perResident = t.residents > 0 ? t.area / t.residents : null;
  const catchment = t.residents > 0 ? t.accessWeighted / t.residents : null;
  return {
    residents: t.residents,
    covered_residents: t.covered,
    uncovered_residents: t.residents - t.covered,
    covered_pct: ratioOrNull(100 * t.covered, t.residents),
    shelters: t.shelters,
    shelter_area_m2: round(t.area),
    area_per_resident_m2: perResident === null ? null : round(perResident, 3),
    target_m2_per_resident: target,
    // the same tolerance as the catchment test: a sum of areas that should equal target × residents
    // may land a few ulps below it, and the shortfall (rounded to 0) would then contradict the verdict
    meets_target: perResident === null ? null : t.area >= target * t.residents - 1e-9 * Math.max(1, target * t.residents),
    area_shortfall_m2: round(Math.max(0, target * t.residents - t.area)),
    capacity: t.capacity,
    catchment_m2_per_resident: catchment === null ? null : round(catchment, 3),
    // compared before rounding; a small tolerance absorbs float sums that should equal the target
    catchment_meets_target: catchment === null ? null : catchment >= target - 1e-9,
    residents_below_target_by_catchment: t.belowTarget,
    sheltered_residents: t.sheltered,
    unsheltered_residents: t.residents - t.sheltered,
    unsheltered_pct: ratioOrNull(100 * (t.residents - t.sheltered), t.residents),
  };
}

export interface CoverageTable {
  units: (AdminUnit & CoverageLine)[];
  total: CoverageLine;
  /** Residents in cells that lie in no unit of this level (counted in the total only). */
  unassigned_residents: number;
}

/** Sums the per-cell results per street or community, and for the district. */
export function coverageTable(snapshot: Pick<DistrictSnapshot, 'cells' | 'streets' | 'communities'>, analysis: CoverageAnalysis, level: UnitLevel, target: number): CoverageTable {
  const { cells } = snapshot;
  const units = level === 'street' ? snapshot.streets : snapshot.communities;
  const key = level === 'street' ? ('streetId' as const) : ('communityId' as const);
  const tallies = new Map<string, Tally>(units.map((u) => [u.id, emptyTally()]));
  const total = emptyTally();
  const unassigned = emptyTally();
  const { covered, catchment, allocation, model } = analysis;
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i];
    const t = (c[key] && tallies.get(c[key]!)) || unassigned;
    for (const x of [t, total]) {
      x.residents += c.residents;
      if (covered[i]) x.covered += c.residents;
      x.sheltered += allocation.sheltered[i];
      x.accessWeighted += c.residents * catchment.access[i];
      if (catchment.access[i] < target - 1e-9) x.belowTarget += c.residents;
    }
  }
  model.usable.forEach((s, j) => {
    const t = (s[key] && tallies.get(s[key]!)) || unassigned;
    for (const x of [t, total]) {
      x.shelters += 1;
      x.area += s.effectiveAreaM2;
      x.capacity += model.capacity[j];
    }
  });
  return {
    units: units.map((u) => ({ id: u.id, name_zh: u.name_zh, name_en: u.name_en, ...line(tallies.get(u.id)!, target) })),
    total: line(total, target),
    unassigned_residents: unassigned.residents,
  };
}

/** Per usable shelter: what it reaches, its 2SFCA ratio and what allocation gave it. */
export function shelterLines(analysis: CoverageAnalysis, cells: readonly PopulationCell[]) {
  const { model, catchment, allocation } = analysis;
  return model.usable.map((s, j) => {
    let inReach = 0;
    for (let k = model.reach.shelterStart[j]; k < model.reach.shelterStart[j + 1]; k++) inReach += cells[model.reach.cellOf[k]].residents;
    return {
      id: s.id,
      name_zh: s.name_zh,
      name_en: s.name_en,
      shelter_class: s.shelterClass,
      status: s.status,
      lon: round(s.lon, 6),
      lat: round(s.lat, 6),
      radius_m: model.reach.radiusOf[j],
      effective_area_m2: s.effectiveAreaM2,
      capacity: model.capacity[j],
      residents_in_reach: inReach,
      catchment_m2_per_resident: Number.isNaN(catchment.ratio[j]) ? null : round(catchment.ratio[j], 4),
      assigned_residents: allocation.load[j],
      utilisation_pct: ratioOrNull(100 * allocation.load[j], model.capacity[j]),
    };
  });
}
