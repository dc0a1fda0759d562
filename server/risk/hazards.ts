import type { Queryable } from '../db/types.ts';
import type { RiskLevel } from '../../catalog/layers.ts';
import { geohazardGrade } from './grading.ts';
import type { RiskOptions } from './options.ts';

/**
 * The hazards around one district, as plain points: flood-prone spots,
 * geohazard sites, hazardous-chemical enterprises and red/orange risk points.
 * Hazards just across the district's edge count too (a hazard does not stop at
 * a boundary): those of a neighbouring district within `marginM` of the
 * outline are loaded with their own `district_id`, so reports can count the
 * district's own hazards and label the neighbours' apart (neighbouring
 * districts' boxes overlap; a box alone would mix them in).
 */
export interface FloodPoint {
  id: number;
  /** The district the hazard belongs to (a neighbour's, when it lies just across the edge). */
  district_id: string;
  name_zh: string;
  kind: string;
  status: 'active' | 'treated';
  threshold_mm_h: number | null;
  street_id: string | null;
  lon: number;
  lat: number;
}

export interface GeohazardSite {
  id: number;
  /** The district the hazard belongs to (a neighbour's, when it lies just across the edge). */
  district_id: string;
  name_zh: string;
  kind: string;
  scale: string;
  status: 'active' | 'treated';
  people_threatened: number;
  potential_loss_cny: number;
  street_id: string | null;
  lon: number;
  lat: number;
}

export interface HazardSource {
  id: number;
  /** The district the hazard belongs to (a neighbour's, when it lies just across the edge). */
  district_id: string;
  name_zh: string;
  kind: string;
  major_hazard: boolean;
  level: RiskLevel;
  r_value: number | null;
  street_id: string | null;
  lon: number;
  lat: number;
}

export interface GradedRiskPoint {
  id: number;
  /** The district the hazard belongs to (a neighbour's, when it lies just across the edge). */
  district_id: string;
  name_zh: string;
  level: RiskLevel;
  category: string;
  street_id: string | null;
  lon: number;
  lat: number;
}

export interface DistrictHazards {
  floodPoints: FloodPoint[];
  geohazardSites: GeohazardSite[];
  hazardSources: HazardSource[];
  /** Red and orange risk points. */
  riskPoints: GradedRiskPoint[];
}

/** Degrees that surely hold `m` metres in either direction south of 45° latitude (≥ 78 km per degree). */
const degreesFor = (m: number) => m / 78_000;

// the box prefilters with the index; a neighbour's hazard must also lie within the margin of the outline itself
const near = (table: string) =>
  `FROM ${table} f, districts d WHERE d.id = $1 AND f.deleted_at IS NULL AND f.geom && ST_Expand(d.geom, $2)
     AND (f.district_id = $1 OR ST_DWithin(f.geom::geography, d.geom::geography, $3))`;
const position = 'round(ST_X(f.geom)::numeric, 7)::float8 AS lon, round(ST_Y(f.geom)::numeric, 7)::float8 AS lat';

export async function loadDistrictHazards(db: Queryable, districtId: string, marginM: number): Promise<DistrictHazards> {
  const p = [districtId, degreesFor(marginM), marginM];
  const flood = await db.query<FloodPoint>(
    `SELECT f.id::int8 AS id, f.district_id, f.name_zh, f.kind, f.status, f.threshold_mm_h::float8 AS threshold_mm_h, f.street_id, ${position} ${near('flood_points')} ORDER BY f.id`,
    p,
  );
  const geo = await db.query<GeohazardSite>(
    `SELECT f.id::int8 AS id, f.district_id, f.name_zh, f.kind, f.scale, f.status, f.people_threatened, f.potential_loss_cny::float8 AS potential_loss_cny, f.street_id, ${position}
       ${near('geohazard_sites')} ORDER BY f.id`,
    p,
  );
  const sources = await db.query<HazardSource>(
    `SELECT f.id::int8 AS id, f.district_id, f.name_zh, f.kind, f.major_hazard, f.level, f.r_value::float8 AS r_value, f.street_id, ${position} ${near('hazard_sources')} ORDER BY f.id`,
    p,
  );
  const risk = await db.query<GradedRiskPoint>(
    `SELECT f.id::int8 AS id, f.district_id, f.name_zh, f.level, f.category, f.street_id, ${position} ${near('risk_points')} AND f.level IN ('red', 'orange') ORDER BY f.id`,
    p,
  );
  const num = <T extends { id: number; lon: number; lat: number }>(rows: T[]) => rows.map((r) => ({ ...r, id: Number(r.id), lon: Number(r.lon), lat: Number(r.lat) }));
  return {
    floodPoints: num(flood.rows).map((f) => ({ ...f, threshold_mm_h: f.threshold_mm_h === null ? null : Number(f.threshold_mm_h) })),
    geohazardSites: num(geo.rows).map((g) => ({ ...g, people_threatened: Number(g.people_threatened), potential_loss_cny: Number(g.potential_loss_cny) })),
    hazardSources: num(sources.rows).map((s) => ({ ...s, r_value: s.r_value === null ? null : Number(s.r_value) })),
    riskPoints: num(risk.rows),
  };
}

