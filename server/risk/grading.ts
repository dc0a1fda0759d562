import { RISK_LEVELS, type RiskLevel } from '../../catalog/layers.ts';
import type { BandTable, RiskOptions } from './options.ts';
import { bandLevel, LEC_TABLES, LEC_VALUES } from '../../catalog/grading.ts';
import { typhoonTableProblems } from './typhoon.ts';

/**
 * Grading in four colours — pure functions of their inputs and the cutoffs in
 * RiskOptions: the LEC method for risk points, GB 18218 for hazardous-chemical
 * enterprises, and the danger grade of geohazard sites.
 */

/** red 0 … blue 3: lower is more serious. */
export const LEVEL_RANK: Record<RiskLevel, number> = { red: 0, orange: 1, yellow: 2, blue: 3 };

export const higherLevel = (a: RiskLevel, b: RiskLevel): RiskLevel => (LEVEL_RANK[a] <= LEVEL_RANK[b] ? a : b);

/** Products and sums of decimal factors carry float noise (0.1 × 3 = 0.30000000000000004); compare at 1e-9. */
const clean = (x: number) => Math.round(x * 1e9) / 1e9;

export { bandLevel, LEC_TABLES, LEC_VALUES };

/** Checks a band table from configuration: levels red→yellow in order, cutoffs falling. */
export function checkBands(name: string, bands: BandTable): void {
  const expected = RISK_LEVELS.slice(0, bands.length);
  bands.forEach((b, i) => {
    if (b.level !== expected[i]) throw new Error(`${name}: band ${i} must be ${expected[i]}, not ${b.level}`);
    if (!Number.isFinite(b.min)) throw new Error(`${name}: ${b.level} needs a finite cutoff`);
    if (i > 0 && !(b.min < bands[i - 1].min || (b.min === bands[i - 1].min && b.inclusive && !bands[i - 1].inclusive))) {
      throw new Error(`${name}: the ${b.level} cutoff must lie below the ${bands[i - 1].level} cutoff`);
    }
  });
}

// ------------------------------------------------------------------ LEC

export interface LecInput {
  l: number;
  e: number;
  c: number;
}

/** Which of L, E, C is not a value of its table (null when all are). */
export function invalidLecFactor(input: LecInput): keyof LecInput | null {
  for (const k of ['l', 'e', 'c'] as const) if (!LEC_VALUES[k].includes(input[k])) return k;
  return null;
}

export const lecScore = ({ l, e, c }: LecInput) => clean(l * e * c);

export function lecGrade(input: LecInput, options: Pick<RiskOptions, 'lecBands'>): { d: number; level: RiskLevel } {
  const bad = invalidLecFactor(input);
  if (bad) throw new RangeError(`${bad.toUpperCase()} = ${input[bad]} is not in the LEC table (${LEC_VALUES[bad].join(', ')})`);
  const d = lecScore(input);
  return { d, level: bandLevel(d, options.lecBands) };
}

// ------------------------------------------------------------------ GB 18218

export interface Substance {
  /** Actual quantity held, tonnes (q). */
  q: number;
  /** Critical quantity of the substance, tonnes (Q, > 0). */
  Q: number;
  /** Correction factor of the substance (β, > 0; 1 for most, larger for toxic gases). */
  beta: number;
}

export interface HazardGrade {
  /** S = Σ q/Q. */
  sum_q_over_q: number;
  /** R = α · Σ β·q/Q. */
  r_value: number;
  major_hazard: boolean;
  level: RiskLevel;
}

/** α for the people exposed within 500 m outside the site. */
export function alphaFor(people: number, options: Pick<RiskOptions, 'alphaByPeople'>): number {
  if (!(people >= 0)) throw new RangeError('people exposed must be ≥ 0');
  for (const row of options.alphaByPeople) if (people >= row.minPeople) return row.alpha;
  return options.alphaByPeople[options.alphaByPeople.length - 1].alpha;
}

export function hazardGrade(alpha: number, substances: readonly Substance[], options: Pick<RiskOptions, 'rBands' | 'majorHazardSumQ'>): HazardGrade {
  if (!(alpha > 0)) throw new RangeError('α must be > 0');
  let s = 0;
  let weighted = 0;
  for (const [i, x] of substances.entries()) {
    if (!(x.q >= 0)) throw new RangeError(`substance ${i}: q must be ≥ 0`);
    if (!(x.Q > 0)) throw new RangeError(`substance ${i}: Q must be > 0`);
    if (!(x.beta > 0)) throw new RangeError(`substance ${i}: β must be > 0`);
    s += x.q / x.Q;
    weighted += (x.beta * x.q) / x.Q;
  }
  const sum = clean(s);
  const r = clean(alpha * weighted);
  return { sum_q_over_q: sum, r_value: r, major_hazard: sum >= options.majorHazardSumQ, level: bandLevel(r, options.rBands) };
}

/** The level a stored R value gives (for enterprises whose R was recorded without substances). */
export const rLevel = (r: number, options: Pick<RiskOptions, 'rBands'>) => bandLevel(r, options.rBands);

// ------------------------------------------------------------------ geohazards

export interface GeohazardGrade {
  by_people: RiskLevel;
  by_loss: RiskLevel;
  /** The higher of the two. */
  level: RiskLevel;
}

export function geohazardGrade(peopleThreatened: number, potentialLossCny: number, options: Pick<RiskOptions, 'geohazardPeopleBands' | 'geohazardLossBands'>): GeohazardGrade {
  const byPeople = bandLevel(peopleThreatened, options.geohazardPeopleBands);
  const byLoss = bandLevel(potentialLossCny, options.geohazardLossBands);
  return { by_people: byPeople, by_loss: byLoss, level: higherLevel(byPeople, byLoss) };
}

/** Checks every band table of an options object (at start-up). */
export function checkRiskOptions(o: RiskOptions): void {
  checkBands('lecBands', o.lecBands);
  checkBands('rBands', o.rBands);
  checkBands('geohazardPeopleBands', o.geohazardPeopleBands);
  checkBands('geohazardLossBands', o.geohazardLossBands);
  if (!(o.blueSampleShare > 0 && o.blueSampleShare <= 1)) throw new Error('blueSampleShare must be in (0, 1]');
  for (const [level, rule] of Object.entries(o.inspectionEvery)) {
    if (!(Number.isInteger(rule.everyMonths) && rule.everyMonths > 0)) throw new Error(`inspectionEvery.${level}: a whole number of months > 0`);
  }
  for (const [kind, d] of Object.entries(o.shelterDistances)) {
    if (!(d.unusableWithinM >= 0 && d.atRiskWithinM >= d.unusableWithinM)) throw new Error(`shelterDistances.${kind}: 0 ≤ unusable ≤ at risk`);
  }
  const typhoon = typhoonTableProblems(o.typhoonLevels);
  if (typhoon.length) throw new Error(`typhoonLevels: ${typhoon.join('; ')}`);
}
