/**
 * Shelter usability (migration 009): a shelter may exist and be open yet not be
 * usable — inside an active hazard's zone, closed for a running scenario, or
 * flagged by an editor. The reason is stored with the flag; the time it became
 * unusable is kept by a trigger. Every change here is one transaction: the
 * shelters, one audit row each, the data version and a live event.
 *
 * Precedence: an editor's flag is never overwritten by a scenario or the
 * hazard-zone recomputation; a scenario marks only shelters usable when it
 * starts, and ending it gives back exactly those it marked; the recomputation
 * flags usable shelters inside a zone and gives back the hazard-zone flags whose
 * zone is gone. An editor may set `usable` either way through the edit path.
 *
 * The hazard-zone recomputation runs by itself inside every edit and import of a
 * hazard layer (and of shelters that move or appear), for the shelters near the
 * change (`refreshHazardZones`); the endpoint recomputes every shelter.
 */
import type { Geometry } from 'geojson';
import type { Db, Queryable } from '../db/types.ts';
import { journalOf, stampVersion } from '../db/data-version.ts';
import { recordChange } from '../live/notify.ts';
import { HttpProblem, notFound } from '../http/problem.ts';
import { districtRefusal, type Principal } from '../../catalog/access.ts';
import { UNUSABLE_REASONS } from '../../catalog/layers.ts';
import { utcMomentSql } from '../../catalog/sql-names.ts';
import { loadActivePublicHazards } from '../risk/hazards.ts';
import { standingCandidates, unusableZones, type UnusableZone } from '../risk/exposure.ts';
import { DEFAULT_RISK_OPTIONS, type RiskOptions } from '../risk/options.ts';

export { UNUSABLE_REASONS };
export type UnusableReason = (typeof UNUSABLE_REASONS)[number];

interface UsabilityRow {
  id: number;
  district_id: string;
  name_zh: string;
  name_en: string | null;
  version: number;
  usable: boolean;
  unusable_reason: UnusableReason | null;
  unusable_note: string | null;
  geometry: Geometry;
}

const ROWS = `SELECT id::int8 AS id, district_id, name_zh, name_en, version, usable, unusable_reason, unusable_note, ST_AsGeoJSON(geom, 9)::json AS geometry
                FROM shelters WHERE deleted_at IS NULL`;

interface Change<Row extends UsabilityRow = UsabilityRow> {
  row: Row;
  usable: boolean;
  reason: UnusableReason | null;
  note: string | null;
  scenarioId: number | null;
  /** The zone that flags the shelter, for a hazard-zone flag. */
  zone?: UnusableZone;
}

/**
 * Writes the changes and records their audit rows and live events in the transaction's
 * journal, under the data version it commits with. `out.data_version` is set to that
 * version before COMMIT (it stays null when nothing changed).
 */
async function apply(q: Queryable, changes: readonly Change[], who: Principal, out: { data_version: number | null }): Promise<void> {
  if (changes.length === 0) return;
  stampVersion(q, out);
  const journal = journalOf(q);
  for (const c of changes) {
    const after = await q.query<{ version: number; unusable_since: string | null }>(
      `UPDATE shelters SET usable = $2, unusable_reason = $3, unusable_note = $4, unusable_scenario_id = $5, version = version + 1, updated_at = now()
        WHERE id = $1
        RETURNING version, ${utcMomentSql('unusable_since')} AS unusable_since`,
      [c.row.id, c.usable, c.reason, c.note, c.scenarioId],
    );
    const { version, unusable_since } = after.rows[0];
    journal.audit({
      actor: who.actor,
      layer: 'shelters',
      feature_id: String(c.row.id),
      operation: 'update',
      before: { version: c.row.version, usable: c.row.usable, unusable_reason: c.row.unusable_reason, unusable_note: c.row.unusable_note },
      after: { version, usable: c.usable, unusable_reason: c.reason, unusable_note: c.note, unusable_since },
    });
    recordChange(q, {
      layer: 'shelters',
      id: c.row.id,
      op: 'update',
      kind: 'usability',
      before: c.row.geometry,
      after: c.row.geometry,
      summary: { name_zh: c.row.name_zh, usable: c.usable, unusable_reason: c.reason, previous_usable: c.row.usable },
    });
  }
}