/**
 * Every active flood-prone spot and geohazard site of every district: the public hazards whose
 * zones guidance (nearest shelters) keeps people out of. Hazardous-chemical enterprises are not
 * here: they are restricted, and an answer to anyone must not move with them.
 *
 * `near` keeps only those whose bounding square of half-side `withinM` metres around one of the
 * given shelters holds them (a superset of those within `withinM`, found through the spatial
 * index): what a recomputation for a few shelters needs, without reading every hazard.
 */
export async function loadActivePublicHazards(db: Queryable, near?: { shelterIds: readonly number[]; withinM: number }): Promise<DistrictHazards> {
  // A degree of latitude is at least 110 574 m and one of longitude at least 111 319·cos(lat) m
  // on WGS84: 110 000 m per degree over-covers both.
  const around = near
    ? `AND EXISTS (SELECT 1 FROM shelters s WHERE s.id = ANY($1::bigint[])
                     AND f.geom && ST_Expand(s.geom, $2::float8 / (110000 * cos(radians(least(abs(ST_Y(s.geom)), 89)))), $2::float8 / 110000))`
    : '';
  const params = near ? [near.shelterIds, near.withinM] : [];
  const flood = await db.query<FloodPoint>(
    `SELECT f.id::int8 AS id, f.district_id, f.name_zh, f.kind, f.status, f.threshold_mm_h::float8 AS threshold_mm_h, f.street_id, ${position}
       FROM flood_points f WHERE f.deleted_at IS NULL AND f.status = 'active' ${around} ORDER BY f.id`,
    params,
  );
  const geo = await db.query<GeohazardSite>(
    `SELECT f.id::int8 AS id, f.district_id, f.name_zh, f.kind, f.scale, f.status, f.people_threatened, f.potential_loss_cny::float8 AS potential_loss_cny, f.street_id, ${position}
       FROM geohazard_sites f WHERE f.deleted_at IS NULL AND f.status = 'active' ${around} ORDER BY f.id`,
    params,
  );
  const num = <T extends { id: number; lon: number; lat: number }>(rows: T[]) => rows.map((r) => ({ ...r, id: Number(r.id), lon: Number(r.lon), lat: Number(r.lat) }));
  return {
    floodPoints: num(flood.rows).map((f) => ({ ...f, threshold_mm_h: f.threshold_mm_h === null ? null : Number(f.threshold_mm_h) })),
    geohazardSites: num(geo.rows).map((g) => ({ ...g, people_threatened: Number(g.people_threatened), potential_loss_cny: Number(g.potential_loss_cny) })),
    hazardSources: [],
    riskPoints: [],
  };
}

export async function loadHazardSourceLines(db: Queryable, districtId: string | null) {
  const r = await db.query<HazardSource & { district_id: string; street_name_zh: string | null; assessed: boolean; sum_q_over_q: number | null; address: string | null }>(
    `SELECT f.id::int8 AS id, f.district_id, f.street_id, s.name_zh AS street_name_zh, f.name_zh, f.kind, f.major_hazard, f.level, f.r_value::float8 AS r_value,
            a.hazard_source_id IS NOT NULL AS assessed, a.sum_q_over_q::float8 AS sum_q_over_q, f.address, ${position}
       FROM hazard_sources f LEFT JOIN streets s ON s.id = f.street_id LEFT JOIN hazard_assessments a ON a.hazard_source_id = f.id
      WHERE f.deleted_at IS NULL AND ($1::text IS NULL OR f.district_id = $1)
      ORDER BY f.district_id, f.id`,
    [districtId],
  );
  return r.rows.map((row) => ({
    ...row,
    id: Number(row.id),
    lon: Number(row.lon),
    lat: Number(row.lat),
    r_value: row.r_value === null ? null : Number(row.r_value),
    sum_q_over_q: row.sum_q_over_q === null ? null : Number(row.sum_q_over_q),
  }));
}

/** Live geohazard sites (of one district, or all), graded by the higher of their grades by people threatened and by potential loss. */
export async function loadGradedGeohazards(db: Queryable, districtId: string | null, options: RiskOptions) {
  const r = await db.query<{ id: number; district_id: string; street_id: string | null; name_zh: string; kind: string; scale: string; status: string; people_threatened: number; potential_loss_cny: number; monitored: boolean }>(
    `SELECT id::int8 AS id, district_id, street_id, name_zh, kind, scale, status, people_threatened, potential_loss_cny::float8 AS potential_loss_cny, monitored
       FROM geohazard_sites WHERE deleted_at IS NULL AND ($1::text IS NULL OR district_id = $1) ORDER BY district_id, id`,
    [districtId],
  );
  return r.rows.map((s) => {
    const grade = geohazardGrade(Number(s.people_threatened), Number(s.potential_loss_cny), options);
    return { ...s, id: Number(s.id), people_threatened: Number(s.people_threatened), potential_loss_cny: Number(s.potential_loss_cny), danger_grade: grade.level, grade_by_people: grade.by_people, grade_by_loss: grade.by_loss };
  });
}

/** Whether hazard source `id` exists and is not deleted. */
export async function hazardSourceExists(db: Queryable, id: number): Promise<boolean> {
  const r = await db.query('SELECT 1 FROM hazard_sources WHERE id = $1 AND deleted_at IS NULL', [id]);
  return r.rows.length > 0;
}
