import type { Geometry } from 'geojson';
import type { Db, Queryable } from '../db/types.ts';
import { HttpProblem } from '../http/problem.ts';
import { assertDistrictScope } from '../auth/district-scope.ts';
import { journalOf, stampVersion } from '../db/data-version.ts';
import { recordChange } from '../live/notify.ts';
import { featureEtag } from '../edits/feature-store.ts';
import { actorFor } from '../edits/actor-privacy.ts';
import type { RiskLevel } from '../../catalog/layers.ts';
import type { Principal } from '../../catalog/access.ts';
import { alphaFor, hazardGrade, lecGrade, type HazardGrade, type LecInput } from './grading.ts';
import type { RiskOptions } from './options.ts';
import { keyedWrite } from '../db/write-keys.ts';
import type { RequestKey } from '../http/idempotency-key.ts';

/**
 * Writes of risk supervision, each in ONE transaction with the same steps as
 * feature edits (server/edits/feature-store.ts): lock the feature's row, write,
 * one audit row per feature (who, before, after), bump the data version and
 * announce the change — so tiles, analyses and live maps follow, and a refused
 * request leaves nothing behind.
 */

function checkVersion(current: number, ifMatch: number | 'any' | null): void {
  if (ifMatch === null || ifMatch === 'any' || ifMatch === current) return;
  throw new HttpProblem(412, 'Precondition failed', `the feature changed since you read it: it is at ${featureEtag(current)}, you sent "v${ifMatch}"`, [], {
    currentEtag: featureEtag(current),
  });
}

/** An update's audit row, written under the transaction's data version before COMMIT. */
function audit(q: Queryable, who: Principal, layer: string, id: number, before: object, after: object): void {
  journalOf(q).audit({ actor: who.actor, layer, feature_id: String(id), operation: 'update', before, after });
}


// ------------------------------------------------------------------ inspections

export interface InspectionInput {
  date: string;
  inspector: string;
  findings?: string;
  hazards_found: number;
  hazards_fixed: number;
}

interface LockedPoint {
  id: number;
  district_id: string;
  name_zh: string;
  level: RiskLevel;
  level_source: string;
  level_reason: string | null;
  lec_l: number | null;
  lec_e: number | null;
  lec_c: number | null;
  last_inspection: string | null;
  version: number;
  geometry: Geometry;
}

async function lockPoint(q: Queryable, id: number): Promise<LockedPoint> {
  const r = await q.query<LockedPoint>(
    `SELECT id::int8 AS id, district_id, name_zh, level, level_source, level_reason,
            lec_l::float8 AS lec_l, lec_e::float8 AS lec_e, lec_c::float8 AS lec_c,
            last_inspection::text AS last_inspection, version, ST_AsGeoJSON(geom, 9)::json AS geometry
       FROM risk_points WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`,
    [id],
  );
  const row = r.rows[0];
  if (!row) throw new HttpProblem(404, 'Not found', `id: no risk point ${id}`, [{ name: 'id', reason: `no risk point ${id}` }]);
  return row;
}

/**
 * Records one inspection; the point's last_inspection moves forward (never back) and its
 * version with it. With `key` (an Idempotency-Key), the same request sent again gets the
 * first answer, and nothing is recorded twice.
 */
