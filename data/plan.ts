/**
 * How many features of each kind the demo data holds per district, and the
 * knobs of the synthetic geography. Counts quoted from a district's plan are
 * marked `plan`; every other count is a plausible synthetic choice and is
 * marked `synthetic` (data/README.md lists both).
 */
import type { DistrictId } from './districts.ts';

import type { RiskLevel } from '../catalog/layers.ts';

export type { RiskLevel };
export type FloodKind = 'black_spot' | 'drainage_hazard' | 'waterlogging';
export type GeohazardKind = 'rockfall' | 'landslide' | 'collapse' | 'subsidence' | 'dangerous_slope';
export type GeohazardScale = 'small' | 'medium' | 'large' | 'huge';
export type HazardSourceKind = 'production' | 'storage' | 'gas_station' | 'trading';
export type ResourceKind = 'rescue_team' | 'fire_station' | 'material_depot' | 'petrol_station' | 'reservoir';
export type NetworkKind = 'gas_pipeline' | 'oil_pipeline' | 'drainage';
export type Provenance = 'plan' | 'synthetic';

export interface CountSpec<K extends string> {
  counts: Partial<Record<K, number>>;
  source: Provenance;
}

export interface ShelterSpec {
  indoor: number;
  outdoor: number;
  source: Provenance;
  /** Exact capacity sums when the plan gives them (Pingshan). */
  indoorCapacity?: number;
  outdoorCapacity?: number;
  /**
   * Total effective area ÷ (population × target) when capacities are not
   * given: below 1 the district as a whole is short of its target.
   */
  provision: number;
}

export interface GeohazardSpec {
  kinds: Partial<Record<GeohazardKind, number>>;
  scales: Partial<Record<GeohazardScale, number>>;
  status: 'active' | 'treated';
  source: Provenance;
}

export interface HazardSourceSpec {
  kinds: Partial<Record<HazardSourceKind, number>>;
  /** How many are major hazard sources (GB 18218). */
  major: number;
  source: Provenance;
}

export interface ResourceSpec {
  counts: Partial<Record<ResourceKind, number>>;
  /** Exact personnel sum over rescue teams, when the plan gives it. */
  rescuePersonnel?: number;
  source: Provenance;
}

export interface NetworkSpec {
  kind: NetworkKind;
  /** Number of separate lines. */
  lines: number;
  /** Length of each line, km (a range, or one value for an exact figure). */
  lengthKm: [number, number];
  diameterMm: readonly number[];
  source: Provenance;
}

/** Synthetic residential density: hot spots around the district seat and the street/town centres. */
export interface DensitySpec {
  /** Floor everywhere, relative to the seat's peak of 1. */
  base: number;
  seatSigmaM: number;
  streetAmp: number;
  streetSigmaM: number;
  townAmp: number;
  townSigmaM: number;
  /** Log-normal cell-to-cell noise. */
  noise: number;
  /** Share of cells that are parks, water or hillside (density × 0.08). */
  voids: number;
  /** Spread of street seeds around the seat in districts with towns, m. */
  streetSpreadM: number;
}

export interface DistrictPlan {
  riskPoints: CountSpec<RiskLevel>;
  shelters: ShelterSpec;
  floodPoints: CountSpec<FloodKind>;
  geohazards: GeohazardSpec;
  hazardSources: HazardSourceSpec;
  resources: ResourceSpec;
  networks: NetworkSpec[];
  density: DensitySpec;
}

const urbanDensity: DensitySpec = {
  base: 0.3,
  seatSigmaM: 2500,
  streetAmp: 0.5,
  streetSigmaM: 700,
  townAmp: 0.5,
  townSigmaM: 700,
  noise: 0.35,
  voids: 0.08,
  streetSpreadM: 0,
};

