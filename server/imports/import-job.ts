import { randomUUID } from 'node:crypto';
import type { Geometry } from 'geojson';
import type { Db, Queryable } from '../db/types.ts';
import { recordChange } from '../live/notify.ts';
import type { LayerDef, PropertyType } from '../../catalog/layers.ts';
import { districtRefusal, type Principal } from '../../catalog/access.ts';
import { geometrySchema, propertiesSchema, writableProperties } from '../edits/feature-schema.ts';
import { DISTRICT_TOLERANCE_M, EDITABLE_LAYERS, insideDistrictSql, kmOutsideSql } from '../edits/feature-store.ts';
import { geometryToWgs84, type ImportCrs } from './crs.ts';
import { DEFAULT_GEOMETRY_LIMITS, geometryIssue, type GeometryLimits } from '../geo/geometry-input.ts';
import { bboxPolygon, geometryBBox, unionBBox } from '../geo/bbox.ts';
import type { RawRow, RowError } from './parse.ts';
import { HAZARD_ZONE_LAYERS, refreshHazardZones, zoneNote, type FlaggedShelter, type HazardZoneRefresh } from '../shelters/usability.ts';
import type { UnusableZone } from '../risk/exposure.ts';

/**
 * An import lands whole or not at all. Every row is validated first (types,
 * enums, required fields, geometry, district, the caller's district scope) and
 * EVERY bad row is reported; only when none is bad are the rows written, in one
 * transaction with one audit row per feature, one data-version bump and one
 * change event. Progress is visible while it runs (GET /import/jobs/{id}, from
 * any server process: server/imports/job-store.ts).
 */

export interface ImportReport {
  job: string;
  layer: string;
  format: string;
  crs: ImportCrs;
  dryRun: boolean;
  status: 'running' | 'imported' | 'valid' | 'rejected' | 'failed';
  phase: 'parsing' | 'validating' | 'checking districts' | 'writing' | 'done';
  rows: number;
  processed: number;
  imported: number;
  errors: RowError[];
  /** Ids of the features created (first 1000; all are in the audit log). */
  ids: number[];
  /**
   * Shelters the import made unusable once it has committed — or, for a dry run, would make
   * unusable: those in the zone of an imported active flood-prone spot or geohazard site, or
   * imported shelters inside an active hazard's zone (each with its zone and the note stored
   * with the flag). A dry run works it out by writing the rows in a transaction it rolls back,
   * so it equals the report of the import committed next (unless other writes came between),
   * except that what the import creates has no id yet: it is named by its import row.
   */
  sheltersFlagged: ImportFlaggedShelter[];
  startedAt: string;
  finishedAt: string | null;
  /** Milliseconds spent per phase, for operators sizing big imports. */
  timings: Partial<Record<'validating' | 'checking districts' | 'writing', number>>;
}

/** A shelter an import makes unusable, with the import rows of what the import creates. */
export interface ImportFlaggedShelter extends Omit<FlaggedShelter, 'id' | 'hazard_zone'> {
  /** The shelter's id: null in a dry run for a shelter the import would create (see `row`). */
  id: number | null;
  /** The import row that creates this shelter; null for a shelter stored before. */
  row: number | null;
  hazard_zone: Omit<UnusableZone, 'id'> & {
    /** The hazard's id: null in a dry run for a hazard the import would create (see `row`). */
    id: number | null;
    /** The import row that creates this hazard; null for a hazard stored before. */
    row: number | null;
  };
}

/** Thrown to roll a dry run's writing back, carrying what it found. */
class DryRunRollback extends Error {
  constructor(readonly flagged: ImportFlaggedShelter[]) {
    super('dry run: rolled back');
  }
}

// Rows per INSERT statement: big enough to amortise per-statement cost, small enough for memory.
const CHUNK = 5000;
const SQL_TYPES: Record<PropertyType, string> = { string: 'text', integer: 'integer', number: 'numeric', boolean: 'boolean', date: 'date', datetime: 'timestamptz' };