export async function recordInspection(db: Db, pointId: number, input: InspectionInput, who: Principal, key?: RequestKey) {
  return db.tx((q) => keyedWrite(q, key, async () => {
    const point = await lockPoint(q, pointId);
    assertDistrictScope(who, point.district_id);
    const ins = await q.query<{ id: number; recorded_at: string }>(
      `INSERT INTO risk_inspections (risk_point_id, inspected_on, inspector, findings, hazards_found, hazards_fixed, actor)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       RETURNING id::int8 AS id, to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS recorded_at`,
      [pointId, input.date, input.inspector, input.findings ?? null, input.hazards_found, input.hazards_fixed, who.actor],
    );
    const inspection = { id: Number(ins.rows[0].id), risk_point_id: pointId, date: input.date, inspector: input.inspector, findings: input.findings ?? null, hazards_found: input.hazards_found, hazards_fixed: input.hazards_fixed, recorded_by: who.actor, recorded_at: ins.rows[0].recorded_at };
    const moves = point.last_inspection === null || input.date > point.last_inspection;
    let version = point.version;
    if (moves) {
      const u = await q.query<{ version: number }>(
        'UPDATE risk_points SET last_inspection = $2, version = version + 1, updated_at = now() WHERE id = $1 RETURNING version',
        [pointId, input.date],
      );
      version = u.rows[0].version;
    }
    const lastInspection = moves ? input.date : point.last_inspection;
    audit(q, who, 'risk_points', pointId, { version: point.version, last_inspection: point.last_inspection }, { version, last_inspection: lastInspection, inspection });
    recordChange(q, {
      layer: 'risk_points',
      id: pointId,
      op: 'update',
      before: point.geometry,
      after: point.geometry,
      summary: { level: point.level, name_zh: point.name_zh, last_inspection: lastInspection },
    });
    return stampVersion(q, { inspection, point: { id: pointId, level: point.level, last_inspection: lastInspection, version }, data_version: 0 });
  }));
}

/** Inspections of one point, newest first; `recorded_by` as `who` may see it (a pseudonym unless editor or admin). */
export async function listInspections(db: Queryable, pointId: number, who: Principal) {
  const exists = await db.query('SELECT 1 FROM risk_points WHERE id = $1 AND deleted_at IS NULL', [pointId]);
  if (!exists.rows[0]) throw new HttpProblem(404, 'Not found', `id: no risk point ${pointId}`, [{ name: 'id', reason: `no risk point ${pointId}` }]);
  const r = await db.query(
    `SELECT id::int8 AS id, inspected_on::text AS date, inspector, findings, hazards_found, hazards_fixed, actor AS recorded_by,
            to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS recorded_at
       FROM risk_inspections WHERE risk_point_id = $1 ORDER BY inspected_on DESC, id DESC`,
    [pointId],
  );
  return r.rows.map((row) => ({ ...row, id: Number(row.id), recorded_by: actorFor(String(row.recorded_by), who) }));
}

// ------------------------------------------------------------------ level of a risk point

/** Either LEC inputs (assessed), or a level set by hand with a reason (LEC inputs may be kept alongside). */
export interface LevelInput {
  lec?: LecInput;
  level?: RiskLevel;
  reason?: string;
}

export async function setPointLevel(db: Db, pointId: number, input: LevelInput, ifMatch: number | 'any' | null, who: Principal, options: RiskOptions) {
  const grade = input.lec ? lecGrade(input.lec, options) : null;
  return db.tx(async (q) => {
    const before = await lockPoint(q, pointId);
    checkVersion(before.version, ifMatch);
    assertDistrictScope(who, before.district_id);
    const manual = input.level !== undefined;
    const lec = input.lec ?? (manual && before.lec_l !== null ? { l: before.lec_l, e: before.lec_e!, c: before.lec_c! } : null);
    const level: RiskLevel = manual ? input.level! : grade!.level;
    const after = {
      level,
      level_source: manual ? 'manual' : 'assessed',
      level_reason: manual ? input.reason! : null,
      lec_l: lec?.l ?? null,
      lec_e: lec?.e ?? null,
      lec_c: lec?.c ?? null,
    };
    const u = await q.query<{ version: number }>(
      `UPDATE risk_points SET level = $2, level_source = $3, level_reason = $4, lec_l = $5, lec_e = $6, lec_c = $7, version = version + 1, updated_at = now()
        WHERE id = $1 RETURNING version`,
      [pointId, after.level, after.level_source, after.level_reason, after.lec_l, after.lec_e, after.lec_c],
    );
    const version = u.rows[0].version;
    const pick = (p: LockedPoint) => ({ version: p.version, level: p.level, level_source: p.level_source, level_reason: p.level_reason, lec_l: p.lec_l, lec_e: p.lec_e, lec_c: p.lec_c });
    audit(q, who, 'risk_points', pointId, pick(before), { version, ...after });
    recordChange(q, {
      layer: 'risk_points',
      id: pointId,
      op: 'update',
      before: before.geometry,
      after: before.geometry,
      summary: { level, previousLevel: before.level, name_zh: before.name_zh },
    });
    const assessed = lec ? lecGrade(lec, options) : null;
    return stampVersion(q, {
      id: pointId,
      ...after,
      lec_d: assessed?.d ?? null,
      assessed_level: assessed?.level ?? null,
      level_disagrees: assessed !== null && assessed.level !== level,
      previous_level: before.level,
      version,
      etag: featureEtag(version),
      data_version: 0,
    });
  });
}

