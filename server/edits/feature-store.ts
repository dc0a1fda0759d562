import type { Feature, Geometry } from 'geojson';
import type { Db, Queryable } from '../db/types.ts';
import { HttpProblem, notFound } from '../http/problem.ts';
import { keyedWrite } from '../db/write-keys.ts';
import type { RequestKey } from '../http/idempotency-key.ts';
import { journalOf } from '../db/data-version.ts';
import { recordChange } from '../live/notify.ts';
import type { LayerDef } from '../../catalog/layers.ts';
import type { Principal } from '../../catalog/access.ts';
import { visibleProperties } from '../../catalog/access.ts';
import { assertDistrictScope } from '../auth/district-scope.ts';
import type { FeatureChange } from '../changes.ts';
import { actorFor } from './actor-privacy.ts';
import { hazardZonesAfterEdit } from '../shelters/usability.ts';

/**
 * Transactional edits of features: every create, update, delete and restore
 * writes the feature, one audit row (who, when, before, after), bumps the data
 * version and announces the change — all in ONE transaction, so either all of
 * it happens or none. SQL identifiers come only from the registry; values only
 * travel as parameters.
 */

/** Layers that can be edited: integer ids, row versions and soft delete. */
export const EDITABLE_LAYERS = new Set(['risk_points', 'flood_points', 'geohazard_sites', 'shelters', 'hazard_sources', 'resources', 'networks', 'candidate_sites']);

/** Points on a boundary line, or digitised a few metres off, still belong to the district. */
export const DISTRICT_TOLERANCE_M = 100;

const MULTI_TABLE_GEOMETRY: Record<string, boolean> = { networks: true };

export interface StoredFeature {
  feature: Feature;
  version: number;
  districtId: string;
}

export const featureEtag = (version: number) => `"v${version}"`;

/** Parses an If-Match header into the version it names; null when absent. */
export function parseIfMatch(header: string | undefined): number | null | 'any' {
  if (header === undefined) return null;
  if (header.trim() === '*') return 'any';
  const m = /^\s*(?:W\/)?"v(\d+)"\s*$/.exec(header);
  if (!m) throw new HttpProblem(400, 'Invalid request', 'If-Match: expected an ETag of this API, like "v3"', [{ name: 'If-Match', reason: 'an ETag like "v3"' }]);
  return Number(m[1]);
}

function selectList(layer: LayerDef): string {
  const cols = layer.properties.map((p) => p.name);
  return ['id', ...cols, 'version', 'district_id AS _district', 'deleted_at IS NOT NULL AS _deleted', 'ST_AsGeoJSON(geom, 9)::json AS _geometry']
    .filter((c, i, all) => all.indexOf(c) === i)
    .join(', ');
}

function toStored(layer: LayerDef, row: Record<string, unknown>, who: Principal): StoredFeature {
  const properties: Record<string, unknown> = {};
  for (const p of visibleProperties(layer, who)) properties[p.name] = row[p.name] ?? null;
  return {
    feature: { type: 'Feature', id: row.id as number, geometry: row._geometry as Geometry, properties },
    version: row.version as number,
    districtId: row._district as string,
  };
}

function auditJson(layer: LayerDef, row: Record<string, unknown> | undefined): Record<string, unknown> | null {
  if (!row) return null;
  const out: Record<string, unknown> = { version: row.version };
  for (const p of layer.properties) out[p.name] = row[p.name] ?? null;
  out.geometry = row._geometry;
  return out;
}

export function assertEditable(layer: LayerDef): string {
  if (!layer.table || !EDITABLE_LAYERS.has(layer.id)) {
    throw new HttpProblem(405, 'Read-only layer', `${layer.id} cannot be edited through this API`);
  }
  return layer.table;
}

/**
 * Whether a feature `g` lies in district `d`, as SQL over their geometry
 * columns, with `tol` the parameter holding DISTRICT_TOLERANCE_M. A point may
 * lie up to the tolerance outside the outline; a line or polygon must lie
 * wholly inside the outline grown by the tolerance — merely touching the
 * district is not enough (a pipeline from the district to the far side of the
 * earth comes within 100 m of it too). Shared by edits and imports.
 */
export const insideDistrictSql = (g: string, d: string, tol: string) =>
  `CASE WHEN GeometryType(${g}) IN ('POINT', 'MULTIPOINT') THEN ST_DWithin(${d}::geography, ${g}::geography, ${tol})
        ELSE ST_Covers(${d}, ${g}) OR ST_Covers(ST_Buffer(${d}::geography, ${tol})::geometry, ${g}) END`;

/** How far, in km, the farthest vertex of `g` lies from district `d` (0 inside), for messages. */
export const kmOutsideSql = (g: string, d: string) =>
  `(SELECT round((max(ST_Distance(${d}::geography, p.geom::geography)) / 1000)::numeric, 1) FROM ST_DumpPoints(${g}) p)`;

