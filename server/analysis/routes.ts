import { Router, type Request } from 'express';
import type { AppContext } from '../context.ts';
import { baseUrl } from '../http/base-url.ts';
import { areaSummaryQuery, coverageQuery, gapsQuery, nearestBatchBody, nearestQuery, parseQuery, resourceCoverageQuery, sitingQuery } from './params.ts';
import { parseInput } from '../http/validate.ts';
import { areaSummary, checkArea, parseAreaBody } from './area-summary.ts';
import { geometryLimits } from '../geo/geometry-input.ts';
import { principalOf } from '../http/principal.ts';
import { cacheKey } from './cache.ts';
import { loadUnitGeometries } from './snapshot.ts';
import { readerOf } from '../db/types.ts';
import { requestDb, scopedDb } from '../db/scoped.ts';
import { scopeOf } from '../http/request-scope.ts';

const GEOJSON = 'application/geo+json';

/** Routes under /analysis (shelter coverage and capacity). */
export function analysisRoutes(ctx: AppContext): Router {
  const router = Router();
  const { coverage, siting, nearest, resources, models, options } = ctx.analysis;
  // Analyses only read: from the replica when there is one (server/db/replica.ts).
  const reads = readerOf(ctx.db);
  const base = (req: Request) => baseUrl(req, ctx.config.PUBLIC_URL);
  /** The request's own URL with `f` replaced (absolute, for links). */
  const selfWith = (req: Request, path: string, f?: string) => {
    const u = new URL(`${base(req)}${path}`);
    for (const [k, v] of Object.entries(req.query)) if (k !== 'f' && typeof v === 'string') u.searchParams.set(k, v);
    if (f) u.searchParams.set('f', f);
    return u.toString();
  };
  /** `self` in the format answered and `alternate` in the other one. */
  const formatLinks = (req: Request, path: string, f: 'json' | 'geojson') => {
    const other = f === 'json' ? 'geojson' : 'json';
    const type = (format: string) => (format === 'json' ? 'application/json' : GEOJSON);
    return [
      { rel: 'self', type: type(f), href: selfWith(req, path, f) },
      { rel: 'alternate', type: type(other), href: selfWith(req, path, other) },
    ];
  };

  /** The gaps of the same coverage question: the shelter parameters carried over. */
  const gapsLink = (req: Request) => {
    const u = new URL(`${base(req)}/analysis/coverage/gaps`);
    const gapParams = Object.keys(gapsQuery.shape).filter((k) => k !== 'f' && k !== 'limit');
    for (const [k, v] of Object.entries(req.query)) if (gapParams.includes(k) && typeof v === 'string') u.searchParams.set(k, v);
    u.searchParams.set('f', 'geojson');
    return u.toString();
  };

  router.get('/analysis/coverage', async (req, res) => {
    const q = parseQuery(coverageQuery, req.query);
    const body = await coverage.coverage(q, scopeOf(req));
    const links = [
      ...formatLinks(req, '/analysis/coverage', q.f),
      { rel: 'related', title: 'coverage gaps', type: GEOJSON, href: gapsLink(req) },
    ];
    if (q.f === 'json') {
      res.json({ ...body, links });
      return;
    }
    const geometries = await loadUnitGeometries(requestDb(reads, req), q.district, q.unit);
    res.type(GEOJSON).json({
      type: 'FeatureCollection',
      features: body.units.map(({ id, ...properties }) => ({ type: 'Feature', id, geometry: geometries.get(id) ?? null, properties })),
      district: body.district,
      unit: body.unit,
      parameters: body.parameters,
      total: body.total,
      links,
    });
  });

  router.get('/analysis/coverage/gaps', async (req, res) => {
    const q = parseQuery(gapsQuery, req.query);
    const body = await coverage.gaps(q, scopeOf(req));
    const links = formatLinks(req, '/analysis/coverage/gaps', q.f);
    if (q.f === 'json') {
      res.json({ ...body, links });
      return;
    }
    res.type(GEOJSON).json({
      type: 'FeatureCollection',
      features: body.gaps.map(({ geometry, ...properties }) => ({
        type: 'Feature',
        id: `${body.district.id}-${properties.rank}`,
        geometry,
        properties: { district_id: body.district.id, ...properties },
      })),
      district: body.district,
      parameters: body.parameters,
      uncovered_residents: body.uncovered_residents,
      links,
    });
  });

  router.get('/analysis/siting', async (req, res) => {
    const q = parseQuery(sitingQuery, req.query);
    const body = await siting.siting(q, principalOf(req), scopeOf(req));
    const links = formatLinks(req, '/analysis/siting', q.f);
    if (q.f === 'json') {
      res.json({ ...body, links });
      return;
    }
    res.type(GEOJSON).json({
      type: 'FeatureCollection',
      features: body.sites.map(({ lon, lat, ...properties }) => ({
        type: 'Feature',
        id: properties.rank,
        geometry: { type: 'Point', coordinates: [lon, lat] },
        properties: { ...properties, candidate_source: properties.candidate.source, candidate_id: properties.candidate.id, candidate: undefined },
      })),
      district: body.district,
      parameters: body.parameters,
      baseline: body.baseline,
      ...('skipped_sites' in body ? { skipped_sites: body.skipped_sites } : {}),
      exact: body.exact,
      links,
    });
  });

  router.get('/analysis/nearest-shelters', async (req, res) => {
    const q = parseQuery(nearestQuery, req.query);
    const body = await nearest.nearest(q, principalOf(req), scopeOf(req));
    if (q.f === 'json') {
      res.json(body);
      return;
    }
    res.type(GEOJSON).json({
      type: 'FeatureCollection',
      features: body.shelters.map(({ lon, lat, ...properties }) => ({ type: 'Feature', id: properties.id, geometry: { type: 'Point', coordinates: [lon, lat] }, properties })),
      query: body.query,
      parameters: body.parameters,
    });
  });

  router.post('/analysis/nearest-shelters', async (req, res) => {
    const body = parseInput(nearestBatchBody, req.body ?? {}, 'body');
    res.json(await nearest.nearestBatch(body, scopeOf(req)));
  });

  router.get('/analysis/resource-coverage', async (req, res) => {
    const q = parseQuery(resourceCoverageQuery, req.query);
    res.json(await resources.resourceCoverage(q, principalOf(req), scopeOf(req)));
  });

  router.post('/analysis/area-summary', async (req, res) => {
    const q = parseQuery(areaSummaryQuery, req.query);
    const body = parseAreaBody(req.body);
    const scope = scopeOf(req);
    const geojson = await checkArea(requestDb(reads, req), body, options.areaSummaryMaxKm2, geometryLimits(ctx.config));
    const who = principalOf(req);
    const version = await models.dataVersion(scope);
    const statuses = q.shelter_status ?? options.shelterStatuses;
    const includeUnusable = q.include_unusable;
    const summary = await models.cache.get(cacheKey('area-summary', { geojson, version, statuses, includeUnusable, restricted: who.canSeeRestricted }), scope, (shared) =>
      areaSummary(scopedDb(reads, shared), geojson, who, statuses, includeUnusable),
    );
    res.json({ ...summary, parameters: { max_area_km2: options.areaSummaryMaxKm2, data_version: version } });
  });

  return router;
}
