import type { Queryable } from '../db/types.ts';
import { RISK_LEVELS, type RiskLevel } from '../../catalog/layers.ts';
import { lecGrade } from './grading.ts';
import type { RiskOptions } from './options.ts';
import { blueSample, dueState, type DueState } from './schedule.ts';
import { unknownDistrict } from '../analysis/snapshot.ts';

/**
 * Risk points as the one table lists them: stored level and how it was set,
 * the level the LEC inputs give (and whether the two disagree), and the
 * inspection state as of a date. One statement loads a district (or all).
 */
export interface RiskPointLine {
  id: number;
  district_id: string;
  street_id: string | null;
  street_name_zh: string | null;
  name_zh: string;
  name_en: string | null;
  category: string;
  level: RiskLevel;
  level_source: 'assessed' | 'manual';
  level_reason: string | null;
  lec_l: number | null;
  lec_e: number | null;
  lec_c: number | null;
  /** D = L × E × C when the inputs are stored. */
  lec_d: number | null;
  /** The level the LEC inputs give (null without inputs). */
  assessed_level: RiskLevel | null;
  /** The stored level differs from the LEC level. */
  level_disagrees: boolean;
  responsible_unit: string;
  address: string | null;
  lon: number;
  lat: number;
  synthetic: boolean;
  inspection: DueState;
}

/** One line of GET /risk/table's JSON list: the point, its inspection state flattened (the client reads this type). */
export function tableLine({ inspection, ...p }: RiskPointLine) {
  return { ...p, last_inspection: inspection.last_inspection, next_due: inspection.next_due, inspection_status: inspection.status, days_overdue: inspection.days_overdue };
}
export type RiskTableLine = ReturnType<typeof tableLine>;

/** One line of GET /risk/inspections/due's list: the point and its whole inspection state (the client reads this type). */
export function dueLine(p: RiskPointLine) {
  return {
    id: p.id,
    district_id: p.district_id,
    street_id: p.street_id,
    street_name_zh: p.street_name_zh,
    name_zh: p.name_zh,
    category: p.category,
    level: p.level,
    responsible_unit: p.responsible_unit,
    lon: p.lon,
    lat: p.lat,
    ...p.inspection,
  };
}
export type DueLine = ReturnType<typeof dueLine>;

const POINTS_SQL = `
  SELECT rp.id::int8 AS id, rp.district_id, rp.street_id, s.name_zh AS street_name_zh,
         rp.name_zh, rp.name_en, rp.category, rp.level, rp.level_source, rp.level_reason,
         rp.lec_l::float8 AS lec_l, rp.lec_e::float8 AS lec_e, rp.lec_c::float8 AS lec_c,
         rp.responsible_unit, rp.address, rp.synthetic,
         round(ST_X(rp.geom)::numeric, 6)::float8 AS lon, round(ST_Y(rp.geom)::numeric, 6)::float8 AS lat,
         -- the latest inspection on or before the as-of date, from the records or the stored date
         NULLIF(GREATEST(
           COALESCE((SELECT max(i.inspected_on) FROM risk_inspections i WHERE i.risk_point_id = rp.id AND i.inspected_on <= $2::date), '0001-01-01'::date),
           COALESCE(CASE WHEN rp.last_inspection <= $2::date THEN rp.last_inspection END, '0001-01-01'::date)
         ), '0001-01-01'::date)::text AS last_inspection
    FROM risk_points rp LEFT JOIN streets s ON s.id = rp.street_id
   WHERE rp.deleted_at IS NULL AND ($1::text IS NULL OR rp.district_id = $1)
   ORDER BY rp.district_id, rp.id`;

/** A row as the query returns it: the line before grading and the due-state computation. */
type PointRow = Omit<RiskPointLine, 'lec_d' | 'assessed_level' | 'level_disagrees' | 'inspection'> & { last_inspection: string | null };

export async function assertDistrictExists(db: Queryable, districtId: string): Promise<void> {
  const r = await db.query('SELECT 1 FROM districts WHERE id = $1', [districtId]);
  if (!r.rows[0]) throw unknownDistrict(districtId);
}