function assertScope(who: Principal, districtId: string): void {
  const refusal = districtRefusal(who, districtId);
  if (refusal) throw new HttpProblem(403, 'Forbidden', refusal, [{ name: 'district', reason: `one of ${who.districts!.join(', ')}` }]);
}

export interface ScenarioMarking {
  scenario_id: number;
  marked: number[];
  /** Shelters the scenario would close that were already unusable (their flag is kept). */
  already_unusable: number[];
  data_version: number | null;
}

/**
 * Starts a scenario run that marks `shelters` unusable for its duration
 * (reason `scenario`, with a note per shelter). Shelters already unusable keep
 * their flag and are not given back when the run ends.
 */
export async function startScenarioRun(
  db: Db,
  districtId: string,
  input: unknown,
  shelters: readonly { id: number; note: string }[],
  who: Principal,
): Promise<ScenarioMarking> {
  assertScope(who, districtId);
  return db.tx(async (q) => {
    const run = await q.query<{ id: number }>('INSERT INTO scenario_runs (district_id, actor, input) VALUES ($1, $2, $3) RETURNING id::int8 AS id', [
      districtId,
      who.actor,
      JSON.stringify(input),
    ]);
    const scenarioId = Number(run.rows[0].id);
    const notes = new Map(shelters.map((s) => [s.id, s.note]));
    const locked = await q.query<UsabilityRow>(`${ROWS} AND id = ANY($1::bigint[]) ORDER BY id FOR UPDATE`, [[...notes.keys()]]);
    for (const r of locked.rows) assertScope(who, r.district_id);
    const rows = locked.rows.map((r) => ({ ...r, id: Number(r.id) }));
    const changes = rows.filter((r) => r.usable).map((row) => ({ row, usable: false, reason: 'scenario' as const, note: notes.get(row.id) ?? null, scenarioId }));
    const out: ScenarioMarking = { scenario_id: scenarioId, marked: changes.map((c) => c.row.id), already_unusable: rows.filter((r) => !r.usable).map((r) => r.id), data_version: null };
    await apply(q, changes, who, out);
    return out;
  });
}

/** `DELETE /analysis/scenario/{id}`: ends a run and gives back the shelters it marked (still marked by it). */
export async function endScenarioRun(db: Db, scenarioId: number, who: Principal) {
  return db.tx(async (q) => {
    const run = await q.query<{ district_id: string; ended_at: string | null }>('SELECT district_id, ended_at::text FROM scenario_runs WHERE id = $1 FOR UPDATE', [scenarioId]);
    const r = run.rows[0];
    if (!r) throw notFound(`no scenario run ${scenarioId}`);
    assertScope(who, r.district_id);
    if (r.ended_at !== null) throw new HttpProblem(409, 'Scenario ended', `scenario run ${scenarioId} already ended at ${r.ended_at}`);
    const locked = await q.query<UsabilityRow>(`${ROWS} AND unusable_scenario_id = $1 AND unusable_reason = 'scenario' ORDER BY id FOR UPDATE`, [scenarioId]);
    const changes = locked.rows.map((row) => ({ row: { ...row, id: Number(row.id) }, usable: true, reason: null, note: null, scenarioId: null }));
    const out = { scenario_id: scenarioId, restored: changes.map((c) => c.row.id), data_version: null as number | null };
    await apply(q, changes, who, out);
    await q.query('UPDATE scenario_runs SET ended_at = now(), ended_by = $2 WHERE id = $1', [scenarioId, who.actor]);
    return out;
  });
}

/** Layers whose active features make the shelters near them unusable (public hazards only). */
export const HAZARD_ZONE_LAYERS: ReadonlySet<string> = new Set(['flood_points', 'geohazard_sites']);

/** How far a public hazard's unusable zone reaches at most, in metres. */
const zoneReachM = (options: RiskOptions) => Math.max(options.shelterDistances.flood_point.unusableWithinM, options.shelterDistances.geohazard_site.unusableWithinM);

/** The note stored with a hazard-zone flag; `hazard` names the hazard in place of its id (a dry run's import row). */
export const zoneNote = (zone: UnusableZone, hazard = String(zone.id)) => `within ${zone.within_m} m of active ${zone.hazard.replace(/_/g, ' ')} ${hazard} (${zone.distance_m} m)`;

