import type { MultiPolygon } from 'geojson';
import { booleanPointInPolygon } from '@turf/turf';
import type { StatementScope } from '../db/types.ts';
import { badRequest } from '../http/problem.ts';
import { getLayer, LAYERS } from '../../catalog/layers.ts';
import { canSeeLayer, type Principal } from '../../catalog/access.ts';
import { cacheKey } from './cache.ts';
import { metresPerDegree } from './geodesy.ts';
import { cellCandidates, gridCandidates, type Candidate } from './siting.ts';
import { districtHasSites, siteAreaCheck, siteCandidates, type SkippedSite } from './candidate-sites.ts';
import { describeSettings, type SitingQuery } from './params.ts';
import { packCells } from './packed-cells.ts';
import { workerPool } from '../work/shared.ts';
import type { DistrictModels, LoadedDistrict } from './district-models.ts';

/**
 * GET /analysis/siting: where k new shelters would serve the most residents
 * left out by the coverage model (greedy maximal covering, or capacity-aware),
 * choosing among candidate sites, a grid, the populated cells or a point layer.
 */
export class SitingService {
  constructor(private readonly models: DistrictModels) {}

  /** The district outline and its bounding box (grid candidates are kept inside it). */
  private districtShape(districtId: string, version: number, scope: StatementScope | undefined) {
    const { models } = this;
    return models.models.get(cacheKey('district-shape', { districtId, version }), scope, async (shared) => {
      const r = await models.reader(shared).query<{ g: string; x0: number; y0: number; x1: number; y1: number }>(
        'SELECT ST_AsGeoJSON(geom) AS g, ST_XMin(geom) AS x0, ST_YMin(geom) AS y0, ST_XMax(geom) AS x1, ST_YMax(geom) AS y1 FROM districts WHERE id = $1',
        [districtId],
      );
      const row = r.rows[0];
      return { geometry: JSON.parse(row.g) as MultiPolygon, bbox: [row.x0, row.y0, row.x1, row.y1].map(Number) as [number, number, number, number] };
    });
  }

  /** Candidates: the district's candidate sites, a grid over the district, the populated cells, or the features of a point layer. */
  private async candidates(
    q: SitingQuery & { candidates: string },
    loaded: LoadedDistrict,
    version: number,
    who: Principal,
    scope: StatementScope | undefined,
  ): Promise<{ list: Candidate[]; spacing: number | null; skipped?: SkippedSite[] }> {
    const { models } = this;
    if (q.candidates === 'sites' || q.candidates === 'candidate_sites') {
      return { ...(await siteCandidates(models.reader(scope), q.district, q.class, models.options.sitingMinSiteAreaM2[q.class])), spacing: null };
    }
    if (q.candidates === 'cells') return { list: cellCandidates(loaded.snapshot.cells), spacing: null };
    if (q.candidates === 'grid') {
      const shape = await this.districtShape(q.district, version, scope);
      const [x0, y0, x1, y1] = shape.bbox;
      const { kx, ky } = metresPerDegree((y0 + y1) / 2);
      let spacing = q.spacing ?? models.options.sitingGridSpacingM;
      const inBox = ((x1 - x0) * kx * (y1 - y0) * ky) / (spacing * spacing);
      if (inBox > models.options.sitingMaxCandidates) spacing = Math.ceil(spacing * Math.sqrt(inBox / models.options.sitingMaxCandidates));
      const list = gridCandidates(shape.bbox, spacing, kx, ky).filter((c) => booleanPointInPolygon([c.lon, c.lat], shape.geometry));
      return { list, spacing };
    }
    const layer = getLayer(q.candidates);
    if (!layer || layer.table === null || layer.geometry !== 'point' || !canSeeLayer(layer, who)) {
      const layers = LAYERS.filter((l) => l.table && l.geometry === 'point' && canSeeLayer(l, who)).map((l) => l.id);
      throw badRequest('candidates', `sites, grid, cells or a point layer: ${layers.join(', ')}`);
    }
    // the table name comes from the registry, never from the request
    const r = await models.reader(scope).query<{ id: number; lon: number; lat: number }>(
      `SELECT id::int8 AS id, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM ${layer.table} WHERE district_id = $1 AND deleted_at IS NULL ORDER BY id`,
      [q.district],
    );
    return { list: r.rows.map((row) => ({ lon: Number(row.lon), lat: Number(row.lat), source: layer.id, id: Number(row.id) })), spacing: null };
  }