export function newJob(layer: LayerDef, format: string, crs: ImportCrs, dryRun: boolean): ImportReport {
  const report: ImportReport = {
    job: randomUUID(),
    layer: layer.id,
    format,
    crs,
    dryRun,
    status: 'running',
    phase: 'parsing',
    rows: 0,
    processed: 0,
    imported: 0,
    errors: [],
    ids: [],
    sheltersFlagged: [],
    startedAt: new Date().toISOString(),
    finishedAt: null,
    timings: {},
  };
  return report;
}

interface ValidRow {
  row: number;
  properties: Record<string, unknown>;
  geometry: Geometry;
}

function validate(layer: LayerDef, rows: RawRow[], crs: ImportCrs, who: Principal, report: ImportReport, limits: GeometryLimits): ValidRow[] {
  const props = propertiesSchema(layer, who, false);
  const geom = geometrySchema(layer);
  const valid: ValidRow[] = [];
  for (const raw of rows) {
    const errors: RowError[] = [];
    const p = props.safeParse(raw.properties);
    if (!p.success) {
      for (const issue of p.error.issues) {
        const field = issue.code === 'unrecognized_keys' ? issue.keys[0] : issue.path.map(String).join('.') || 'properties';
        errors.push({ row: raw.row, field, reason: issue.code === 'unrecognized_keys' ? 'not a known column' : issue.message });
      }
    }
    let geometry: unknown = raw.geometry;
    if (geometry === undefined && raw.position) geometry = { type: 'Point', coordinates: raw.position };
    if (geometry === undefined) errors.push({ row: raw.row, field: 'geometry', reason: 'a geometry, or lon/lat (x/y) columns' });
    else {
      const g = geom.safeParse(geometry);
      if (!g.success) for (const issue of g.error.issues) errors.push({ row: raw.row, field: ['geometry', ...issue.path.map(String)].join('.'), reason: issue.message });
      else {
        // The same rule as edits and drawn areas, on the coordinates as stored (WGS84).
        geometry = geometryToWgs84(g.data, crs);
        const issue = geometryIssue(geometry, limits);
        if (issue) errors.push({ row: raw.row, field: ['geometry', ...issue.path.map(String)].join('.'), reason: issue.reason });
      }
    }
    const refusal = p.success ? districtRefusal(who, String(p.data.district_id)) : null;
    if (refusal) errors.push({ row: raw.row, field: 'district_id', reason: refusal });
    if (errors.length) report.errors.push(...errors);
    else valid.push({ row: raw.row, properties: p.data!, geometry: geometry as Geometry });
    report.processed++;
  }
  return valid;
}

/** Rows whose geometry is invalid or outside the district they name, in one set-based query. */
async function checkPlacement(db: Db, rows: ValidRow[], report: ImportReport): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK).map((r) => ({ row: r.row, d: r.properties.district_id, g: r.geometry }));
    const bad = await db.query<{ row: number; valid: boolean; reason: string; known: boolean; km: number | null }>(
      `WITH e AS (
         SELECT (v->>'row')::int AS row, v->>'d' AS d, ST_SetSRID(ST_GeomFromGeoJSON(v->>'g'), 4326) AS geom
           FROM json_array_elements($1::json) v)
       SELECT e.row, ST_IsValid(e.geom) AS valid, ST_IsValidReason(e.geom) AS reason, d.id IS NOT NULL AS known,
              ${kmOutsideSql('e.geom', 'd.geom')} AS km
         FROM e LEFT JOIN districts d ON d.id = e.d
        WHERE d.id IS NULL OR NOT ST_IsValid(e.geom)
           -- a planar test first (PostGIS prepares the district once for the whole
           -- statement); the geodesic tolerance only for rows not inside it
           OR CASE WHEN ST_Covers(d.geom, e.geom) THEN false
                   ELSE NOT (${insideDistrictSql('e.geom', 'd.geom', '$2')}) END
        ORDER BY e.row`,
      [JSON.stringify(chunk), DISTRICT_TOLERANCE_M],
    );
    for (const b of bad.rows) {
      if (!b.valid) report.errors.push({ row: b.row, field: 'geometry', reason: `a valid geometry (${b.reason})` });
      else if (!b.known) report.errors.push({ row: b.row, field: 'district_id', reason: 'an existing district id' });
      else report.errors.push({ row: b.row, field: 'geometry', reason: `inside its district, at most ${DISTRICT_TOLERANCE_M} m beyond its outline (it reaches ${b.km} km outside)` });
    }
  }
}

