import { z } from 'zod';
import type { Queryable } from '../db/types.ts';
import { badRequest } from '../http/problem.ts';
import { parseInput } from '../http/validate.ts';
import { assertGeometryInput, type GeometryLimits } from '../geo/geometry-input.ts';
import { getLayer } from '../../catalog/layers.ts';
import { canSeeLayer, type Principal } from '../../catalog/access.ts';

/**
 * What lies inside a drawn polygon: residents, shelters and their capacity,
 * risk points by level, flood and geohazard sites, hazard sources (only for
 * callers allowed to see them) and the administrative units it touches — for
 * planners' drawn areas and for targeting warnings to the zones at risk.
 *
 * Residents are apportioned: a cell partly inside counts with the share of its
 * area that is inside (people assumed spread evenly over a cell).
 */
const position = z
  .tuple([z.number(), z.number()], { message: '[lon, lat]' })
  .rest(z.number())
  .refine(([lon, lat]) => lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90, 'lon −180–180, lat −90–90');
const ring = z
  .array(position, { message: 'a ring: an array of positions' })
  .min(4, 'a ring needs at least 4 positions')
  .refine((r) => r.length < 4 || (r[0][0] === r[r.length - 1][0] && r[0][1] === r[r.length - 1][1]), 'a ring must end where it starts');
const polygonCoords = z.array(ring, { message: 'an array of rings' }).min(1, 'at least the outer ring');

/** A GeoJSON Polygon or MultiPolygon in lon/lat, rings closed; shared with the risk scenario's areas. */
export const polygonGeometry = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('Polygon'), coordinates: polygonCoords }),
    z.object({ type: z.literal('MultiPolygon'), coordinates: z.array(polygonCoords).min(1, 'at least one polygon') }),
  ],
  { message: 'a GeoJSON Polygon or MultiPolygon' },
);

const polygonFeature = z.object({ type: z.literal('Feature'), geometry: polygonGeometry, properties: z.unknown().optional(), id: z.unknown().optional() });

export type AreaSummaryBody = z.infer<typeof polygonGeometry> | z.infer<typeof polygonFeature>;

/** The body: a Polygon/MultiPolygon geometry, or a Feature carrying one; errors name the field. */
export function parseAreaBody(body: unknown): AreaSummaryBody {
  const type = (body as { type?: unknown } | null)?.type;
  if (type === 'Feature') return parseInput(polygonFeature, body, 'body');
  if (type === 'Polygon' || type === 'MultiPolygon') return parseInput(polygonGeometry, body, 'body');
  throw badRequest('type', 'a GeoJSON Polygon or MultiPolygon, or a Feature with one');
}

/** Checks the polygon by the geometry input rule, then in PostGIS (validity, size) and returns it as GeoJSON text. */
export async function checkArea(db: Queryable, body: AreaSummaryBody, maxKm2: number, limits: GeometryLimits): Promise<string> {
  const geometry = body.type === 'Feature' ? body.geometry : body;
  const where = body.type === 'Feature' ? 'geometry' : 'body';
  assertGeometryInput(geometry, where, limits);
  const text = JSON.stringify(geometry);
  const r = await db.query<{ valid: boolean; reason: string; area: number }>(
    `WITH g AS (SELECT ST_SetSRID(ST_GeomFromGeoJSON($1), 4326) AS g)
     SELECT ST_IsValid(g) AS valid, ST_IsValidReason(g) AS reason, CASE WHEN ST_IsValid(g) THEN ST_Area(g::geography) ELSE 0 END AS area FROM g`,
    [text],
  );
  const row = r.rows[0];
  if (!row.valid) throw badRequest(where, `the polygon is not valid: ${row.reason}`);
  if (Number(row.area) > maxKm2 * 1e6) throw badRequest(where, `the polygon covers ${(Number(row.area) / 1e6).toFixed(1)} km²; at most ${maxKm2} km²`);
  if (!(Number(row.area) > 0)) throw badRequest(where, 'the polygon has no area');
  return text;
}

const AREA = `ST_SetSRID(ST_GeomFromGeoJSON($1), 4326)`;

/**
 * `statuses`: the shelter statuses that count in area, capacity and free capacity — the coverage
 * analysis's (closed shelters do not count); every shelter still appears in by_class and by_status.
 * Shelters stored as unusable do not count either unless `includeUnusable`.
 */