/**
 * What the hazard-zone rule does to one shelter, given the zone that holds it (if any): a usable
 * shelter in a zone is flagged; a hazard-zone flag whose zone is gone is given back, and one whose
 * nearest zone changed gets the new note (its since is kept). An editor's or a scenario's flag is
 * never touched.
 */
function hazardZoneChange<Row extends UsabilityRow>(row: Row, zone: UnusableZone | undefined): Change<Row> | null {
  if (row.usable) return zone ? { row, usable: false, reason: 'hazard_zone', note: zoneNote(zone), scenarioId: null, zone } : null;
  if (row.unusable_reason !== 'hazard_zone') return null;
  if (!zone) return { row, usable: true, reason: null, note: null, scenarioId: null };
  const note = zoneNote(zone);
  return note === row.unusable_note ? null : { row, usable: false, reason: 'hazard_zone', note, scenarioId: null, zone };
}

function outcome(changes: readonly Change[]) {
  return {
    flagged: changes.filter((c) => c.row.usable && !c.usable).map((c) => c.row.id),
    restored: changes.filter((c) => c.usable).map((c) => c.row.id),
    /** Still in a hazard's zone, but now nearest another one (the note names it). */
    renoted: changes.filter((c) => !c.row.usable && !c.usable).map((c) => c.row.id),
  };
}

const numbered = <T extends { id: number; lon: number; lat: number }>(rows: T[]) => rows.map((r) => ({ ...r, id: Number(r.id), lon: Number(r.lon), lat: Number(r.lat) }));
const WITH_POSITION = ROWS.replace('AS geometry', 'AS geometry, ST_X(geom) AS lon, ST_Y(geom) AS lat');

/**
 * `POST /shelters/usability/hazard-zones`: flags usable shelters inside the zone
 * of an active flood-prone spot or geohazard site (the exposure analysis's
 * "unusable" distances; public hazards only, as for guidance cards) and gives
 * back hazard-zone flags whose zone is gone. Optionally one district.
 */
export async function recomputeHazardZones(db: Db, who: Principal, districtId: string | null = null, options: RiskOptions = DEFAULT_RISK_OPTIONS) {
  if (districtId) assertScope(who, districtId);
  return db.tx((q) => recomputeHazardZonesIn(q, who, districtId, options));
}

/**
 * The same recomputation inside a transaction the caller holds open: a bulk load of data
 * (server/db/load-data.ts) runs it before it commits, so loaded shelters are flagged as an
 * edit or import of the same rows would have flagged them.
 *
 * Every shelter is decided first without a lock, and only the shelters whose flag would
 * change are locked and decided again (`refreshHazardZones`), from their rows and the
 * hazards as they are once locked. A round usually changes nothing, and locking every
 * shelter for its length held up every check-in meanwhile (tens of milliseconds at city
 * scale, half a second when it flags hundreds). Deciding again under the lock keeps what a
 * write committed in between: an editor's flag, a hazard moved. A write committed after the
 * first reading decides the shelters near it itself (edits) or announces another round
 * (plain SQL). `in_hazard_zones` is counted in the first reading.
 */
export async function recomputeHazardZonesIn(q: Queryable, who: Principal, districtId: string | null = null, options: RiskOptions = DEFAULT_RISK_OPTIONS) {
  const scope = districtId ? ' AND district_id = $1' : '';
  const read = await q.query<UsabilityRow & { lon: number; lat: number }>(`${WITH_POSITION}${scope} ORDER BY id`, districtId ? [districtId] : []);
  // a key scoped to districts recomputes only its own
  const mine = numbered(read.rows).filter((r) => districtRefusal(who, r.district_id) === null);
  const zones = unusableZones(mine, standingCandidates(await loadActivePublicHazards(q), options));
  const due = mine.filter((row) => hazardZoneChange(row, zones.get(row.id)) !== null).map((r) => r.id);
  const { flagged, restored, renoted, data_version } = await refreshHazardZones(q, who, { shelterIds: due }, options);
  return { district: districtId, flagged, restored, renoted, in_hazard_zones: mine.filter((r) => zones.has(r.id)).length, data_version };
}

/** A shelter a write made unusable: the zone that holds it and the note stored with the flag. */
export interface FlaggedShelter {
  id: number;
  name_zh: string;
  name_en: string | null;
  lon: number;
  lat: number;
  unusable_note: string;
  hazard_zone: UnusableZone;
}

