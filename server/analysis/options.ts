/**
 * Defaults of the shelter coverage and capacity analysis. Every key is a
 * default a request may override (see params.ts); the sources of the figures
 * are in docs/analysis.md. A deployment passes its own object to
 * `analysisServices(db, options)` and hands the result to buildApp (`analysis`)
 * to change them.
 */
import { SHELTER_CLASSES, SHELTER_STATUSES, STAY_CLASSES, type ShelterClass, type ShelterStatus, type StayClass } from '../../catalog/layers.ts';

// The shelter vocabulary lives in the catalogue (the demo generator uses it too).
export { SHELTER_CLASSES, SHELTER_STATUSES, STAY_CLASSES, type ShelterClass, type ShelterStatus, type StayClass };

export interface AnalysisOptions {
  /**
   * Service radius per shelter class, metres, straight line.
   * emergency 500 m: GB 50413-2007 (紧急避震疏散场所, "about 500 m, about 10 minutes' walk");
   * fixed 2000 m: GB 50413 gives 2–3 km, we take the lower bound so coverage is not overstated;
   * central 3000 m: a central shelter also serves as a fixed shelter for its neighbourhood (its
   * city-wide role is command, medical and supplies, not walking distance), so it gets the fixed
   * shelters' upper bound. Ask `radius_central=50000` for the city-wide reading.
   */
  radiusM: Record<ShelterClass, number>;
  /** Walking speed for `minutes` parameters and walking-time estimates, metres per minute
   *  (50 m/min: GB 50413's 500 m ≈ 10 min, which allows for children and the elderly). */
  walkingSpeedMPerMin: number;
  /** Travel speed for `minutes` in generic resource coverage (fire stations, rescue teams), metres
   *  per minute (500 m/min = 30 km/h, a common planning figure for fire engines in urban traffic). */
  vehicleSpeedMPerMin: number;
  /** Shelter statuses that count in coverage, capacity and siting (closed shelters do not). */
  shelterStatuses: readonly ShelterStatus[];
  /** Capacity of a shelter for allocation: 'class' (default) = the stated capacity where one is
   *  recorded, otherwise effective area ÷ the per-person standard of the shelter's class;
   *  'area' = effective area ÷ m² per person for every shelter; 'stated' = the recorded capacity. */
  capacityBasis: 'class' | 'area' | 'stated';
  /** m² per person by planning class, for the 'class' basis: GB 50413-2007 §8.2.8 — emergency
   *  ≥ 1 m², fixed ≥ 2 m² (checked in reproductions of the clause); a central shelter is also a
   *  fixed shelter (2 m²). */
  m2PerPersonByClass: Record<ShelterClass, number>;
  /** m² per person by length of stay where a shelter records one (overrides the planning class):
   *  III (< 10 days) 2 m², II (10–30 days) 3 m², I (≥ 30 days) 4.5 m². UNVERIFIED: meant as
   *  GB 51143-2015's figures for short-, medium- and long-term fixed shelters, written from memory;
   *  no copy of its table was available to check them (docs/analysis.md says what was checked).
   *  The mapping of GB 51143's opening periods to GB 21734's stay classes is ours. */
  m2PerPersonByStay: Record<StayClass, number>;
  /** m² per person for the 'area' basis; null = the district's shelter target
   *  (1.5 m² from GB 21734 or 1 m² in Huadu's plan). */
  m2PerPerson: number | null;
  /** Whether allocation subtracts people already housed (occupancy) from capacity. */
  occupancy: 'ignore' | 'subtract';
  /** 2SFCA distance decay: 'none' (classic 2SFCA), 'gaussian' (continuous Gaussian kernel
   *  falling to 0 at the radius, Dai 2010), 'steps' (E2SFCA, Luo & Qi 2009: weights 1, 0.68, 0.22
   *  for the inner, middle and outer third of the radius). */
  decay: 'none' | 'gaussian' | 'steps';
  /** Candidate grid spacing for siting when no candidate layer is named, metres. */
  sitingGridSpacingM: number;
  /** Candidates above this count make the grid spacing coarser (siting stays interactive). */
  sitingMaxCandidates: number;
  /** Effective area of a proposed shelter for capacity-aware siting, m²
   *  (2000 m²: GB 21734's minimum site for an emergency shelter). */
  sitingNewShelterAreaM2: number;
  /** Smallest site a candidate site may have to become a shelter of each class, m² of land:
   *  GB 50413-2007 §8.2.9 — emergency ≥ 0.1 hm², fixed ≥ 1 hm², central ≥ 50 hm² (checked in
   *  reproductions of the clause). Smaller candidate sites are skipped, with the reason. */
  sitingMinSiteAreaM2: Record<ShelterClass, number>;
  /** Largest instance (number of candidate subsets) the exact check of siting enumerates. */
  sitingExactMaxSubsets: number;
  /** Largest polygon /analysis/area-summary accepts, km² (a district is up to ~1000 km²). */
  areaSummaryMaxKm2: number;
  /** Answers kept in the cache (keyed on analysis, district, parameters and data version). */
  cacheEntries: number;
  /** Loaded districts and per-parameter analyses kept (megabytes each for a big district). */
  modelCacheEntries: number;
}

export const DEFAULT_ANALYSIS_OPTIONS: AnalysisOptions = {
  radiusM: { emergency: 500, fixed: 2000, central: 3000 },
  walkingSpeedMPerMin: 50,
  vehicleSpeedMPerMin: 500,
  shelterStatuses: ['open', 'standby', 'full'],
  capacityBasis: 'class',
  m2PerPersonByClass: { emergency: 1, fixed: 2, central: 2 },
  m2PerPersonByStay: { I: 4.5, II: 3, III: 2 },
  m2PerPerson: null,
  occupancy: 'ignore',
  decay: 'none',
  sitingGridSpacingM: 250,
  sitingMaxCandidates: 40_000,
  sitingNewShelterAreaM2: 2000,
  sitingMinSiteAreaM2: { emergency: 1_000, fixed: 10_000, central: 500_000 },
  sitingExactMaxSubsets: 200_000,
  areaSummaryMaxKm2: 2500,
  cacheEntries: 200,
  modelCacheEntries: 24,
};

/** Radii and inputs above this are refused as absurd for shelter analysis (metres). */
export const MAX_RADIUS_M = 50_000;

export function analysisOptions(overrides: Partial<AnalysisOptions> = {}): AnalysisOptions {
  const d = DEFAULT_ANALYSIS_OPTIONS;
  return {
    ...d,
    ...overrides,
    radiusM: { ...d.radiusM, ...overrides.radiusM },
    m2PerPersonByClass: { ...d.m2PerPersonByClass, ...overrides.m2PerPersonByClass },
    m2PerPersonByStay: { ...d.m2PerPersonByStay, ...overrides.m2PerPersonByStay },
    sitingMinSiteAreaM2: { ...d.sitingMinSiteAreaM2, ...overrides.sitingMinSiteAreaM2 },
  };
}