/** Geometry validity and "inside the district it claims", checked by PostGIS. */
async function checkGeometry(q: Queryable, geometry: Geometry, districtId: string): Promise<void> {
  const r = await q.query<{ valid: boolean; reason: string; known: boolean; inside: boolean | null; km: number | null }>(
    `WITH g AS (SELECT ST_SetSRID(ST_GeomFromGeoJSON($1), 4326) AS geom)
     SELECT ST_IsValid(g.geom) AS valid, ST_IsValidReason(g.geom) AS reason,
            d.id IS NOT NULL AS known,
            ${insideDistrictSql('g.geom', 'd.geom', '$3')} AS inside,
            ${kmOutsideSql('g.geom', 'd.geom')} AS km
       FROM g LEFT JOIN districts d ON d.id = $2`,
    [JSON.stringify(geometry), districtId, DISTRICT_TOLERANCE_M],
  );
  const check = r.rows[0];
  if (!check.valid) {
    throw new HttpProblem(422, 'Invalid geometry', `geometry: ${check.reason}`, [{ name: 'geometry', reason: `a valid geometry (${check.reason})` }]);
  }
  if (!check.known) throw new HttpProblem(422, 'Unknown district', `district_id: no district ${districtId}`, [{ name: 'district_id', reason: 'an existing district id' }]);
  if (!check.inside) {
    throw new HttpProblem(422, 'Geometry outside its district', `geometry reaches ${check.km} km outside district ${districtId}`, [
      { name: 'geometry', reason: `inside district ${districtId}, at most ${DISTRICT_TOLERANCE_M} m beyond its outline (it reaches ${check.km} km outside)` },
    ]);
  }
}

async function lockRow(q: Queryable, layer: LayerDef, table: string, id: number): Promise<Record<string, unknown> | undefined> {
  const r = await q.query(`SELECT ${selectList(layer)} FROM ${table} WHERE id = $1 FOR UPDATE`, [id]);
  return r.rows[0] as Record<string, unknown> | undefined;
}

function checkVersion(current: number, ifMatch: number | 'any' | null): void {
  if (ifMatch === null) {
    throw new HttpProblem(428, 'Precondition required', 'send If-Match with the ETag you read, so concurrent edits are not lost', [
      { name: 'If-Match', reason: 'the ETag of the version being changed' },
    ]);
  }
  if (ifMatch !== 'any' && ifMatch !== current) {
    throw new HttpProblem(412, 'Precondition failed', `the feature changed since you read it: it is at ${featureEtag(current)}, you sent "v${ifMatch}"`, [], {
      currentEtag: featureEtag(current),
    });
  }
}

async function record(
  q: Queryable,
  layer: LayerDef,
  who: Principal,
  op: 'insert' | 'update' | 'delete' | 'restore',
  id: number,
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown> | undefined,
): Promise<void> {
  // the audit row and the change carry the data version, taken at the end of the transaction
  journalOf(q).audit({ actor: who.actor, layer: layer.id, feature_id: String(id), operation: op, before: auditJson(layer, before), after: auditJson(layer, after) });
  const change: Omit<FeatureChange, 'dataVersion'> = {
    layer: layer.id,
    id,
    op: op === 'restore' ? 'insert' : op,
    before: (before?._geometry as Geometry | undefined) ?? null,
    after: op === 'delete' ? null : ((after?._geometry as Geometry | undefined) ?? null),
    summary: {
      ...(after?.level !== undefined ? { level: after.level } : {}),
      ...(before?.level !== undefined ? { previousLevel: before.level } : {}),
      ...(after?.name_zh !== undefined ? { name_zh: after.name_zh } : {}),
    },
  };
  recordChange(q, change);
  // Shelters in a hazard's zone follow the hazard (and a moved shelter its new place), in this transaction.
  await hazardZonesAfterEdit(q, who, layer.id, id, change.before ?? null, change.after ?? null);
}

function geometrySql(table: string, param: string): string {
  const g = `ST_SetSRID(ST_GeomFromGeoJSON(${param}), 4326)`;
  return MULTI_TABLE_GEOMETRY[table] ? `ST_Multi(${g})` : g;
}

/**
 * Creates a feature. With `key` (an Idempotency-Key), the same request sent again gets the
 * feature created the first time, as it was then (`replayed`), and nothing is written.
 */
export async function createFeature(
  db: Db,
  layer: LayerDef,
  input: { properties: Record<string, unknown>; geometry: Geometry },
  who: Principal,
  key?: RequestKey,
): Promise<StoredFeature & { replayed?: true }> {
  const table = assertEditable(layer);
  const districtId = String(input.properties.district_id);
  assertDistrictScope(who, districtId);
  return db.tx((q) => keyedWrite(q, key, async () => {
    await checkGeometry(q, input.geometry, districtId);
    const entries = Object.entries(input.properties).filter(([, v]) => v !== undefined);
    const cols = entries.map(([k]) => k);
    const params = entries.map(([, v]) => v);
    params.push(JSON.stringify(input.geometry));
    const placeholders = entries.map((_, i) => `$${i + 1}`);
    const inserted = await q.query(
      `INSERT INTO ${table} (${[...cols, 'synthetic', 'geom'].join(', ')})
       VALUES (${[...placeholders, 'false', geometrySql(table, `$${params.length}`)].join(', ')})
       RETURNING id`,
      params,
    );
    const id = (inserted.rows[0] as { id: number }).id;
    const after = await lockRow(q, layer, table, id);
    await record(q, layer, who, 'insert', id, undefined, after);
    return toStored(layer, after!, who);
  }));
}

