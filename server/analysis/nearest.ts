import type { Queryable } from '../db/types.ts';
import { PointGrid } from './point-grid.ts';
import { loadActivePublicHazards } from '../risk/hazards.ts';
import { standingCandidates, unusableZones, type UnusableZone } from '../risk/exposure.ts';
import { DEFAULT_RISK_OPTIONS } from '../risk/options.ts';

/**
 * The n nearest usable shelters of a point, for residents' guidance cards
 * (明白卡), evacuation maps and alert messages. One index over every shelter of
 * every district, built once per data version; a lookup touches a few grid
 * cells, so a whole district's residents can be answered in a batch.
 * Usable: open or standby, and — unless full ones are asked for — with free
 * capacity (capacity − people housed > 0, status not 'full'); and — unless
 * exposed ones are asked for — not inside the unusable zone of an active
 * flood-prone spot or geohazard site (the exposure analysis's distances), so a
 * guidance card never sends residents into a flood or landslide zone; and —
 * unless unusable ones are asked for — not stored as unusable (usability.ts).
 */
export interface NearestShelterRow {
  id: number;
  name_zh: string;
  name_en: string | null;
  district_id: string;
  shelter_class: string;
  setting: string;
  status: string;
  lon: number;
  lat: number;
  capacity: number;
  occupancy: number;
  address: string | null;
  contact_phone: string | null;
  usable: boolean;
}

export interface NearestIndex {
  shelters: NearestShelterRow[];
  grid: PointGrid;
  /** Per shelter: usable when full ones are excluded / included. */
  withRoom: Uint8Array;
  anyRoom: Uint8Array;
  districtOf: string[];
  /** Per shelter id: the hazard zone it lies in, if any. */
  exposed: Map<number, UnusableZone>;
  /** Per shelter: 1 when inside a hazard zone. */
  exposedFlag: Uint8Array;
  /** Per shelter: 1 when stored as unusable (hazard zone, scenario, editor's flag). */
  unusableFlag: Uint8Array;
}

const GUIDANCE_STATUSES = ['open', 'standby'];

export async function loadNearestIndex(db: Queryable): Promise<NearestIndex> {
  const r = await db.query<Record<string, unknown>>(
    `SELECT id::int8 AS id, name_zh, name_en, district_id, shelter_class, setting, status, ST_X(geom) AS lon, ST_Y(geom) AS lat,
       capacity, occupancy, address, contact_phone, usable
     FROM shelters WHERE deleted_at IS NULL ORDER BY id`,
  );
  const shelters = r.rows.map(
    (row): NearestShelterRow => ({
      id: Number(row.id),
      name_zh: String(row.name_zh),
      name_en: (row.name_en as string | null) ?? null,
      district_id: String(row.district_id),
      shelter_class: String(row.shelter_class),
      setting: String(row.setting),
      status: String(row.status),
      lon: Number(row.lon),
      lat: Number(row.lat),
      capacity: Number(row.capacity),
      occupancy: Number(row.occupancy),
      address: (row.address as string | null) ?? null,
      contact_phone: (row.contact_phone as string | null) ?? null,
      usable: row.usable !== false,
    }),
  );
  // public hazards only: the index is shared by every caller, and what it answers must not move with restricted data
  const exposed = unusableZones(shelters, standingCandidates(await loadActivePublicHazards(db), DEFAULT_RISK_OPTIONS));
  return {
    shelters,
    exposed,
    exposedFlag: Uint8Array.from(shelters, (s) => (exposed.has(s.id) ? 1 : 0)),
    unusableFlag: Uint8Array.from(shelters, (s) => (s.usable ? 0 : 1)),
    grid: new PointGrid(
      shelters.map((s) => s.lon),
      shelters.map((s) => s.lat),
    ),
    withRoom: Uint8Array.from(shelters, (s) => (GUIDANCE_STATUSES.includes(s.status) && s.capacity - s.occupancy > 0 ? 1 : 0)),
    anyRoom: Uint8Array.from(shelters, (s) => (GUIDANCE_STATUSES.includes(s.status) || s.status === 'full' ? 1 : 0)),
    districtOf: shelters.map((s) => s.district_id),
  };
}

export interface NearestOptions {
  n: number;
  district?: string;
  includeFull: boolean;
  includeExposed: boolean;
  includeUnusable?: boolean;
  maxDistanceM?: number;
}

/** A reusable lookup: the returned function writes into its own buffers (no allocation per call). */
export function nearestLookup(index: NearestIndex, opts: NearestOptions) {
  const ids = new Int32Array(opts.n);
  const dist = new Float64Array(opts.n);
  const byStatus = opts.includeFull ? index.anyRoom : index.withRoom;
  const usable = byStatus.map((u, i) => ((!opts.includeExposed && index.exposedFlag[i]) || (!opts.includeUnusable && index.unusableFlag[i]) ? 0 : u));
  const accept = opts.district ? (i: number) => usable[i] === 1 && index.districtOf[i] === opts.district : (i: number) => usable[i] === 1;
  return (lon: number, lat: number): { count: number; index: Int32Array; distance: Float64Array } => {
    const count = index.grid.nearest(lon, lat, opts.n, ids, dist, accept, opts.maxDistanceM ?? Infinity);
    return { count, index: ids, distance: dist };
  };
}

/** Statuses a guidance answer may point to (full ones only when asked). */
export function guidanceStatuses(includeFull: boolean): string[] {
  return includeFull ? [...GUIDANCE_STATUSES, 'full'] : GUIDANCE_STATUSES;
}