export async function areaSummary(db: Queryable, geojson: string, who: Principal, statuses: readonly string[], includeUnusable = false) {
  const q = <R extends Record<string, unknown>>(sql: string) => db.query<R>(sql, [geojson]).then((r) => r.rows);
  const [area] = await q<{ area_m2: number }>(`SELECT ST_Area(${AREA}::geography) AS area_m2`);
  // cells inside count whole; cells on the edge by the share of their area inside
  const [people] = await q<{ residents: number; cells: number }>(
    `WITH a AS MATERIALIZED (SELECT ${AREA} AS g)
     SELECT coalesce(sum(CASE WHEN ST_CoveredBy(c.geom, a.g) THEN c.residents
                               ELSE c.residents * ST_Area(ST_Intersection(c.geom, a.g)) / NULLIF(ST_Area(c.geom), 0) END), 0)::float8 AS residents,
            count(*)::int AS cells
     FROM population_cells c, a WHERE ST_Intersects(c.geom, a.g) AND NOT ST_Touches(c.geom, a.g)`,
  );
  const shelters = await q<{ shelter_class: string; status: string; usable: boolean; n: number; area: number; capacity: number; occupancy: number }>(
    `WITH a AS MATERIALIZED (SELECT ${AREA} AS g)
     SELECT shelter_class, status, usable, count(*)::int AS n, sum(effective_area_m2)::float8 AS area, sum(capacity)::int8 AS capacity, sum(occupancy)::int8 AS occupancy
     FROM shelters, a WHERE deleted_at IS NULL AND ST_Intersects(geom, a.g) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
  );
  const countBy = (table: string, column: string) =>
    q<{ v: string; n: number }>(
      `WITH a AS MATERIALIZED (SELECT ${AREA} AS g) SELECT ${column} AS v, count(*)::int AS n FROM ${table}, a WHERE deleted_at IS NULL AND ST_Intersects(geom, a.g) GROUP BY 1 ORDER BY 1`,
    ).then(
      (rows) => Object.fromEntries(rows.map((r) => [r.v, Number(r.n)])) as Record<string, number>,
    );
  const [riskLevels, floodKinds, geohazardKinds, resourceKinds] = await Promise.all([
    countBy('risk_points', 'level'),
    countBy('flood_points', 'kind'),
    countBy('geohazard_sites', 'kind'),
    countBy('resources', 'kind'),
  ]);
  const units = await q<{ level: string; id: string; name_zh: string; name_en: string }>(
    // units whose interior the area overlaps (a shared boundary alone does not count)
    `WITH a AS MATERIALIZED (SELECT ${AREA} AS g)
     SELECT 'district' AS level, id, name_zh, name_en FROM districts, a WHERE ST_Intersects(geom, a.g) AND NOT ST_Touches(geom, a.g)
     UNION ALL SELECT 'street', id, name_zh, name_en FROM streets, a WHERE ST_Intersects(geom, a.g) AND NOT ST_Touches(geom, a.g)
     UNION ALL SELECT 'community', id, name_zh, name_en FROM communities, a WHERE ST_Intersects(geom, a.g) AND NOT ST_Touches(geom, a.g)
     ORDER BY 1, 2`,
  );
  const hazardLayer = getLayer('hazard_sources');
  const hazardsVisible = hazardLayer !== undefined && canSeeLayer(hazardLayer, who);
  const hazards = hazardsVisible
    ? (
        await q<{ level: string; n: number; major: number }>(
          `WITH a AS MATERIALIZED (SELECT ${AREA} AS g)
           SELECT level, count(*)::int AS n, count(*) FILTER (WHERE major_hazard)::int AS major FROM hazard_sources, a
           WHERE deleted_at IS NULL AND ST_Intersects(geom, a.g) GROUP BY 1 ORDER BY 1`,
        )
      )
    : null;

  const sum = (rows: { n: number }[]) => rows.reduce((s, r) => s + Number(r.n), 0);
  const byKey = <T extends Record<string, unknown>>(rows: T[], key: keyof T, value: (r: T[]) => number) => {
    const out: Record<string, number> = {};
    for (const k of [...new Set(rows.map((r) => String(r[key])))]) out[k] = value(rows.filter((r) => String(r[key]) === k));
    return out;
  };
  const levels = (counts: Record<string, number>) => ({ red: counts.red ?? 0, orange: counts.orange ?? 0, yellow: counts.yellow ?? 0, blue: counts.blue ?? 0 });
  const counted = shelters.filter((r) => statuses.includes(r.status) && (r.usable || includeUnusable));
  const capacity = counted.reduce((s, r) => s + Number(r.capacity), 0);
  const occupancy = counted.reduce((s, r) => s + Number(r.occupancy), 0);
  const residents = Math.round(Number(people.residents));
  const shelterArea = counted.reduce((s, r) => s + Number(r.area), 0);
  return {
    area_m2: Math.round(Number(area.area_m2)),
    residents,
    population_cells: Number(people.cells),
    shelters: {
      total: sum(shelters),
      by_class: byKey(shelters, 'shelter_class', sum),
      by_status: byKey(shelters, 'status', sum),
      statuses_counted: [...statuses],
      unusable: sum(shelters.filter((r) => !r.usable)),
      unusable_counted: includeUnusable,
      counted: sum(counted),
      effective_area_m2: Math.round(shelterArea * 100) / 100,
      area_per_resident_m2: residents > 0 ? Math.round((shelterArea / residents) * 1000) / 1000 : null,
      capacity,
      occupancy,
      free_capacity: Math.max(0, capacity - occupancy),
    },
    risk_points: { total: Object.values(riskLevels).reduce((s, n) => s + n, 0), by_level: levels(riskLevels) },
    flood_points: { total: Object.values(floodKinds).reduce((s, n) => s + n, 0), by_kind: floodKinds },
    geohazard_sites: { total: Object.values(geohazardKinds).reduce((s, n) => s + n, 0), by_kind: geohazardKinds },
    resources: { total: Object.values(resourceKinds).reduce((s, n) => s + n, 0), by_kind: resourceKinds },
    hazard_sources: hazards
      ? { total: sum(hazards), by_level: levels(Object.fromEntries(hazards.map((h) => [h.level, Number(h.n)]))), major_hazard: hazards.reduce((s, h) => s + Number(h.major), 0) }
      : null,
    restricted: hazardsVisible ? [] : ['hazard_sources'],
    units: {
      districts: units.filter((u) => u.level === 'district').map(({ level: _l, ...u }) => u),
      streets: units.filter((u) => u.level === 'street').map(({ level: _l, ...u }) => u),
      communities: units.filter((u) => u.level === 'community').map(({ level: _l, ...u }) => u),
    },
    method: {
      residents: 'population cells inside count whole; cells on the edge by the share of their area inside',
      features: 'points inside or on the boundary; deleted features excluded',
      shelters: 'area, capacity, occupancy and area per resident count only usable shelters of statuses_counted (as coverage does; unusable ones too when include_unusable=true); total, by_class and by_status list all',
    },
  };
}