export async function updateFeature(
  db: Db,
  layer: LayerDef,
  id: number,
  input: { properties: Record<string, unknown>; geometry?: Geometry },
  mode: 'replace' | 'merge',
  ifMatch: number | 'any' | null,
  who: Principal,
): Promise<StoredFeature> {
  const table = assertEditable(layer);
  return db.tx(async (q) => {
    const before = await lockRow(q, layer, table, id);
    if (!before || before._deleted) throw notFound(`no ${layer.id} feature ${id}`);
    checkVersion(before.version as number, ifMatch);
    assertDistrictScope(who, before._district as string);
    const districtId = String(input.properties.district_id ?? before._district);
    assertDistrictScope(who, districtId);
    const geometry = input.geometry ?? (before._geometry as Geometry);
    if (input.geometry || districtId !== before._district) await checkGeometry(q, geometry, districtId);

    // PUT replaces every writable property the caller may see (absent → null); PATCH only those given.
    const values: Record<string, unknown> = {};
    if (mode === 'replace') {
      for (const p of visibleProperties(layer, who)) if (!p.readOnly) values[p.name] = input.properties[p.name] ?? null;
    } else Object.assign(values, input.properties);
    const entries = Object.entries(values).filter(([, v]) => v !== undefined);
    const params: unknown[] = entries.map(([, v]) => v);
    const sets = entries.map(([k], i) => `${k} = $${i + 1}`);
    if (input.geometry) {
      params.push(JSON.stringify(input.geometry));
      sets.push(`geom = ${geometrySql(table, `$${params.length}`)}`);
    }
    params.push(id);
    await q.query(
      `UPDATE ${table} SET ${[...sets, 'version = version + 1', 'updated_at = now()'].join(', ')} WHERE id = $${params.length}`,
      params,
    );
    const after = await lockRow(q, layer, table, id);
    await record(q, layer, who, 'update', id, before, after);
    return toStored(layer, after!, who);
  });
}

/** Soft delete: the row stays (history, restore) but leaves every map and list. */
export async function deleteFeature(db: Db, layer: LayerDef, id: number, ifMatch: number | 'any' | null, who: Principal): Promise<void> {
  const table = assertEditable(layer);
  await db.tx(async (q) => {
    const before = await lockRow(q, layer, table, id);
    if (!before || before._deleted) throw notFound(`no ${layer.id} feature ${id}`);
    checkVersion(before.version as number, ifMatch);
    assertDistrictScope(who, before._district as string);
    await q.query(`UPDATE ${table} SET deleted_at = now(), version = version + 1, updated_at = now() WHERE id = $1`, [id]);
    await record(q, layer, who, 'delete', id, before, undefined);
  });
}

export async function restoreFeature(db: Db, layer: LayerDef, id: number, who: Principal): Promise<StoredFeature> {
  const table = assertEditable(layer);
  return db.tx(async (q) => {
    const before = await lockRow(q, layer, table, id);
    if (!before) throw notFound(`no ${layer.id} feature ${id}`);
    if (!before._deleted) throw new HttpProblem(409, 'Not deleted', `${layer.id} feature ${id} is not deleted`);
    assertDistrictScope(who, before._district as string);
    await q.query(`UPDATE ${table} SET deleted_at = NULL, version = version + 1, updated_at = now() WHERE id = $1`, [id]);
    const after = await lockRow(q, layer, table, id);
    await record(q, layer, who, 'restore', id, undefined, after);
    return toStored(layer, after!, who);
  });
}

export interface HistoryEntry {
  at: string;
  actor: string;
  operation: string;
  dataVersion: number;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

/** Every recorded change of one feature, oldest first; restricted fields only for those who may see them. */
export async function featureHistory(db: Queryable, layer: LayerDef, id: number, who: Principal): Promise<HistoryEntry[]> {
  const r = await db.query<{ at: string; actor: string; operation: string; data_version: number; before: Record<string, unknown> | null; after: Record<string, unknown> | null }>(
    `SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, actor, operation, data_version, before, after
       FROM audit_log WHERE layer = $1 AND feature_id = $2 ORDER BY id`,
    [layer.id, String(id)],
  );
  const hidden = layer.properties.filter((p) => p.restricted && !who.canSeeRestricted).map((p) => p.name);
  const strip = (o: Record<string, unknown> | null) => {
    if (!o) return null;
    const copy = { ...o };
    for (const h of hidden) delete copy[h];
    // A recorded inspection names its recorder (risk/store.ts): shown like the entry's actor.
    const inspection = copy.inspection as Record<string, unknown> | undefined;
    if (typeof inspection?.recorded_by === 'string') copy.inspection = { ...inspection, recorded_by: actorFor(inspection.recorded_by, who) };
    return copy;
  };
  return r.rows.map((row) => ({ at: row.at, actor: actorFor(row.actor, who), operation: row.operation, dataVersion: row.data_version, before: strip(row.before), after: strip(row.after) }));
}
