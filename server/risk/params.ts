import { z } from 'zod';
import { badRequest } from '../http/problem.ts';
import { CANONICAL_ID } from '../http/numbers.ts';
import { districtParam } from '../analysis/params.ts';
import { RISK_LEVELS } from '../../catalog/layers.ts';
import { LEC_VALUES } from './grading.ts';
import { isIsoDate } from './schedule.ts';
import { TYPHOON_LEVELS } from './typhoon.ts';
import { polygonGeometry } from '../analysis/area-summary.ts';

/**
 * Inputs of /risk/* and of the exposure and scenario analyses, parsed with zod
 * before anything runs; every failure is a 400 naming the field.
 */

const isoDate = z.string().refine(isIsoDate, 'a date YYYY-MM-DD');
const boolParam = z.enum(['true', 'false', '1', '0'], { message: 'true or false' }).transform((v) => v === 'true' || v === '1');
const idParam = (what: string) =>
  z.object({ id: z.string().regex(/^[1-9][0-9]{0,17}$/, `a ${what} id (positive integer)`).transform(Number) });

export const pointIdParam = idParam('risk point');
export const sourceIdParam = idParam('hazard source');

/** `asOf` (as the issue spells it) or `as_of`; not both. */
const asOfFields = { asOf: isoDate.optional(), as_of: isoDate.optional() };
export function asOfOf(q: { asOf?: string; as_of?: string }): string | undefined {
  if (q.asOf && q.as_of) throw badRequest('as_of', 'give asOf or as_of, not both');
  return q.asOf ?? q.as_of;
}

export const tableQuery = z.object({
  district: districtParam.optional(),
  f: z.enum(['json', 'csv', 'xlsx'], { message: 'json, csv or xlsx' }).default('json'),
  /** CSV holds one table: the list of points (default), the counts, or the hazardous-chemical enterprises. */
  part: z.enum(['points', 'counts', 'hazard_sources'], { message: 'points, counts or hazard_sources' }).default('points'),
  include_hazard_sources: boolParam.default(false),
  ...asOfFields,
});

export const dueQuery = z.object({
  district: districtParam.optional(),
  within_days: z
    .string()
    .refine((s) => /^(0|[1-9][0-9]{0,2})$/.test(s) && Number(s) <= 366, 'days, 0–366 (a plain decimal)')
    .transform(Number)
    .optional(),
  level: z
    .string()
    .transform((s) => s.split(',').map((v) => v.trim()).filter(Boolean))
    .refine((l) => l.length > 0 && l.every((v) => (RISK_LEVELS as readonly string[]).includes(v)), `a comma list of levels: ${RISK_LEVELS.join(', ')}`)
    .optional(),
  ...asOfFields,
});

export const districtQuery = z.object({ district: districtParam.optional() });
/** Endpoints that take no parameter: any one given is refused by name. */
export const noQuery = z.object({});
export const exposureQuery = z.object({ district: districtParam });

const count = (field: string) => z.number({ message: `${field}: an integer ≥ 0` }).int(`an integer ≥ 0`).min(0, 'an integer ≥ 0').max(1_000_000, 'at most 1000000');

export const inspectionBody = z
  .strictObject({
    date: isoDate,
    inspector: z.string({ message: 'the inspector’s name' }).trim().min(1, 'the inspector’s name').max(200, 'at most 200 characters'),
    findings: z.string({ message: 'text' }).trim().max(5000, 'at most 5000 characters').optional(),
    hazards_found: count('hazards_found').optional(),
    hazards_fixed: count('hazards_fixed').default(0),
  })
  .transform((b, ctx) => {
    const found = b.hazards_found ?? b.hazards_fixed;
    if (b.hazards_fixed > found) {
      ctx.addIssue({ code: 'custom', path: ['hazards_fixed'], message: `at most hazards_found (${found})` });
      return z.NEVER;
    }
    return { ...b, hazards_found: found };
  });

const lecFactor = (k: 'l' | 'e' | 'c') =>
  z.number({ message: `one of ${LEC_VALUES[k].join(', ')}` }).refine((v) => LEC_VALUES[k].includes(v), `one of ${LEC_VALUES[k].join(', ')} (the LEC table)`);

