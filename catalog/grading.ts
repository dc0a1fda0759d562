import type { RiskLevel } from './layers.ts';

/**
 * The grading facts of the risk vocabulary: the LEC value tables, the band
 * tables that turn a score into one of the four colours, and the default
 * cutoffs. The server grades with them (server/risk/grading.ts, whose cutoffs a
 * deployment may configure) and the demo generator grades its synthetic points
 * with the same defaults, so the two cannot disagree.
 */

/** One band of a graded score: the score reaches the band from `min` up (`inclusive` says whether `min` itself belongs). */
export interface Band {
  level: RiskLevel;
  min: number;
  inclusive: boolean;
}

/** Bands from the highest level down; a score below every band is `blue`. */
export type BandTable = readonly Band[];

/** The level of `score` in `bands` (highest first); below every band is blue. */
export function bandLevel(score: number, bands: BandTable): RiskLevel {
  for (const b of bands) if (b.inclusive ? score >= b.min : score > b.min) return b.level;
  return 'blue';
}

/** LEC method, D = L × E × C: D > 320 red, 160 ≤ D ≤ 320 orange, 70 ≤ D < 160 yellow, D < 70 blue (see RiskOptions.lecBands). */
export const DEFAULT_LEC_BANDS: BandTable = [
  { level: 'red', min: 320, inclusive: false },
  { level: 'orange', min: 160, inclusive: true },
  { level: 'yellow', min: 70, inclusive: true },
];

/** GB 18218 R of a hazardous-chemical enterprise: R ≥ 100 red, 50–100 orange, 10–50 yellow, < 10 blue (see RiskOptions.rBands). */
export const DEFAULT_R_BANDS: BandTable = [
  { level: 'red', min: 100, inclusive: true },
  { level: 'orange', min: 50, inclusive: true },
  { level: 'yellow', min: 10, inclusive: true },
];

/** The standard LEC value tables (作业条件危险性评价法), with what each value means. */
export const LEC_TABLES = {
  l: {
    10: '完全可以预料 (fully expected)',
    6: '相当可能 (quite possible)',
    3: '可能，但不经常 (possible, unusual)',
    1: '可能性小，完全意外 (remotely possible)',
    0.5: '很不可能，可以设想 (conceivable)',
    0.2: '极不可能 (practically impossible)',
    0.1: '实际不可能 (virtually impossible)',
  },
  e: {
    10: '连续暴露 (continuous)',
    6: '每天工作时间内暴露 (daily, working hours)',
    3: '每周一次或偶然暴露 (weekly or occasional)',
    2: '每月一次暴露 (monthly)',
    1: '每年几次暴露 (a few times a year)',
    0.5: '非常罕见地暴露 (very rare)',
  },
  c: {
    100: '大灾难，许多人死亡 (catastrophe, many deaths)',
    40: '灾难，数人死亡 (disaster, several deaths)',
    15: '非常严重，一人死亡 (very serious, one death)',
    7: '严重，重伤 (serious injury)',
    3: '重大，致残 (disabling injury)',
    1: '引人注目，需要救护 (noticeable, first aid)',
  },
} as const;

export const LEC_VALUES = {
  l: Object.keys(LEC_TABLES.l).map(Number).sort((a, b) => a - b),
  e: Object.keys(LEC_TABLES.e).map(Number).sort((a, b) => a - b),
  c: Object.keys(LEC_TABLES.c).map(Number).sort((a, b) => a - b),
};
