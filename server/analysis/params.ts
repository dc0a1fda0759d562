import { z } from 'zod';
import { badRequest } from '../http/problem.ts';
import { parseInput } from '../http/validate.ts';
import { CANONICAL_ID, parseCanonicalInteger, parseCanonicalNumber } from '../http/numbers.ts';
import type { DistrictInfo } from './model.ts';
import { MAX_RADIUS_M, SHELTER_CLASSES, SHELTER_STATUSES, type AnalysisOptions, type ShelterClass, type ShelterStatus, type StayClass } from './options.ts';

/**
 * Query parameters of /analysis/*: parsed and checked with zod into typed
 * objects before anything runs; every failure is a 400 naming the parameter.
 */
const numberParam = (reason: string, ok: (n: number) => boolean, parse = parseCanonicalNumber) =>
  z
    .string()
    .refine((s) => {
      const n = parse(s);
      return n !== undefined && ok(n);
    }, `${reason} (a plain decimal)`)
    .transform((s) => parse(s)!);

const integerParam = (min: number, max: number) => numberParam(`an integer ${min}–${max}`, (n) => n >= min && n <= max, parseCanonicalInteger);

const metres = numberParam(`metres, > 0 and at most ${MAX_RADIUS_M}`, (n) => n > 0 && n <= MAX_RADIUS_M);
const minutes = numberParam('minutes, > 0 and at most 600', (n) => n > 0 && n <= 600);
const boolParam = z.enum(['true', 'false', '1', '0'], { message: 'true or false' }).transform((v) => v === 'true' || v === '1');

const csvOf = <T extends string>(values: readonly T[], what: string) =>
  z
    .string()
    .transform((s) => s.split(',').map((v) => v.trim()).filter(Boolean))
    .refine((list) => list.length > 0 && list.every((v) => (values as readonly string[]).includes(v)), `a comma list of ${what}: ${values.join(', ')}`)
    .transform((list) => [...new Set(list)].sort((a, b) => values.indexOf(a as T) - values.indexOf(b as T)) as T[]);

export const districtParam = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'a district id such as huadu');

/** Parameters that choose shelters, radii and capacities: shared by coverage, gaps and siting. */
const shelterFields = {
  district: districtParam,
  radius: metres.optional(),
  radius_emergency: metres.optional(),
  radius_fixed: metres.optional(),
  radius_central: metres.optional(),
  minutes: minutes.optional(),
  minutes_emergency: minutes.optional(),
  minutes_fixed: minutes.optional(),
  minutes_central: minutes.optional(),
  speed: numberParam('metres per minute, > 0 and at most 2000', (n) => n > 0 && n <= 2000).optional(),
  shelter_status: csvOf(SHELTER_STATUSES, 'shelter statuses').optional(),
  exclude_shelters: z
    .string()
    .transform((v) => v.split(','))
    .refine((ids) => ids.length <= 1000 && ids.every((x) => CANONICAL_ID.test(x)), 'a comma list of up to 1000 shelter ids (plain decimals)')
    .transform((ids) => [...new Set(ids.map(Number))].sort((a, b) => a - b))
    .optional(),
  capacity_basis: z.enum(['class', 'area', 'stated'], { message: 'class, area or stated' }).optional(),
  m2_per_person: numberParam('m² per person, > 0 and at most 100', (n) => n > 0 && n <= 100).optional(),
  occupancy: z.enum(['ignore', 'subtract'], { message: 'ignore or subtract' }).optional(),
  target: numberParam('m² per resident, > 0 and at most 100', (n) => n > 0 && n <= 100).optional(),
  /** Count shelters stored as unusable (hazard zone, scenario, editor's flag) too. */
  include_unusable: boolParam.default(false),
};

const format = z.enum(['json', 'geojson'], { message: 'json or geojson' }).default('json');

export const coverageQuery = z.object({
  ...shelterFields,
  unit: z.enum(['street', 'community'], { message: 'street or community' }).default('street'),
  decay: z.enum(['none', 'gaussian', 'steps'], { message: 'none, gaussian or steps' }).optional(),
  shelters: boolParam.default(false),
  f: format,
});
export type CoverageQuery = z.infer<typeof coverageQuery>;

export const gapsQuery = z.object({
  ...shelterFields,
  limit: integerParam(1, 10_000).optional(),
  f: format,
});
export type GapsQuery = z.infer<typeof gapsQuery>;