/** Every live risk point of `districtId` (all districts when null) with grading and inspection state as of `asOf`. */
export async function loadRiskPoints(db: Queryable, districtId: string | null, asOf: string, options: RiskOptions): Promise<RiskPointLine[]> {
  if (districtId) await assertDistrictExists(db, districtId);
  const r = await db.query<PointRow>(POINTS_SQL, [districtId, asOf]);
  const year = asOf.slice(0, 4);
  // The blue sample is drawn per district: each bureau inspects 30 % of its own blue points.
  const blueByDistrict = new Map<string, number[]>();
  for (const p of r.rows) if (p.level === 'blue') blueByDistrict.set(p.district_id, [...(blueByDistrict.get(p.district_id) ?? []), Number(p.id)]);
  const sampled = new Set<number>();
  for (const ids of blueByDistrict.values()) for (const id of blueSample(Number(year), ids, options.blueSampleShare)) sampled.add(id);

  return r.rows.map((p) => {
    const id = Number(p.id);
    const hasLec = p.lec_l !== null && p.lec_e !== null && p.lec_c !== null;
    const grade = hasLec ? lecGrade({ l: Number(p.lec_l), e: Number(p.lec_e), c: Number(p.lec_c) }, options) : null;
    const inspection = dueState(
      { level: p.level, lastInspection: p.last_inspection, sampled: sampled.has(id), inspectedThisYear: p.last_inspection?.slice(0, 4) === year },
      asOf,
      options,
    );
    return {
      id,
      district_id: p.district_id,
      street_id: p.street_id,
      street_name_zh: p.street_name_zh,
      name_zh: p.name_zh,
      name_en: p.name_en,
      category: p.category,
      level: p.level,
      level_source: p.level_source,
      level_reason: p.level_reason,
      lec_l: hasLec ? Number(p.lec_l) : null,
      lec_e: hasLec ? Number(p.lec_e) : null,
      lec_c: hasLec ? Number(p.lec_c) : null,
      lec_d: grade?.d ?? null,
      assessed_level: grade?.level ?? null,
      level_disagrees: grade !== null && grade.level !== p.level,
      responsible_unit: p.responsible_unit,
      address: p.address,
      lon: Number(p.lon),
      lat: Number(p.lat),
      synthetic: p.synthetic,
      inspection,
    };
  });
}

export type LevelCounts = Record<RiskLevel, number> & { total: number };

export const emptyCounts = (): LevelCounts => ({ red: 0, orange: 0, yellow: 0, blue: 0, total: 0 });

const add = (c: LevelCounts, level: RiskLevel) => {
  c[level]++;
  c.total++;
};

export interface StreetRef {
  id: string;
  district_id: string;
  name_zh: string;
  name_en: string;
}

/** Counts by level, by street × level, by category × level and by street × category × level. */
export function countPoints(points: readonly RiskPointLine[], streets: readonly StreetRef[]) {
  const total = emptyCounts();
  const byStreet = new Map<string, LevelCounts>(streets.map((s) => [s.id, emptyCounts()]));
  const noStreet = emptyCounts();
  const byCategory = new Map<string, LevelCounts>();
  const byStreetCategory = new Map<string, LevelCounts>();
  for (const p of points) {
    add(total, p.level);
    add((p.street_id && byStreet.get(p.street_id)) || noStreet, p.level);
    if (!byCategory.has(p.category)) byCategory.set(p.category, emptyCounts());
    add(byCategory.get(p.category)!, p.level);
    const key = `${p.street_id ?? ''}|${p.category}`;
    if (!byStreetCategory.has(key)) byStreetCategory.set(key, emptyCounts());
    add(byStreetCategory.get(key)!, p.level);
  }
  return {
    levels: RISK_LEVELS,
    total,
    by_street: streets.map((s) => ({ street_id: s.id, district_id: s.district_id, name_zh: s.name_zh, name_en: s.name_en, ...byStreet.get(s.id)! })),
    /** Points with no street (outside every street polygon). */
    no_street: noStreet,
    by_category: [...byCategory].sort(([a], [b]) => a.localeCompare(b)).map(([category, c]) => ({ category, ...c })),
    by_street_category: [...byStreetCategory]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, c]) => {
        const [street, category] = key.split('|');
        return { street_id: street || null, category, ...c };
      }),
  };
}

export async function loadStreets(db: Queryable, districtId: string | null): Promise<StreetRef[]> {
  const r = await db.query<StreetRef>('SELECT id, district_id, name_zh, name_en FROM streets WHERE ($1::text IS NULL OR district_id = $1) ORDER BY district_id, id', [districtId]);
  return r.rows;
}