/**
 * A flagged shelter as the import reports it: what the import creates is named by its import
 * row as well as its id; a dry run's ids of created features are dropped (they were drawn in a
 * transaction rolled back, and the commit will draw others), and so is the id in its note.
 */
const HAZARD_OF_LAYER: Readonly<Record<string, UnusableZone['hazard']>> = { flood_points: 'flood_point', geohazard_sites: 'geohazard_site' };

function importFlag(s: FlaggedShelter, layerId: string, rowOf: ReadonlyMap<number, number>, dryRun: boolean): ImportFlaggedShelter {
  const row = layerId === 'shelters' ? (rowOf.get(s.id) ?? null) : null;
  const hazardRow = HAZARD_OF_LAYER[layerId] === s.hazard_zone.hazard ? (rowOf.get(s.hazard_zone.id) ?? null) : null;
  if (!dryRun) return { ...s, row, hazard_zone: { ...s.hazard_zone, row: hazardRow } };
  const zone = s.hazard_zone;
  return {
    ...s,
    id: row === null ? s.id : null,
    row,
    unusable_note: hazardRow === null ? s.unusable_note : zoneNote(zone, `of import row ${hazardRow}`),
    hazard_zone: { ...zone, id: hazardRow === null ? zone.id : null, row: hazardRow },
  };
}

/**
 * `finishIn`, when given, records the finished report in the import's own
 * transaction, so the report says "imported" exactly when the rows are there.
 */