export const sitingQuery = z.object({
  ...shelterFields,
  k: integerParam(1, 100).default(5),
  // default: the district's candidate sites when it has any, else the grid (service.ts)
  candidates: z.string().regex(/^[a-z][a-z0-9_]*$/, 'sites, grid, cells or the id of a point layer').optional(),
  spacing: numberParam('metres, 50–5000', (n) => n >= 50 && n <= 5000).optional(),
  class: z.enum(SHELTER_CLASSES, { message: SHELTER_CLASSES.join(', ') }).default('emergency'),
  capacity_aware: boolParam.default(false),
  area_m2: numberParam('m², > 0 and at most 10000000', (n) => n > 0 && n <= 1e7).optional(),
  f: format,
});
export type SitingQuery = z.infer<typeof sitingQuery>;

export const nearestQuery = z.object({
  lon: numberParam('longitude, -180–180', (n) => n >= -180 && n <= 180),
  lat: numberParam('latitude, -90–90', (n) => n >= -90 && n <= 90),
  n: integerParam(1, 50).default(3),
  district: districtParam.optional(),
  include_full: boolParam.default(false),
  include_exposed: boolParam.default(false),
  include_unusable: boolParam.default(false),
  max_distance: metres.optional(),
  speed: numberParam('metres per minute, > 0 and at most 2000', (n) => n > 0 && n <= 2000).optional(),
  f: format,
});
export type NearestQuery = z.infer<typeof nearestQuery>;

const lonLat = z.tuple([z.number().min(-180).max(180), z.number().min(-90).max(90)], { message: '[lon, lat] in degrees' });

/** Body of POST /analysis/nearest-shelters: many points, the same options as the GET form. */
export const nearestBatchBody = z.strictObject({
  points: z.array(lonLat, { message: 'an array of [lon, lat]' }).min(1, 'at least one point').max(10_000, 'at most 10000 points per request'),
  n: z.number().int('an integer 1–50').min(1, 'an integer 1–50').max(50, 'an integer 1–50').default(3),
  district: districtParam.optional(),
  include_full: z.boolean({ message: 'true or false' }).default(false),
  include_exposed: z.boolean({ message: 'true or false' }).default(false),
  include_unusable: z.boolean({ message: 'true or false' }).default(false),
  max_distance: z.number().gt(0).max(MAX_RADIUS_M, `metres, > 0 and at most ${MAX_RADIUS_M}`).optional(),
  speed: z.number().gt(0).max(2000, 'metres per minute, > 0 and at most 2000').optional(),
});
export type NearestBatchBody = z.infer<typeof nearestBatchBody>;

/** Query of POST /analysis/area-summary (the polygon is the body). */
export const areaSummaryQuery = z.object({ shelter_status: shelterFields.shelter_status, include_unusable: shelterFields.include_unusable });
export type AreaSummaryQuery = z.infer<typeof areaSummaryQuery>;

export const resourceCoverageQuery = z.object({
  district: districtParam,
  layer: z.string().regex(/^[a-z][a-z0-9_]*$/, 'the id of a point layer').default('resources'),
  kind: z.string().regex(/^[a-z][a-z0-9_]*$/, 'a kind of the layer, e.g. fire_station').optional(),
  radius: metres.optional(),
  minutes: minutes.optional(),
  speed: numberParam('metres per minute, > 0 and at most 2000', (n) => n > 0 && n <= 2000).optional(),
  unit: z.enum(['street', 'community'], { message: 'street or community' }).default('street'),
  target_residents_per_resource: integerParam(1, 100_000_000).optional(),
});
export type ResourceCoverageQuery = z.infer<typeof resourceCoverageQuery>;

/** Parses a query string object: unknown and repeated parameters are refused by name. */
export function parseQuery<S extends z.ZodObject>(schema: S, query: unknown): z.infer<S> {
  const q = (query ?? {}) as Record<string, unknown>;
  const allowed = Object.keys(schema.shape);
  for (const [key, value] of Object.entries(q)) {
    if (!allowed.includes(key)) throw badRequest(key, `unknown parameter; allowed: ${allowed.join(', ')}`);
    if (typeof value !== 'string') throw badRequest(key, 'give the parameter once');
  }
  return parseInput(schema, q, 'query');
}

type ShelterFieldValues = { [K in keyof typeof shelterFields]?: z.infer<(typeof shelterFields)[K]> };