export interface HazardZoneRefresh {
  /** Every shelter looked at (ids), whether or not it changed. */
  checked: number[];
  flagged: number[];
  restored: number[];
  renoted: number[];
  /** The `flagged` shelters with their names and zones, in id order. */
  made_unusable: FlaggedShelter[];
  data_version: number | null;
}

/**
 * The hazard-zone rule applied automatically, inside the transaction of a write
 * that changed hazards or shelters (an edit, an import): recomputes the shelters
 * `shelterIds` and every shelter within a zone's reach of `places` (the changed
 * hazards' geometries, before and after), writes the changes with their audit
 * rows and queues their live events, which PostgreSQL delivers only if the write
 * commits. A hazard's zone does not stop at a district boundary, nor at the
 * writer's district scope: the shelters near it follow it whichever district
 * they belong to (the audit names the writer). Shelters are locked before the
 * hazards are read, so two writes near the same shelter decide one after the
 * other, the second seeing the first.
 */
export async function refreshHazardZones(
  q: Queryable,
  who: Principal,
  at: { shelterIds?: readonly number[]; places?: readonly Geometry[] },
  options: RiskOptions = DEFAULT_RISK_OPTIONS,
): Promise<HazardZoneRefresh> {
  const reach = zoneReachM(options);
  const ids = new Set(at.shelterIds ?? []);
  if (at.places?.length) {
    // A metre of slack: the decision below uses the analyses' ellipsoidal distance, and a shelter looked at needlessly changes nothing.
    const near = await q.query<{ id: number }>(
      `WITH p AS (SELECT ST_SetSRID(ST_GeomFromGeoJSON(g), 4326) AS geom FROM json_array_elements_text($1::json) g)
       SELECT DISTINCT s.id::int8 AS id
         FROM p JOIN shelters s
           ON s.geom && ST_Expand(p.geom, $2::float8 / (110000 * cos(radians(least(greatest(abs(ST_YMin(p.geom)), abs(ST_YMax(p.geom))), 89)))), $2::float8 / 110000)
          AND ST_DWithin(s.geom::geography, p.geom::geography, $2::float8)
        WHERE s.deleted_at IS NULL`,
      [JSON.stringify(at.places), reach + 1],
    );
    for (const r of near.rows) ids.add(Number(r.id));
  }
  if (ids.size === 0) return { checked: [], flagged: [], restored: [], renoted: [], made_unusable: [], data_version: null };
  const locked = await q.query<UsabilityRow & { lon: number; lat: number }>(`${WITH_POSITION} AND id = ANY($1::bigint[]) ORDER BY id FOR UPDATE`, [[...ids]]);
  const rows = numbered(locked.rows);
  const hazards = await loadActivePublicHazards(q, { shelterIds: rows.map((r) => r.id), withinM: reach + 1 });
  const zones = unusableZones(rows, standingCandidates(hazards, options));
  const changes = rows.map((row) => hazardZoneChange(row, zones.get(row.id))).filter((c) => c !== null);
  const madeUnusable = changes
    .filter((c) => c.row.usable && !c.usable && c.zone)
    .map(({ row, note, zone }) => ({ id: row.id, name_zh: row.name_zh, name_en: row.name_en, lon: row.lon, lat: row.lat, unusable_note: note!, hazard_zone: zone! }));
  const out: HazardZoneRefresh = { checked: rows.map((r) => r.id), ...outcome(changes), made_unusable: madeUnusable, data_version: null };
  await apply(q, changes, who, out);
  return out;
}

/**
 * After an edit of feature `id` of `layerId` (in the edit's transaction; geometries before and
 * after, null when created or deleted): a flood-prone spot or geohazard site created, moved,
 * changed (its status), deleted or restored recomputes the shelters near where it was and where
 * it is; a shelter created, restored or moved is recomputed itself. Other edits of a shelter
 * (an editor's own `usable`) are left as the editor made them.
 */
export async function hazardZonesAfterEdit(q: Queryable, who: Principal, layerId: string, id: number, before: Geometry | null, after: Geometry | null) {
  if (HAZARD_ZONE_LAYERS.has(layerId)) return refreshHazardZones(q, who, { places: [before, after].filter((g): g is Geometry => g !== null) });
  if (layerId === 'shelters' && after && JSON.stringify(before) !== JSON.stringify(after)) return refreshHazardZones(q, who, { shelterIds: [id] });
  return null;
}