// ------------------------------------------------------------------ hazardous-chemical substances

export interface SubstancesInput {
  alpha?: number;
  people_exposed?: number;
  substances: { name_zh: string; cas?: string; q_t: number; threshold_t: number; beta: number }[];
}

export interface HazardAssessment extends HazardGrade {
  hazard_source_id: number;
  alpha: number;
  people_exposed: number | null;
  substances: { name_zh: string; cas: string | null; q_t: number; threshold_t: number; beta: number }[];
}

/** Replaces an enterprise's substances, computes S, R and the grade, and writes r_value, major_hazard and level. */
export async function setHazardSubstances(db: Db, sourceId: number, input: SubstancesInput, who: Principal, options: RiskOptions) {
  const alpha = input.alpha ?? alphaFor(input.people_exposed!, options);
  const grade = hazardGrade(alpha, input.substances.map((s) => ({ q: s.q_t, Q: s.threshold_t, beta: s.beta })), options);
  return db.tx(async (q) => {
    const r = await q.query<{ id: number; district_id: string; name_zh: string; level: RiskLevel; r_value: number | null; major_hazard: boolean; version: number; geometry: Geometry }>(
      `SELECT id::int8 AS id, district_id, name_zh, level, r_value::float8 AS r_value, major_hazard, version, ST_AsGeoJSON(geom, 9)::json AS geometry
         FROM hazard_sources WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`,
      [sourceId],
    );
    const before = r.rows[0];
    if (!before) throw new HttpProblem(404, 'Not found', `id: no hazard source ${sourceId}`, [{ name: 'id', reason: `no hazard source ${sourceId}` }]);
    assertDistrictScope(who, before.district_id);
    await q.query('DELETE FROM hazard_assessments WHERE hazard_source_id = $1', [sourceId]);
    await q.query(
      'INSERT INTO hazard_assessments (hazard_source_id, alpha, people_exposed, sum_q_over_q, r_value, actor) VALUES ($1, $2, $3, $4, $5, $6)',
      [sourceId, alpha, input.people_exposed ?? null, grade.sum_q_over_q, grade.r_value, who.actor],
    );
    for (const s of input.substances) {
      await q.query('INSERT INTO hazard_substances (hazard_source_id, name_zh, cas, quantity_t, threshold_t, beta) VALUES ($1, $2, $3, $4, $5, $6)', [
        sourceId,
        s.name_zh,
        s.cas ?? null,
        s.q_t,
        s.threshold_t,
        s.beta,
      ]);
    }
    const u = await q.query<{ version: number }>(
      'UPDATE hazard_sources SET r_value = $2, major_hazard = $3, level = $4, version = version + 1, updated_at = now() WHERE id = $1 RETURNING version',
      [sourceId, grade.r_value, grade.major_hazard, grade.level],
    );
    const version = u.rows[0].version;
    audit(
      q,
      who,
      'hazard_sources',
      sourceId,
      { version: before.version, level: before.level, r_value: before.r_value, major_hazard: before.major_hazard },
      { version, level: grade.level, r_value: grade.r_value, major_hazard: grade.major_hazard, alpha, sum_q_over_q: grade.sum_q_over_q, substances: input.substances },
    );
    recordChange(q, {
      layer: 'hazard_sources',
      id: sourceId,
      op: 'update',
      before: before.geometry,
      after: before.geometry,
      summary: { level: grade.level, previousLevel: before.level, name_zh: before.name_zh },
    });
    return stampVersion(q, { ...(await readAssessment(q, sourceId, who))!, previous_level: before.level, version, data_version: 0 });
  });
}

