import type { Db, Queryable } from '../db/types.ts';
import { HttpProblem } from '../http/problem.ts';
import type { AdminUnit, DistrictInfo, DistrictSnapshot, PopulationCell, Shelter } from './model.ts';
import { packCellsFromJson, unpackCells } from './packed-cells.ts';
import { workerPool } from '../work/shared.ts';

/**
 * Loads one district's cells, shelters and units: four set-based statements,
 * whatever the size of the district. Unit membership comes from the row's
 * street_id/community_id and, where that is empty, from the polygon that covers
 * the feature (lowest id when polygons overlap).
 */
const DISTRICT_SQL = `
  SELECT id, name_zh, name_en, shelter_target_m2::float8 AS target, target_source
  FROM districts WHERE id = $1`;

// The cells as one JSON text ([[id, residents, lon, lat, street_id, community_id], …]):
// a district has thousands, and parsing them row by row (the driver's row
// parser, then mapping each row) held the event loop for tens of milliseconds.
// One text field costs the main thread nothing; a worker parses it into typed
// arrays (server/analysis/packed-cells.ts). Numbers are written by the same
// output functions as in a row, so they parse to the same values.
const CELLS_SQL = `
  WITH c AS (
    SELECT id, residents, street_id, community_id, ST_PointOnSurface(geom) AS pt
    FROM population_cells WHERE district_id = $1
  ), r AS (
    SELECT c.id::int8 AS id, c.residents::int AS residents, ST_X(c.pt) AS lon, ST_Y(c.pt) AS lat,
      COALESCE(c.street_id, (SELECT s.id FROM streets s WHERE s.district_id = $1 AND ST_Covers(s.geom, c.pt) ORDER BY s.id LIMIT 1)) AS street_id,
      COALESCE(c.community_id, (SELECT m.id FROM communities m WHERE m.district_id = $1 AND ST_Covers(m.geom, c.pt) ORDER BY m.id LIMIT 1)) AS community_id
    FROM c
  )
  SELECT COALESCE(json_agg(json_build_array(id, residents, lon, lat, street_id, community_id) ORDER BY id), '[]')::text AS cells FROM r`;

const SHELTERS_SQL = `
  SELECT sh.id::int8 AS id, sh.name_zh, sh.name_en, ST_X(sh.geom) AS lon, ST_Y(sh.geom) AS lat,
    sh.shelter_class, sh.stay_class, sh.setting, sh.status, sh.usable, sh.effective_area_m2::float8 AS area, sh.capacity, sh.occupancy,
    COALESCE(sh.street_id, (SELECT s.id FROM streets s WHERE s.district_id = $1 AND ST_Covers(s.geom, sh.geom) ORDER BY s.id LIMIT 1)) AS street_id,
    (SELECT m.id FROM communities m WHERE m.district_id = $1 AND ST_Covers(m.geom, sh.geom) ORDER BY m.id LIMIT 1) AS community_id
  FROM shelters sh
  WHERE sh.district_id = $1 AND sh.deleted_at IS NULL
  ORDER BY sh.id`;

const UNITS_SQL = `
  SELECT 'street' AS level, id, name_zh, name_en FROM streets WHERE district_id = $1
  UNION ALL
  SELECT 'community', id, name_zh, name_en FROM communities WHERE district_id = $1
  ORDER BY 1, 2`;

export async function readDataVersion(db: Queryable): Promise<number> {
  const r = await db.query<{ version: number }>('SELECT version::int8 AS version FROM data_version');
  return Number(r.rows[0]?.version ?? 0);
}

export function unknownDistrict(id: string): HttpProblem {
  return new HttpProblem(404, 'Not found', `district: no district "${id}"`, [{ name: 'district', reason: `no district "${id}"` }]);
}

export async function loadDistrictInfo(db: Queryable, districtId: string): Promise<DistrictInfo> {
  const d = await db.query<{ id: string; name_zh: string; name_en: string; target: number; target_source: string }>(DISTRICT_SQL, [districtId]);
  const row = d.rows[0];
  if (!row) throw unknownDistrict(districtId);
  return { id: row.id, name_zh: row.name_zh, name_en: row.name_en, targetM2: Number(row.target), targetSource: row.target_source };
}

/**
 * The cells from CELLS_SQL's JSON text: parsed and packed on a worker, then
 * unpacked here (a loop that allocates the objects, without parsing anything).
 * When every worker is busy and the queue is full, or the pool is shutting
 * down, it is parsed here instead: a snapshot is shared by every request for
 * the district, and refusing it would refuse them all.
 */
async function cellsFromJson(json: string, signal: AbortSignal | undefined): Promise<PopulationCell[]> {
  let packed;
  try {
    packed = await workerPool().run('packCellsFromJson', json, signal);
  } catch (err) {
    if (!(err instanceof HttpProblem && err.status === 503)) throw err;
    packed = packCellsFromJson(json);
  }
  return unpackCells(packed);
}

/**
 * `signal` fires when nobody waits for the snapshot any more: a snapshot is shared
 * through the model cache, whose signal fires only when the last request waiting
 * for it has left, never when one client does.
 */
export async function loadDistrictSnapshot(db: Db, districtId: string, dataVersion: number, signal?: AbortSignal): Promise<DistrictSnapshot> {
  const district = await loadDistrictInfo(db, districtId);
  const [cells, shelters, units] = await Promise.all([
    db.query<{ cells: string }>(CELLS_SQL, [districtId]).then((r) => cellsFromJson(r.rows[0].cells, signal)),
    db.query<Record<string, unknown>>(SHELTERS_SQL, [districtId]),
    db.query<{ level: string; id: string; name_zh: string; name_en: string }>(UNITS_SQL, [districtId]),
  ]);
  const unit = (r: { id: string; name_zh: string; name_en: string }): AdminUnit => ({ id: r.id, name_zh: r.name_zh, name_en: r.name_en });
  return {
    district,
    dataVersion,
    cells,
    shelters: shelters.rows.map(
      (r): Shelter => ({
        id: Number(r.id),
        name_zh: String(r.name_zh),
        name_en: (r.name_en as string | null) ?? null,
        lon: Number(r.lon),
        lat: Number(r.lat),
        shelterClass: r.shelter_class as Shelter['shelterClass'],
        stayClass: (r.stay_class as Shelter['stayClass']) ?? null,
        setting: r.setting as Shelter['setting'],
        status: r.status as Shelter['status'],
        usable: r.usable !== false,
        effectiveAreaM2: Number(r.area),
        capacity: Number(r.capacity),
        occupancy: Number(r.occupancy),
        streetId: (r.street_id as string | null) ?? null,
        communityId: (r.community_id as string | null) ?? null,
      }),
    ),
    streets: units.rows.filter((r) => r.level === 'street').map(unit),
    communities: units.rows.filter((r) => r.level === 'community').map(unit),
  };
}

/** Outlines of a district's streets or communities as GeoJSON geometries (for f=geojson). */
export async function loadUnitGeometries(db: Queryable, districtId: string, level: 'street' | 'community'): Promise<Map<string, unknown>> {
  const table = level === 'street' ? 'streets' : 'communities'; // from a closed enum, never from input
  const r = await db.query<{ id: string; geometry: string }>(`SELECT id, ST_AsGeoJSON(geom, 6) AS geometry FROM ${table} WHERE district_id = $1`, [districtId]);
  return new Map(r.rows.map((row) => [row.id, JSON.parse(row.geometry)]));
}