  /** GET /analysis/siting: greedy maximal covering of k new shelters; `scope`: the asking request's. */
  async siting(query: SitingQuery, who: Principal, scope: StatementScope | undefined) {
    const { models } = this;
    const settings = await models.settings(query, scope);
    const version = await models.dataVersion(scope);
    const radius = settings.radii[query.class];
    // Default candidates: the district's candidate sites when it has any, else the grid.
    const candidatesDefault = query.candidates === undefined;
    const q = { ...query, candidates: query.candidates ?? ((await districtHasSites(models.reader(scope), query.district)) ? 'sites' : 'grid') };
    return models.cache.get(cacheKey('siting', { q, settings, version, restricted: who.canSeeRestricted }), scope, async (shared) => {
      const { loaded, analysis } = await models.analysis(q.district, settings, models.options.decay, version, shared);
      const { cells } = loaded.snapshot;
      const { list, spacing, skipped } = await this.candidates(q, loaded, version, who, shared);
      const areaM2 = q.area_m2 ?? models.options.sitingNewShelterAreaM2;
      const m2PerPerson = settings.capacityBasis === 'area' ? settings.m2PerPerson : settings.m2ByClass[q.class];
      const capacityFor = (area: number) => Math.floor(area / m2PerPerson + 1e-9);
      const newCapacity = capacityFor(areaM2);
      // A candidate site holds what its own area holds; other candidates (and sites of unknown area) the default area's.
      const siteCapacity = list.some((c) => c.site?.area_m2 != null) ? Float64Array.from(list, (c) => capacityFor(c.site?.area_m2 ?? areaM2)) : null;
      const minSite = models.options.sitingMinSiteAreaM2[q.class];
      const residents = cells.reduce((s, c) => s + c.residents, 0);
      const demand = Float64Array.from(cells, (c, i) =>
        q.capacity_aware ? c.residents - analysis.allocation.sheltered[i] : analysis.covered[i] ? 0 : c.residents,
      );
      const baseServed = residents - demand.reduce((s, d) => s + d, 0);
      // shared by identical concurrent requests through the cache: stopped when the last of their clients has left
      const result = await workerPool().run(
        'siting',
        { cells: packCells(cells), candidates: list, radiusM: radius, demand, k: q.k, capacity: q.capacity_aware ? (siteCapacity ?? newCapacity) : null, exactMaxSubsets: models.options.sitingExactMaxSubsets },
        shared?.signal,
      );
      let running = baseServed;
      const served = q.capacity_aware ? 'sheltered' : 'covered';
      const sites = result.picks.map((pick, r) => {
        running += pick.gain;
        const c = list[pick.candidate];
        return {
          rank: r + 1,
          lon: Math.round(c.lon * 1e6) / 1e6,
          lat: Math.round(c.lat * 1e6) / 1e6,
          candidate: { source: c.source, id: c.id },
          ...(c.site ? { site: siteAreaCheck(c, q.class, minSite) } : {}),
          ...(q.capacity_aware && siteCapacity ? { capacity: siteCapacity[pick.candidate] } : {}),
          [`newly_${served}_residents`]: pick.gain,
          [`${served}_residents_total`]: running,
          [`${served}_pct`]: residents > 0 ? round2((100 * running) / residents) : null,
        };
      });
      const exact = result.exact;
      const greedyValue = result.picks.reduce((s, p) => s + p.gain, 0);
      const { snapshot } = loaded;
      return {
        district: { id: snapshot.district.id, name_zh: snapshot.district.name_zh, name_en: snapshot.district.name_en },
        parameters: {
          ...describeSettings(settings),
          k: q.k,
          class: q.class,
          radius_m: radius,
          candidates: {
            source: q.candidates,
            ...(candidatesDefault ? { chosen_by: q.candidates === 'sites' ? 'default: the district has candidate sites' : 'default: the district has no candidate sites, so a grid' } : {}),
            count: list.length,
            ...(spacing !== null ? { spacing_m: spacing } : {}),
            ...(skipped ? { skipped: skipped.length, min_site_area_m2: minSite } : {}),
          },
          capacity_aware: q.capacity_aware,
          ...(q.capacity_aware ? { new_shelter_area_m2: areaM2, new_shelter_capacity: newCapacity } : {}),
          data_version: version,
        },
        method: q.capacity_aware
          ? 'greedy, capacity-aware: each site takes the candidate giving a place to the most residents left unsheltered by the allocation, up to its capacity, nearest first'
          : 'greedy maximal covering: each site takes the candidate covering the most residents outside every service radius (within 1 − 1/e of the optimum)',
        baseline: { residents, [`${served}_residents`]: baseServed, [`${served}_pct`]: residents > 0 ? round2((100 * baseServed) / residents) : null },
        sites,
        ...(skipped ? { skipped_sites: skipped } : {}),
        stopped_early: result.stoppedEarly ? 'no candidate serves anyone still unserved' : null,
        exact: exact
          ? { optimum: exact.optimum, greedy: greedyValue, ratio: exact.optimum > 0 ? Math.round((greedyValue / exact.optimum) * 10000) / 10000 : 1, subsets: exact.subsets }
          : null,
      };
    });
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100;