/** The stored assessment of one enterprise; `assessed_by` as `who` may see it (a pseudonym unless editor or admin). */
export async function readAssessment(q: Queryable, sourceId: number, who: Principal): Promise<(HazardAssessment & { level: RiskLevel; assessed_at: string; assessed_by: string }) | null> {
  const a = await q.query<{ alpha: number; people_exposed: number | null; sum_q_over_q: number; r_value: number; major_hazard: boolean; level: RiskLevel; assessed_at: string; actor: string }>(
    `SELECT a.alpha::float8 AS alpha, a.people_exposed, a.sum_q_over_q::float8 AS sum_q_over_q, a.r_value::float8 AS r_value, h.major_hazard, h.level,
            to_char(a.assessed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS assessed_at, a.actor
       FROM hazard_assessments a JOIN hazard_sources h ON h.id = a.hazard_source_id WHERE a.hazard_source_id = $1`,
    [sourceId],
  );
  const row = a.rows[0];
  if (!row) return null;
  const s = await q.query<{ name_zh: string; cas: string | null; q_t: number; threshold_t: number; beta: number }>(
    'SELECT name_zh, cas, quantity_t::float8 AS q_t, threshold_t::float8 AS threshold_t, beta::float8 AS beta FROM hazard_substances WHERE hazard_source_id = $1 ORDER BY id',
    [sourceId],
  );
  return {
    hazard_source_id: sourceId,
    alpha: Number(row.alpha),
    people_exposed: row.people_exposed === null ? null : Number(row.people_exposed),
    sum_q_over_q: Number(row.sum_q_over_q),
    r_value: Number(row.r_value),
    major_hazard: row.major_hazard,
    level: row.level,
    substances: s.rows.map((x) => ({ name_zh: x.name_zh, cas: x.cas, q_t: Number(x.q_t), threshold_t: Number(x.threshold_t), beta: Number(x.beta) })),
    assessed_at: row.assessed_at,
    assessed_by: actorFor(row.actor, who),
  };
}

// ------------------------------------------------------------------ scenario: closing shelters

/** Closes shelters (a scenario applied): one data version for all, one audit row and change per shelter. */
export async function closeShelters(db: Db, ids: readonly number[], reason: string, who: Principal) {
  return db.tx(async (q) => {
    const locked = await q.query<{ id: number; district_id: string; name_zh: string; status: string; version: number; geometry: Geometry }>(
      `SELECT id::int8 AS id, district_id, name_zh, status, version, ST_AsGeoJSON(geom, 9)::json AS geometry
         FROM shelters WHERE id = ANY($1::bigint[]) AND deleted_at IS NULL ORDER BY id FOR UPDATE`,
      [ids],
    );
    for (const s of locked.rows) assertDistrictScope(who, s.district_id);
    const toClose = locked.rows.filter((s) => s.status !== 'closed');
    if (toClose.length === 0) return { closed: [] as number[], data_version: null as number | null };
    for (const s of toClose) {
      const u = await q.query<{ version: number }>("UPDATE shelters SET status = 'closed', version = version + 1, updated_at = now() WHERE id = $1 RETURNING version", [s.id]);
      audit(q, who, 'shelters', Number(s.id), { version: s.version, status: s.status }, { version: u.rows[0].version, status: 'closed', reason });
      recordChange(q, { layer: 'shelters', id: Number(s.id), op: 'update', before: s.geometry, after: s.geometry, summary: { status: 'closed', name_zh: s.name_zh } });
    }
    return stampVersion(q, { closed: toClose.map((s) => Number(s.id)), data_version: null as number | null });
  });
}
