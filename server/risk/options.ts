import type { RiskLevel } from '../../catalog/layers.ts';
import { DEFAULT_LEC_BANDS, DEFAULT_R_BANDS, type Band, type BandTable } from '../../catalog/grading.ts';
import { DEFAULT_TYPHOON_LEVELS, type TyphoonLevel, type TyphoonLevelRule } from './typhoon.ts';

/**
 * Defaults of risk grading, inspection supervision and hazard exposure. Every
 * cutoff is here, not in code: a deployment passes its own object to
 * `riskRoutes(ctx, options)` (see docs/risk.md for the sources of each figure).
 */

export type { Band, BandTable };

export interface InspectionRule {
  /** Months between inspections (calendar months; the 31st falls back to the month's last day). */
  everyMonths: number;
}

export interface ExposureDistance {
  /** A shelter this close (metres) is unusable. */
  unusableWithinM: number;
  /** A shelter this close, and not closer than `unusableWithinM`, is at risk. */
  atRiskWithinM: number;
}

export interface RiskOptions {
  /**
   * LEC method, D = L × E × C: D > 320 red, 160 ≤ D ≤ 320 orange, 70 ≤ D < 160 yellow, D < 70 blue.
   * The digest writes "> 320" and "< 70"; the shared edge 160 goes to the higher band, as in the
   * common reading of the Graham–Kinney table ("160–320 高度危险").
   */
  lecBands: BandTable;
  /** GB 18218-2018 grade of a major hazard source from R: R ≥ 100 red (一级), 50 ≤ R < 100 orange,
   *  10 ≤ R < 50 yellow, R < 10 blue (四级). */
  rBands: BandTable;
  /** Geohazard danger grade by people threatened: ≥ 1000 red (特大型), 500–999 orange (大型),
   *  100–499 yellow (中型), < 100 blue (小型). */
  geohazardPeopleBands: BandTable;
  /** … and by potential loss, CNY: ≥ ¥100 m red, ¥50–100 m orange, ¥5–50 m yellow, < ¥5 m blue.
   *  A site takes the higher of the two grades. */
  geohazardLossBands: BandTable;
  /** Sum of q/Q at or above which an enterprise is a major hazard source (GB 18218: 1). */
  majorHazardSumQ: number;
  /**
   * α from the people exposed within 500 m outside the site (GB 18218-2018 table): the first row whose
   * `minPeople` the count reaches, from the top. 100+ → 2.0, 50–99 → 1.5, 30–49 → 1.2, 1–29 → 1.0, 0 → 0.5.
   */
  alphaByPeople: readonly { minPeople: number; alpha: number }[];
  /**
   * Inspection frequency by colour. orange quarterly and yellow half-yearly are Huadu's plan;
   * red monthly is our default (the plan sets none; a red point is supervised at least as closely
   * as an orange one). Blue points are sampled instead (see `blueSampleShare`).
   */
  inspectionEvery: Record<Exclude<RiskLevel, 'blue'>, InspectionRule>;
  /** Share of a district's blue points inspected each calendar year (Huadu's plan: at least 30 %).
   *  The sample is reproducible: points ordered by a hash of (year, id), the first ⌈share·n⌉ drawn. */
  blueSampleShare: number;
  /** Days before the due date from which a point is listed as due soon. */
  dueSoonDays: number;
  /** Time zone of "today" for due dates when no `asOf` is given (the districts are in China). */
  timeZone: string;
  /**
   * Shelters near hazards (metres, straight line). Our defaults, documented in docs/risk.md:
   * flood-prone spots: unusable within 100 m, at risk within 300 m;
   * geohazard sites: unusable within 200 m, at risk within 500 m;
   * hazardous-chemical enterprises: unusable within 30 m (GB 50413's fire-break to ordinary
   *   secondary-fire sources), at risk within 300 m;
   * major hazard sources: unusable within 1000 m (GB 50413-2007: shelters at least 1000 m from
   *   flammable/explosive plants and stores), at risk within 1500 m.
   */
  shelterDistances: {
    flood_point: ExposureDistance;
    geohazard_site: ExposureDistance;
    hazard_source: ExposureDistance;
    major_hazard_source: ExposureDistance;
  };
  /** Residents counted as exposed within these distances (metres) of red and orange risk points
   *  and of major hazard sources (defaults: 500, 300, 1000 — the last as for shelters). */
  residentDistances: { red_point: number; orange_point: number; major_hazard_source: number };
  /** Typhoon scenarios: close outdoor shelters inside the warning area unless the request says otherwise. */
  closeOutdoorInWarningArea: boolean;
  /**
   * Typhoon warning signals for `typhoon_level` scenarios: lead time and wind from CMA's rules;
   * the rainfall each stands for (20/35/50/70 mm/h) and outdoor shelters closing from orange
   * are our assumptions (typhoon.ts, docs/risk.md). Must rise with the colour (checked at start-up).
   */
  typhoonLevels: Record<TyphoonLevel, TyphoonLevelRule>;
  /** Largest polygon a scenario accepts for a rainfall or warning area, km². */
  scenarioMaxAreaKm2: number;
}

export const DEFAULT_RISK_OPTIONS: RiskOptions = {
  lecBands: DEFAULT_LEC_BANDS,
  rBands: DEFAULT_R_BANDS,
  geohazardPeopleBands: [
    { level: 'red', min: 1000, inclusive: true },
    { level: 'orange', min: 500, inclusive: true },
    { level: 'yellow', min: 100, inclusive: true },
  ],
  geohazardLossBands: [
    { level: 'red', min: 100_000_000, inclusive: true },
    { level: 'orange', min: 50_000_000, inclusive: true },
    { level: 'yellow', min: 5_000_000, inclusive: true },
  ],
  majorHazardSumQ: 1,
  alphaByPeople: [
    { minPeople: 100, alpha: 2.0 },
    { minPeople: 50, alpha: 1.5 },
    { minPeople: 30, alpha: 1.2 },
    { minPeople: 1, alpha: 1.0 },
    { minPeople: 0, alpha: 0.5 },
  ],
  inspectionEvery: { red: { everyMonths: 1 }, orange: { everyMonths: 3 }, yellow: { everyMonths: 6 } },
  blueSampleShare: 0.3,
  dueSoonDays: 30,
  timeZone: 'Asia/Shanghai',
  shelterDistances: {
    flood_point: { unusableWithinM: 100, atRiskWithinM: 300 },
    geohazard_site: { unusableWithinM: 200, atRiskWithinM: 500 },
    hazard_source: { unusableWithinM: 30, atRiskWithinM: 300 },
    major_hazard_source: { unusableWithinM: 1000, atRiskWithinM: 1500 },
  },
  residentDistances: { red_point: 500, orange_point: 300, major_hazard_source: 1000 },
  closeOutdoorInWarningArea: false,
  typhoonLevels: DEFAULT_TYPHOON_LEVELS,
  scenarioMaxAreaKm2: 2500,
};

export function riskOptions(overrides: Partial<RiskOptions> = {}): RiskOptions {
  const d = DEFAULT_RISK_OPTIONS;
  return {
    ...d,
    ...overrides,
    inspectionEvery: { ...d.inspectionEvery, ...overrides.inspectionEvery },
    shelterDistances: { ...d.shelterDistances, ...overrides.shelterDistances },
    residentDistances: { ...d.residentDistances, ...overrides.residentDistances },
    typhoonLevels: { ...d.typhoonLevels, ...overrides.typhoonLevels },
  };
}