export async function runImport(
  db: Db,
  layer: LayerDef,
  rows: RawRow[],
  who: Principal,
  report: ImportReport,
  limits: GeometryLimits = DEFAULT_GEOMETRY_LIMITS,
  finishIn?: (q: Queryable, finished: ImportReport) => Promise<void>,
): Promise<ImportReport> {
  try {
    if (!layer.table || !EDITABLE_LAYERS.has(layer.id)) throw new Error(`${layer.id} cannot be imported into`);
    report.rows = rows.length;
    let mark = performance.now();
    const lap = (phase: keyof ImportReport['timings']) => {
      const now = performance.now();
      report.timings[phase] = Math.round(now - mark);
      mark = now;
    };
    report.phase = 'validating';
    const valid = validate(layer, rows, report.crs, who, report, limits);
    lap('validating');
    report.phase = 'checking districts';
    await checkPlacement(db, valid, report);
    lap('checking districts');
    report.errors.sort((a, b) => a.row - b.row);
    if (report.errors.length || rows.length === 0) {
      if (!rows.length) report.errors.push({ row: 0, field: 'body', reason: 'at least one row' });
      report.status = 'rejected';
      return report;
    }
    // A dry run writes too, in a transaction it rolls back: the shelters it would flag are
    // found by the very code the import runs, so the prediction cannot drift from the outcome.
    if (!report.dryRun) {
      report.phase = 'writing';
      report.processed = 0;
    }
    const table = layer.table;
    const geomSql = layer.geometry === 'line' ? `ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(v->>'_g'), 4326))` : `ST_SetSRID(ST_GeomFromGeoJSON(v->>'_g'), 4326)`;
    // Rows are written in groups with the same fields present, so a field a row
    // leaves out gets the column's default (e.g. status 'active') instead of NULL.
    const groups = new Map<string, ValidRow[]>();
    for (const r of valid) {
      const key = Object.keys(r.properties).filter((k) => r.properties[k] !== undefined && r.properties[k] !== null).sort().join(',');
      (groups.get(key) ?? groups.set(key, []).get(key)!).push(r);
    }
    const byName = new Map(writableProperties(layer, who).map((c) => [c.name, c]));
    // Column names from the registry; every value from the JSON parameter. Ids are drawn in
    // the rows' order (ORDER BY ord), so the sorted ids of a chunk match its rows one to one.
    const insertSql = (names: string[]) => `
      WITH ins AS (
        INSERT INTO ${table} (${[...names, 'synthetic', 'geom'].join(', ')})
        SELECT ${[...names.map((n) => `(v->>'${n}')::${SQL_TYPES[byName.get(n)!.type]}`), 'false', geomSql].join(', ')}
          FROM json_array_elements($1::json) WITH ORDINALITY AS e(v, ord)
         ORDER BY ord
        RETURNING *)
      INSERT INTO audit_log_pending (actor, layer, feature_id, operation, after)
      SELECT $2, $3, ins.id::text, 'import',
             (to_jsonb(ins) - 'geom' - 'geom3857' - 'created_at' - 'updated_at' - 'deleted_at') || jsonb_build_object('geometry', ST_AsGeoJSON(ins.geom, 9)::jsonb)
        FROM ins
      RETURNING feature_id`;
    let committed: ImportReport;
    try {
      // The audit rows wait in audit_log_pending for the data version, taken as the
      // transaction's last statement (migration 015), so other editors are not held
      // up for the whole import.
      committed = await db.tx(async (q) => {
        const ids: number[] = [];
        /** The import row of each feature written, by id. */
        const rowOf = new Map<number, number>();
        for (const [key, group] of groups) {
          const names = key ? key.split(',').filter((n) => byName.has(n)) : [];
          for (let i = 0; i < group.length; i += CHUNK) {
            const rows = group.slice(i, i + CHUNK);
            const chunk = rows.map((r) => ({ ...r.properties, _g: JSON.stringify(r.geometry) }));
            const r = await q.query<{ feature_id: string }>(insertSql(names), [JSON.stringify(chunk), who.actor, layer.id]);
            const written = r.rows.map((row) => Number(row.feature_id)).sort((a, b) => a - b);
            written.forEach((id, k) => rowOf.set(id, rows[k].row));
            ids.push(...written);
            if (!report.dryRun) {
              for (const id of written) if (report.ids.length < 1000) report.ids.push(id);
              report.imported += written.length;
              report.processed += chunk.length;
            }
          }
        }
        // Shelters in the zone of an imported active hazard, and imported shelters in any such zone,
        // are flagged in this same transaction: the import and its consequences land together or not at all.
        let refresh: HazardZoneRefresh | null = null;
        if (HAZARD_ZONE_LAYERS.has(layer.id)) refresh = await refreshHazardZones(q, who, { places: valid.map((r) => r.geometry) });
        else if (layer.id === 'shelters') refresh = await refreshHazardZones(q, who, { shelterIds: ids });
        const flagged = (refresh?.made_unusable ?? []).map((s) => importFlag(s, layer.id, rowOf, report.dryRun));
        if (report.dryRun) throw new DryRunRollback(flagged);
        // One event for the whole import, covering every row written.
        const importedBox = unionBBox(valid.map((r) => geometryBBox(r.geometry)));
        recordChange(q, {
          layer: layer.id,
          id: `import:${report.job}`,
          op: 'insert',
          kind: 'import',
          after: importedBox ? bboxPolygon(importedBox) : null,
          summary: { imported: valid.length, job: report.job },
        });
        // The report as it reads once the rows are committed; with `finishIn`, stored by this transaction.
        const finished: ImportReport = {
          ...report,
          ids: [...report.ids].sort((a, b) => a - b),
          sheltersFlagged: flagged,
          status: 'imported',
          phase: 'done',
          finishedAt: new Date().toISOString(),
          timings: { ...report.timings, writing: Math.round(performance.now() - mark) },
        };
        if (finishIn) await finishIn(q, finished);
        return finished;
      });
    } catch (err) {
      if (!(err instanceof DryRunRollback)) throw err;
      report.sheltersFlagged = err.flagged;
      report.status = 'valid';
      return report;
    }
    // only now that the rows are committed (the writing time then includes the commit)
    Object.assign(report, committed);
    lap('writing');
    return report;
  } catch (err) {
    report.status = 'failed';
    report.imported = 0;
    report.ids = [];
    report.sheltersFlagged = [];
    report.errors.push({ row: 0, field: 'body', reason: `the database refused the import: ${(err as Error).message}` });
    return report;
  } finally {
    report.phase = 'done';
    report.finishedAt = new Date().toISOString();
  }
}
