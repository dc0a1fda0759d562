import type { StatementScope } from '../db/types.ts';
import { loadDistrictInfo } from './snapshot.ts';
import { cacheKey } from './cache.ts';
import type { NearestBatchBody, NearestQuery } from './params.ts';
import type { Principal } from '../../catalog/access.ts';
import { guidanceStatuses, loadNearestIndex, nearestLookup, type NearestIndex } from './nearest.ts';
import { workerPool } from '../work/shared.ts';
import type { DistrictModels } from './district-models.ts';

/**
 * GET and POST /analysis/nearest-shelters: the nearest usable shelters of a
 * point (or of many points) with distance, walking time and free capacity,
 * from one index of every shelter per data version.
 */
export class NearestService {
  constructor(private readonly models: DistrictModels) {}

  /** The index of every shelter for nearest-shelter lookups at data version `version`, loaded once for every request that asks. */
  nearestIndex(version: number, scope: StatementScope | undefined): Promise<NearestIndex> {
    const { models } = this;
    return models.models.get(cacheKey('nearest-index', { v: version }), scope, (shared) => loadNearestIndex(models.reader(shared)));
  }

  private async nearestSetup(
    q: { district?: string; include_full: boolean; include_exposed: boolean; include_unusable: boolean; max_distance?: number; speed?: number; n: number },
    scope: StatementScope | undefined,
  ) {
    const { models } = this;
    if (q.district) await loadDistrictInfo(models.reader(scope), q.district); // 404 for an unknown district
    const version = await models.dataVersion(scope);
    const index = await this.nearestIndex(version, scope);
    const speed = q.speed ?? models.options.walkingSpeedMPerMin;
    const lookup = nearestLookup(index, { n: q.n, district: q.district, includeFull: q.include_full, includeExposed: q.include_exposed, includeUnusable: q.include_unusable, maxDistanceM: q.max_distance });
    const parameters = {
      n: q.n,
      district: q.district ?? null,
      shelter_status: guidanceStatuses(q.include_full),
      include_full: q.include_full,
      include_exposed: q.include_exposed,
      include_unusable: q.include_unusable,
      hazard_zones: 'shelters within the unusable distance of an active flood-prone spot or geohazard site are left out unless include_exposed=true',
      max_distance_m: q.max_distance ?? null,
      walking_speed_m_per_min: speed,
      distance: 'straight line, metres on the WGS84 ellipsoid; walking routes are longer',
      data_version: version,
    };
    return { index, speed, lookup, parameters };
  }

  /** GET /analysis/nearest-shelters: the n nearest usable shelters with distance, walking time and free capacity; `scope`: the asking request's. */
  async nearest(q: NearestQuery, who: Principal, scope: StatementScope | undefined) {
    const { index, speed, lookup, parameters } = await this.nearestSetup(q, scope);
    const found = lookup(q.lon, q.lat);
    const shelters = [];
    for (let r = 0; r < found.count; r++) {
      const s = index.shelters[found.index[r]];
      const d = found.distance[r];
      shelters.push({
        rank: r + 1,
        id: s.id,
        name_zh: s.name_zh,
        name_en: s.name_en,
        district_id: s.district_id,
        shelter_class: s.shelter_class,
        setting: s.setting,
        status: s.status,
        lon: s.lon,
        lat: s.lat,
        address: s.address,
        ...(who.canSeeRestricted ? { contact_phone: s.contact_phone } : {}),
        distance_m: Math.round(d * 10) / 10,
        walking_minutes: Math.round((d / speed) * 10) / 10,
        capacity: s.capacity,
        occupancy: s.occupancy,
        free_capacity: Math.max(0, s.capacity - s.occupancy),
        ...(q.include_exposed ? { hazard_zone: index.exposed.get(s.id) ?? null } : {}),
        ...(q.include_unusable ? { usable: s.usable } : {}),
      });
    }
    return { query: { lon: q.lon, lat: q.lat }, parameters, shelters };
  }

  /** POST /analysis/nearest-shelters: the same for many points at once (guidance cards for a whole community). */
  async nearestBatch(body: NearestBatchBody, scope: StatementScope | undefined) {
    const { index, speed, lookup, parameters } = await this.nearestSetup(body, scope);
    // Big batches are looked up on a worker (dropped when the client leaves); small ones here.
    const found = body.points.length > NEAREST_BATCH_ON_WORKER
      ? await workerPool().run('nearestBatch', {
          shelters: index.shelters.map(({ lon, lat, district_id }) => ({ lon, lat, district_id })),
          withRoom: index.withRoom,
          anyRoom: index.anyRoom,
          exposedFlag: index.exposedFlag,
          unusableFlag: index.unusableFlag,
          options: { n: body.n, district: body.district, includeFull: body.include_full, includeExposed: body.include_exposed, includeUnusable: body.include_unusable, maxDistanceM: body.max_distance },
          points: body.points,
        }, scope?.signal)
      : body.points.map(([lon, lat]) => {
          const f = lookup(lon, lat);
          return { index: f.index.slice(0, f.count), distance: f.distance.slice(0, f.count) };
        });
    const results = body.points.map(([lon, lat], p) => {
      const f = found[p];
      const found1 = { count: f.index.length, index: f.index, distance: f.distance };
      const shelters = [];
      for (let r = 0; r < found1.count; r++) {
        const s = index.shelters[found1.index[r]];
        const d = found1.distance[r];
        shelters.push({
          id: s.id,
          distance_m: Math.round(d * 10) / 10,
          walking_minutes: Math.round((d / speed) * 10) / 10,
          free_capacity: Math.max(0, s.capacity - s.occupancy),
          ...(body.include_exposed ? { hazard_zone: index.exposed.get(s.id) ?? null } : {}),
        });
      }
      return { point: [lon, lat], shelters };
    });
    return { parameters, results };
  }
}

/** Nearest-shelter batches above this many points go to a worker thread. */
const NEAREST_BATCH_ON_WORKER = 500;