export const PLANS: Record<DistrictId, DistrictPlan> = {
  yuexiu: {
    riskPoints: { counts: { red: 0, orange: 1, yellow: 21, blue: 124 }, source: 'plan' },
    shelters: { indoor: 14, outdoor: 21, provision: 1.02, source: 'plan' },
    floodPoints: { counts: { waterlogging: 3 }, source: 'plan' },
    geohazards: { kinds: { rockfall: 1 }, scales: { small: 1 }, status: 'active', source: 'plan' },
    hazardSources: { kinds: { gas_station: 8, trading: 4 }, major: 0, source: 'synthetic' },
    resources: { counts: { rescue_team: 12, fire_station: 6, material_depot: 3 }, source: 'synthetic' },
    networks: [
      { kind: 'gas_pipeline', lines: 6, lengthKm: [1.5, 4], diameterMm: [160, 200, 250, 315], source: 'synthetic' },
      { kind: 'drainage', lines: 8, lengthKm: [1, 3], diameterMm: [600, 800, 1000, 1200], source: 'synthetic' },
    ],
    density: { ...urbanDensity, base: 0.45, seatSigmaM: 2200 },
  },
  huadu: {
    riskPoints: { counts: { red: 1, orange: 3, yellow: 27, blue: 120 }, source: 'plan' },
    shelters: { indoor: 55, outdoor: 84, provision: 1.25, source: 'plan' },
    floodPoints: { counts: { black_spot: 12, drainage_hazard: 23 }, source: 'plan' },
    geohazards: {
      kinds: { rockfall: 22, landslide: 11, collapse: 4, subsidence: 2 },
      scales: { medium: 21, small: 18 },
      status: 'active',
      source: 'plan',
    },
    hazardSources: { kinds: { production: 10, storage: 8, trading: 30 }, major: 2, source: 'synthetic' },
    // Petrol stations and rescue teams are the plan's; fire stations: the plan's standard is one per
    // 120,000 residents (10 for 1,107,200) and the demo has 9, so the check has a shortfall to find.
    resources: {
      counts: { petrol_station: 68, rescue_team: 26, fire_station: 9, material_depot: 4, reservoir: 10 },
      source: 'plan',
    },
    networks: [{ kind: 'oil_pipeline', lines: 1, lengthKm: [30, 30], diameterMm: [323], source: 'plan' }],
    density: {
      base: 0.015,
      seatSigmaM: 3500,
      streetAmp: 0.7,
      streetSigmaM: 1500,
      townAmp: 0.35,
      townSigmaM: 1800,
      noise: 0.45,
      voids: 0.1,
      streetSpreadM: 3000,
    },
  },
  wujiang: {
    riskPoints: { counts: { red: 1, orange: 4, yellow: 25, blue: 90 }, source: 'synthetic' },
    shelters: { indoor: 16, outdoor: 24, provision: 1.12, source: 'synthetic' },
    floodPoints: { counts: { waterlogging: 14, black_spot: 4 }, source: 'synthetic' },
    geohazards: {
      kinds: { landslide: 20, rockfall: 16, collapse: 8, subsidence: 4 },
      scales: { small: 30, medium: 16, large: 2 },
      status: 'active',
      source: 'synthetic',
    },
    hazardSources: { kinds: { production: 6, storage: 6, gas_station: 12, trading: 12 }, major: 1, source: 'synthetic' },
    resources: {
      counts: { rescue_team: 10, fire_station: 4, material_depot: 3, reservoir: 15 },
      source: 'synthetic',
    },
    networks: [
      { kind: 'gas_pipeline', lines: 4, lengthKm: [2, 6], diameterMm: [160, 200, 315], source: 'synthetic' },
      { kind: 'drainage', lines: 8, lengthKm: [1, 4], diameterMm: [600, 800, 1000], source: 'synthetic' },
    ],
    density: {
      base: 0.008,
      seatSigmaM: 2500,
      streetAmp: 0.8,
      streetSigmaM: 1200,
      townAmp: 0.25,
      townSigmaM: 1500,
      noise: 0.45,
      voids: 0.1,
      streetSpreadM: 2500,
    },
  },
  pingshan: {
    riskPoints: { counts: { red: 2, orange: 8, yellow: 40, blue: 130 }, source: 'synthetic' },
    shelters: { indoor: 45, outdoor: 27, indoorCapacity: 9_740, outdoorCapacity: 400_000, provision: 1, source: 'plan' },
    floodPoints: { counts: { waterlogging: 40 }, source: 'plan' },
    geohazards: {
      kinds: { collapse: 38, landslide: 34, rockfall: 15, subsidence: 8 },
      scales: { small: 68, medium: 25, large: 2 },
      status: 'active',
      source: 'plan',
    },
    hazardSources: { kinds: { production: 8, storage: 6, gas_station: 10, trading: 16 }, major: 1, source: 'synthetic' },
    resources: {
      counts: { reservoir: 19, material_depot: 7, rescue_team: 50, fire_station: 13 },
      rescuePersonnel: 2_320,
      source: 'plan',
    },
    networks: [
      { kind: 'gas_pipeline', lines: 1, lengthKm: [12, 12], diameterMm: [508], source: 'synthetic' },
      { kind: 'gas_pipeline', lines: 11, lengthKm: [1.5, 4.5], diameterMm: [160, 200, 250, 315], source: 'synthetic' },
    ],
    density: {
      base: 0.06,
      seatSigmaM: 3000,
      streetAmp: 0.7,
      streetSigmaM: 1500,
      townAmp: 0.7,
      townSigmaM: 1500,
      noise: 0.4,
      voids: 0.12,
      streetSpreadM: 0,
    },
  },
  jianghai: {
    riskPoints: { counts: { red: 1, orange: 5, yellow: 24, blue: 80 }, source: 'synthetic' },
    shelters: { indoor: 12, outdoor: 18, provision: 0.92, source: 'synthetic' },
    floodPoints: { counts: { waterlogging: 18, drainage_hazard: 6 }, source: 'synthetic' },
    geohazards: {
      kinds: { landslide: 9, rockfall: 8, collapse: 4 },
      scales: { small: 17, medium: 4 },
      status: 'treated',
      source: 'plan',
    },
    hazardSources: { kinds: { production: 11, storage: 29, gas_station: 22, trading: 128 }, major: 4, source: 'plan' },
    resources: { counts: { rescue_team: 8, fire_station: 3, material_depot: 2 }, source: 'synthetic' },
    networks: [{ kind: 'drainage', lines: 28, lengthKm: [1, 4], diameterMm: [600, 800, 1000, 1200, 1500], source: 'synthetic' }],
    density: {
      base: 0.08,
      seatSigmaM: 3000,
      streetAmp: 0.6,
      streetSigmaM: 1800,
      townAmp: 0.6,
      townSigmaM: 1800,
      noise: 0.4,
      voids: 0.1,
      streetSpreadM: 0,
    },
  },
};
