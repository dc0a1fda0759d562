import type { StatementScope } from '../db/types.ts';
import { badRequest } from '../http/problem.ts';
import { getLayer, LAYERS } from '../../catalog/layers.ts';
import { canSeeLayer, type Principal } from '../../catalog/access.ts';
import { cacheKey } from './cache.ts';
import { MAX_RADIUS_M } from './options.ts';
import type { ResourceCoverageQuery } from './params.ts';
import { resourceCoverage } from './resource-coverage.ts';
import { loadDistrictInfo } from './snapshot.ts';
import type { DistrictModels } from './district-models.ts';

/**
 * GET /analysis/resource-coverage: residents within reach of the features of a
 * point layer (fire stations, medical points, …), per street or community.
 */
export class ResourceCoverageService {
  constructor(private readonly models: DistrictModels) {}

  /** GET /analysis/resource-coverage: residents within reach of a point layer (e.g. fire stations); `scope`: the asking request's. */
  async resourceCoverage(q: ResourceCoverageQuery, who: Principal, scope: StatementScope | undefined) {
    const { models } = this;
    const layer = getLayer(q.layer);
    if (!layer || layer.table === null || layer.geometry !== 'point' || !canSeeLayer(layer, who)) {
      const layers = LAYERS.filter((l) => l.table && l.geometry === 'point' && canSeeLayer(l, who)).map((l) => l.id);
      throw badRequest('layer', `a point layer: ${layers.join(', ')}`);
    }
    const kindProp = layer.properties.find((p) => p.name === 'kind');
    if (q.kind !== undefined && !kindProp?.enum?.includes(q.kind)) {
      throw badRequest('kind', kindProp?.enum ? `one of ${kindProp.enum.join(', ')}` : `the layer ${layer.id} has no kinds`);
    }
    if (q.radius === undefined && q.minutes === undefined) throw badRequest('radius', 'give radius (metres) or minutes (at speed)');
    if (q.radius !== undefined && q.minutes !== undefined) throw badRequest('minutes', 'give radius or minutes, not both');
    const speed = q.speed ?? models.options.vehicleSpeedMPerMin;
    const radius = q.radius ?? q.minutes! * speed;
    if (radius > MAX_RADIUS_M) throw badRequest('minutes', `gives ${radius} m; at most ${MAX_RADIUS_M} m`);
    const info = await loadDistrictInfo(models.reader(scope), q.district);
    const version = await models.dataVersion(scope);
    return models.cache.get(cacheKey('resource-coverage', { q, version }), scope, async (shared) => {
      const loaded = await models.district(q.district, version, shared);
      const { cells, streets, communities } = loaded.snapshot;
      // table and column names come from the registry, never from the request
      const r = await models.reader(shared).query<{ id: number; lon: number; lat: number; street_id: string | null; community_id: string | null }>(
        `SELECT f.id::int8 AS id, ST_X(f.geom) AS lon, ST_Y(f.geom) AS lat, f.street_id,
           (SELECT m.id FROM communities m WHERE m.district_id = $1 AND ST_Covers(m.geom, f.geom) ORDER BY m.id LIMIT 1) AS community_id
         FROM ${layer.table} f WHERE f.district_id = $1 AND f.deleted_at IS NULL ${q.kind ? 'AND f.kind = $2' : ''} ORDER BY f.id`,
        q.kind ? [q.district, q.kind] : [q.district],
      );
      const points = r.rows.map((p) => ({ id: Number(p.id), lon: Number(p.lon), lat: Number(p.lat), streetId: p.street_id, communityId: p.community_id }));
      const covered = resourceCoverage(cells, loaded.grid, points, radius);
      const units = q.unit === 'street' ? streets : communities;
      const key = q.unit === 'street' ? ('streetId' as const) : ('communityId' as const);
      const tallies = new Map(units.map((u) => [u.id, { residents: 0, covered: 0, resources: 0 }]));
      const total = { residents: 0, covered: 0, resources: points.length };
      cells.forEach((c, i) => {
        const t = c[key] ? tallies.get(c[key]!) : undefined;
        for (const x of t ? [t, total] : [total]) {
          x.residents += c.residents;
          if (covered[i]) x.covered += c.residents;
        }
      });
      for (const p of points) {
        const t = p[key] ? tallies.get(p[key]!) : undefined;
        if (t) t.resources++;
      }
      const line = (t: { residents: number; covered: number; resources: number }) => ({
        residents: t.residents,
        covered_residents: t.covered,
        uncovered_residents: t.residents - t.covered,
        covered_pct: t.residents > 0 ? round2((100 * t.covered) / t.residents) : null,
        resources: t.resources,
        residents_per_resource: t.resources > 0 ? Math.round(t.residents / t.resources) : null,
      });
      const target = q.target_residents_per_resource;
      return {
        district: { id: info.id, name_zh: info.name_zh, name_en: info.name_en },
        unit: q.unit,
        parameters: {
          layer: layer.id,
          kind: q.kind ?? null,
          radius_m: radius,
          radius_source: q.radius !== undefined ? 'radius' : 'minutes × speed',
          ...(q.minutes !== undefined ? { minutes: q.minutes, speed_m_per_min: speed } : {}),
          target_residents_per_resource: target ?? null,
          distance: 'straight line, metres on the WGS84 ellipsoid; travel on roads is longer',
          data_version: version,
        },
        total: {
          ...line(total),
          ...(target ? { meets_target: total.resources * target >= total.residents, resources_needed: Math.ceil(total.residents / target), resources_short: Math.max(0, Math.ceil(total.residents / target) - total.resources) } : {}),
        },
        units: units.map((u) => ({ id: u.id, name_zh: u.name_zh, name_en: u.name_en, ...line(tallies.get(u.id)!) })),
      };
    });
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100;