/** Everything that decides which shelters count, how far they reach and how many they hold. */
export interface ShelterSettings {
  /** Service radius per class, metres. */
  radii: Record<ShelterClass, number>;
  /** Where each radius came from: default, radius, radius_<class>, minutes, minutes_<class>. */
  radiusSource: Record<ShelterClass, string>;
  walkingSpeedMPerMin: number;
  statuses: ShelterStatus[];
  /** Shelters left out by id (e.g. exposed to a hazard), ascending. */
  excludedShelters: number[];
  /** Whether shelters stored as unusable count too (default: they do not). */
  includeUnusable: boolean;
  capacityBasis: 'class' | 'area' | 'stated';
  /** m² per person for capacity on the area basis. */
  m2PerPerson: number;
  /** m² per person by planning class and by stay class, for the class basis. */
  m2ByClass: Record<ShelterClass, number>;
  m2ByStay: Record<StayClass, number>;
  occupancy: 'ignore' | 'subtract';
  /** m² per resident the district aims for. */
  targetM2: number;
  targetSource: string;
}

/** Resolves radii (per-class beats all-class; a radius and minutes at the same level are refused) and defaults. */
export function resolveShelterSettings(q: ShelterFieldValues, district: DistrictInfo, options: AnalysisOptions): ShelterSettings {
  const speed = q.speed ?? options.walkingSpeedMPerMin;
  if (q.radius !== undefined && q.minutes !== undefined) throw badRequest('minutes', 'give radius or minutes, not both');
  const radii = {} as Record<ShelterClass, number>;
  const radiusSource = {} as Record<ShelterClass, string>;
  for (const cls of SHELTER_CLASSES) {
    const r = q[`radius_${cls}`];
    const m = q[`minutes_${cls}`];
    if (r !== undefined && m !== undefined) throw badRequest(`minutes_${cls}`, `give radius_${cls} or minutes_${cls}, not both`);
    let value: number;
    let source: string;
    let param: string;
    if (r !== undefined) [value, source, param] = [r, `radius_${cls}`, `radius_${cls}`];
    else if (m !== undefined) [value, source, param] = [m * speed, `minutes_${cls} × speed`, `minutes_${cls}`];
    else if (q.radius !== undefined) [value, source, param] = [q.radius, 'radius', 'radius'];
    else if (q.minutes !== undefined) [value, source, param] = [q.minutes * speed, 'minutes × speed', 'minutes'];
    else [value, source, param] = [options.radiusM[cls], 'default', `radius_${cls}`];
    if (!(value > 0 && value <= MAX_RADIUS_M)) throw badRequest(param, `gives ${value} m; the radius must be > 0 and at most ${MAX_RADIUS_M} m`);
    radii[cls] = value;
    radiusSource[cls] = source;
  }
  const targetM2 = q.target ?? district.targetM2;
  return {
    radii,
    radiusSource,
    walkingSpeedMPerMin: speed,
    statuses: q.shelter_status ?? [...options.shelterStatuses],
    excludedShelters: q.exclude_shelters ?? [],
    includeUnusable: q.include_unusable ?? false,
    // m2_per_person alone asks for the area basis
    capacityBasis: q.capacity_basis ?? (q.m2_per_person !== undefined ? 'area' : options.capacityBasis),
    m2ByClass: { ...options.m2PerPersonByClass },
    m2ByStay: { ...options.m2PerPersonByStay },
    // the district's stored target, not a `target` given with the request: asking "what if the
    // target were 2 m²?" must not silently change how many people the shelters hold
    m2PerPerson: q.m2_per_person ?? options.m2PerPerson ?? district.targetM2,
    occupancy: q.occupancy ?? options.occupancy,
    targetM2,
    targetSource: q.target !== undefined ? 'target parameter' : district.targetSource,
  };
}

/** The settings as echoed in responses (snake_case, units in the names). */
export function describeSettings(s: ShelterSettings) {
  return {
    radii_m: s.radii,
    radius_source: s.radiusSource,
    walking_speed_m_per_min: s.walkingSpeedMPerMin,
    shelter_status: s.statuses,
    excluded_shelters: s.excludedShelters,
    include_unusable: s.includeUnusable,
    capacity_basis: s.capacityBasis,
    m2_per_person: s.capacityBasis === 'area' ? s.m2PerPerson : null,
    ...(s.capacityBasis === 'class'
      ? {
          m2_per_person_by_class: s.m2ByClass,
          m2_per_person_by_stay_class: s.m2ByStay,
          capacity_rule: 'stated capacity where recorded (> 0); otherwise effective area ÷ m² per person of the stay class, else of the planning class',
        }
      : {}),
    occupancy: s.occupancy,
    target_m2_per_resident: s.targetM2,
    target_source: s.targetSource,
    distance: 'straight line, metres on the WGS84 ellipsoid',
    population: 'population cells, residents placed at a point inside each cell (ST_PointOnSurface)',
  };
}
