/**
 * Typhoon warning signals (台风预警信号) as scenario inputs. The four colours, their lead
 * times and wind forces are the China Meteorological Administration's national rules
 * (blue 24 h, mean wind force ≥ 6 or gusts ≥ 8; yellow 24 h, ≥ 8 / ≥ 10; orange 12 h, ≥ 10 / ≥ 12;
 * red 6 h, ≥ 12 / ≥ 14 — checked against CMA's 2004 trial measures, believed unchanged in the annex
 * of CMA Order No. 16, 2007; provincial signals such as Guangdong's differ, see docs/risk.md).
 * A signal says nothing about rain at a flood-prone spot, nor about shelters: the rainfall
 * each level stands for and the level from which outdoor shelters close are OUR assumptions
 * (docs/risk.md), kept in `RiskOptions.typhoonLevels` so a deployment sets its own.
 */

export const TYPHOON_LEVELS = ['blue', 'yellow', 'orange', 'red'] as const;
export type TyphoonLevel = (typeof TYPHOON_LEVELS)[number];

/** Lower bounds of Beaufort forces 6–17 in m/s at 10 m (GB/T 28591-2012 风力等级). */
export const BEAUFORT_MIN_MS: Readonly<Record<number, number>> = {
  6: 10.8, 7: 13.9, 8: 17.2, 9: 20.8, 10: 24.5, 11: 28.5, 12: 32.7, 13: 37.0, 14: 41.5, 15: 46.2, 16: 51.0, 17: 56.1,
};

export interface TyphoonLevelRule {
  level: TyphoonLevel;
  name_zh: string;
  name_en: string;
  /** The signal is issued when the cyclone may reach the area within this many hours (CMA). */
  lead_hours: number;
  /** Mean wind force (Beaufort) at or above which the signal is issued (CMA). */
  mean_wind_force: number;
  /** … or gusts at or above this force (CMA). */
  gust_force: number;
  /** Rainfall the scenario applies over the district, mm/h (our assumption). */
  rainfall_mm_h: number;
  /** Outdoor shelters in the warning area close (our assumption: from orange up). */
  close_outdoor_shelters: boolean;
}

export const DEFAULT_TYPHOON_LEVELS: Record<TyphoonLevel, TyphoonLevelRule> = {
  blue: { level: 'blue', name_zh: '台风蓝色预警', name_en: 'Typhoon blue warning', lead_hours: 24, mean_wind_force: 6, gust_force: 8, rainfall_mm_h: 20, close_outdoor_shelters: false },
  yellow: { level: 'yellow', name_zh: '台风黄色预警', name_en: 'Typhoon yellow warning', lead_hours: 24, mean_wind_force: 8, gust_force: 10, rainfall_mm_h: 35, close_outdoor_shelters: false },
  orange: { level: 'orange', name_zh: '台风橙色预警', name_en: 'Typhoon orange warning', lead_hours: 12, mean_wind_force: 10, gust_force: 12, rainfall_mm_h: 50, close_outdoor_shelters: true },
  red: { level: 'red', name_zh: '台风红色预警', name_en: 'Typhoon red warning', lead_hours: 6, mean_wind_force: 12, gust_force: 14, rainfall_mm_h: 70, close_outdoor_shelters: true },
};

/**
 * A table must rise with the colour: a higher signal comes no earlier, with no less wind
 * and no less rain, and once outdoor shelters close they stay closed. Otherwise a "red"
 * scenario could close fewer shelters than an "orange" one. Returns the problems found.
 */
export function typhoonTableProblems(table: Record<TyphoonLevel, TyphoonLevelRule>): string[] {
  const problems: string[] = [];
  TYPHOON_LEVELS.forEach((level, i) => {
    const r = table[level];
    if (!r) return void problems.push(`${level}: missing`);
    if (r.level !== level) problems.push(`${level}: level says ${r.level}`);
    if (!(r.lead_hours > 0)) problems.push(`${level}.lead_hours: > 0`);
    if (!(r.rainfall_mm_h >= 0 && r.rainfall_mm_h <= 500)) problems.push(`${level}.rainfall_mm_h: 0–500`);
    for (const k of ['mean_wind_force', 'gust_force'] as const) {
      if (BEAUFORT_MIN_MS[r[k]] === undefined) problems.push(`${level}.${k}: a Beaufort force 6–17`);
    }
    if (i === 0) return;
    const lower = table[TYPHOON_LEVELS[i - 1]];
    if (!lower) return;
    if (r.lead_hours > lower.lead_hours) problems.push(`${level}.lead_hours: no more than ${lower.level}'s`);
    if (r.mean_wind_force < lower.mean_wind_force) problems.push(`${level}.mean_wind_force: no less than ${lower.level}'s`);
    if (r.gust_force < lower.gust_force) problems.push(`${level}.gust_force: no less than ${lower.level}'s`);
    if (r.rainfall_mm_h < lower.rainfall_mm_h) problems.push(`${level}.rainfall_mm_h: no less than ${lower.level}'s`);
    if (lower.close_outdoor_shelters && !r.close_outdoor_shelters) problems.push(`${level}.close_outdoor_shelters: true, as ${lower.level}`);
  });
  return problems;
}

/** What GET /analysis/scenario/options lists for one level (the client's picker). */
export function typhoonLevelLine(r: TyphoonLevelRule) {
  return {
    ...r,
    mean_wind_min_ms: BEAUFORT_MIN_MS[r.mean_wind_force],
    gust_min_ms: BEAUFORT_MIN_MS[r.gust_force],
  };
}