export const levelBody = z
  .strictObject({
    lec_l: lecFactor('l').optional(),
    lec_e: lecFactor('e').optional(),
    lec_c: lecFactor('c').optional(),
    level: z.enum(RISK_LEVELS, { message: RISK_LEVELS.join(', ') }).optional(),
    reason: z.string({ message: 'text' }).trim().min(1, 'why the level is set by hand').max(1000, 'at most 1000 characters').optional(),
  })
  .transform((b, ctx) => {
    const given = (['lec_l', 'lec_e', 'lec_c'] as const).filter((k) => b[k] !== undefined);
    if (given.length > 0 && given.length < 3) {
      const missing = (['lec_l', 'lec_e', 'lec_c'] as const).find((k) => b[k] === undefined)!;
      ctx.addIssue({ code: 'custom', path: [missing], message: 'give L, E and C together' });
      return z.NEVER;
    }
    if (b.level !== undefined && b.reason === undefined) {
      ctx.addIssue({ code: 'custom', path: ['reason'], message: 'a level set by hand needs a reason' });
      return z.NEVER;
    }
    if (b.level === undefined && b.reason !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['level'], message: 'a reason goes with a level set by hand' });
      return z.NEVER;
    }
    if (b.level === undefined && given.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['lec_l'], message: 'give lec_l, lec_e and lec_c (assessed), or level and reason (by hand)' });
      return z.NEVER;
    }
    return {
      lec: given.length === 3 ? { l: b.lec_l!, e: b.lec_e!, c: b.lec_c! } : undefined,
      level: b.level,
      reason: b.reason,
    };
  });

export const substancesBody = z
  .strictObject({
    alpha: z.number({ message: 'a number > 0 and at most 10' }).gt(0, 'a number > 0 and at most 10').max(10, 'a number > 0 and at most 10').optional(),
    people_exposed: z.number({ message: 'an integer ≥ 0' }).int('an integer ≥ 0').min(0, 'an integer ≥ 0').max(10_000_000, 'at most 10000000').optional(),
    substances: z
      .array(
        z.strictObject({
          name_zh: z.string({ message: 'the substance’s name' }).trim().min(1, 'the substance’s name').max(200, 'at most 200 characters'),
          cas: z.string({ message: 'a CAS number like 7782-50-5' }).regex(/^\d{2,7}-\d{2}-\d$/, 'a CAS number like 7782-50-5').optional(),
          q_t: z.number({ message: 'tonnes held, ≥ 0' }).min(0, 'tonnes held, ≥ 0').max(1e9, 'at most 1e9 t'),
          threshold_t: z.number({ message: 'the critical quantity Q in tonnes, > 0' }).gt(0, 'the critical quantity Q in tonnes, > 0').max(1e9, 'at most 1e9 t'),
          beta: z.number({ message: 'the correction factor β, > 0' }).gt(0, 'the correction factor β, > 0').max(100, 'at most 100').default(1),
        }),
        { message: 'an array of substances' },
      )
      .min(1, 'at least one substance')
      .max(500, 'at most 500 substances'),
  })
  .transform((b, ctx) => {
    if ((b.alpha === undefined) === (b.people_exposed === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['alpha'], message: 'give alpha, or people_exposed (people within 500 m outside the site) to derive it — one of them' });
      return z.NEVER;
    }
    return b;
  });

// ------------------------------------------------------------------ scenario

const rainfall = z.number({ message: 'mm/h, 0–500' }).min(0, 'mm/h, ≥ 0').max(500, 'mm/h, at most 500');

export const scenarioBody = z
  .strictObject({
    district: districtParam,
    rainfall_mm_h: rainfall.optional(),
    /** A typhoon warning signal: stands for its rainfall and outdoor closures (RiskOptions.typhoonLevels). */
    typhoon_level: z.enum(TYPHOON_LEVELS, { message: TYPHOON_LEVELS.join(', ') }).optional(),
    rainfall_areas: z
      .array(z.strictObject({ geometry: polygonGeometry, rainfall_mm_h: rainfall }), { message: 'an array of { geometry, rainfall_mm_h }' })
      .max(50, 'at most 50 areas')
      .optional(),
    warning_area: polygonGeometry.optional(),
    close_outdoor_in_warning_area: z.boolean({ message: 'true or false' }).optional(),
    /** Write the closures into the stored data (editor role); false = a what-if that changes nothing. */
    apply: z.boolean({ message: 'true or false' }).default(false),
    /** Mark the shelters it closes unusable (reason `scenario`) until DELETE /analysis/scenario/{id} ends it (editor role). */
    mark_unusable: z.boolean({ message: 'true or false' }).default(false),
  })
  .superRefine((b, ctx) => {
    // The level already sets the district's rainfall: two figures for one place would contradict.
    if (b.typhoon_level !== undefined && b.rainfall_mm_h !== undefined) {
      const message = 'give typhoon_level or rainfall_mm_h, not both (a typhoon level sets the rainfall)';
      ctx.addIssue({ code: 'custom', path: ['typhoon_level'], message });
      ctx.addIssue({ code: 'custom', path: ['rainfall_mm_h'], message });
    }
    if (b.rainfall_mm_h === undefined && b.typhoon_level === undefined && !b.rainfall_areas?.length && !b.warning_area) {
      ctx.addIssue({ code: 'custom', path: ['rainfall_mm_h'], message: 'give rainfall_mm_h, typhoon_level, rainfall_areas or warning_area' });
    }
  });
export type ScenarioBody = z.infer<typeof scenarioBody>;

export const scenarioRunParam = z.object({ id: z.string().regex(CANONICAL_ID, 'a scenario run id (positive integer, plain decimal)').transform(Number) });
