import { readerOf, type Db } from '../db/types.ts';
import type { ChangeBus } from '../changes.ts';
import { AnalysisCache, cacheKey } from './cache.ts';
import { coverageTable, shelterLines, type CoverageAnalysis, type UnitLevel } from './coverage.ts';
import { dissolveGaps, type CoverageGap } from './gaps.ts';
import type { DistrictSnapshot } from './model.ts';
import { analysisOptions, type AnalysisOptions } from './options.ts';
import { describeSettings, resolveShelterSettings, type CoverageQuery, type GapsQuery, type ShelterSettings } from './params.ts';
import type { PointGrid } from './point-grid.ts';
import { cellGrid } from './reach.ts';
import { loadDistrictInfo, loadDistrictSnapshot, readDataVersion } from './snapshot.ts';
import { packCells } from './packed-cells.ts';
import type { Decay } from './catchment.ts';
import type { MultiPolygon } from 'geojson';
import { booleanPointInPolygon } from '@turf/turf';
import { badRequest } from '../http/problem.ts';
import { getLayer, LAYERS } from '../../catalog/layers.ts';
import { canSeeLayer, type Principal } from '../../catalog/access.ts';
import { metresPerDegree } from './geodesy.ts';
import { cellCandidates, gridCandidates, type Candidate } from './siting.ts';
import { districtHasSites, siteAreaCheck, siteCandidates, type SkippedSite } from './candidate-sites.ts';
import type { NearestBatchBody, NearestQuery, ResourceCoverageQuery, SitingQuery } from './params.ts';
import { resourceCoverage } from './resource-coverage.ts';
import { MAX_RADIUS_M } from './options.ts';
import { guidanceStatuses, loadNearestIndex, nearestLookup, type NearestIndex } from './nearest.ts';
import { workerPool } from '../work/shared.ts';

/** A district's data and the spatial index over its cells, shared by every analysis of one data version. */
export interface LoadedDistrict {
  snapshot: DistrictSnapshot;
  grid: PointGrid;
}

type ShelterQuery = Omit<GapsQuery, 'limit' | 'f'>;

/**
 * The analyses of one database: loads district snapshots, runs the pure
 * computations and caches both per data version. Routes and the tile engine
 * (coverageGapFeatures) share one instance per database.
 */
export class ShelterAnalysis {
  /** Answers (small JSON), many entries. */
  readonly cache: AnalysisCache;
  /** Loaded districts, analyses and indexes (megabytes each for a big district), few entries. */
  readonly models: AnalysisCache;

  constructor(
    readonly db: Db,
    readonly options: AnalysisOptions = analysisOptions(),
  ) {
    this.cache = new AnalysisCache(options.cacheEntries);
    this.models = new AnalysisCache(options.modelCacheEntries);
  }

  /** Drops cached results when an edit commits. */
  invalidateOn(changes: ChangeBus): () => void {
    const offAnswers = this.cache.invalidateOn(changes);
    const offModels = this.models.invalidateOn(changes);
    return () => {
      offAnswers();
      offModels();
    };
  }

  dataVersion(): Promise<number> {
    return readDataVersion(this.db);
  }

  async district(districtId: string, version?: number): Promise<LoadedDistrict> {
    const v = version ?? (await this.dataVersion());
    return this.models.get(cacheKey('snapshot', { districtId, v }), async () => {
      const snapshot = await loadDistrictSnapshot(this.db, districtId, v);
      return { snapshot, grid: cellGrid(snapshot.cells) };
    });
  }

  /** Settings for a request; unknown districts are a 404 before anything is loaded. */
  async settings(q: ShelterQuery): Promise<ShelterSettings> {
    const info = await loadDistrictInfo(this.db, q.district);
    return resolveShelterSettings(q, info, this.options);
  }

  async analysis(districtId: string, settings: ShelterSettings, decay: Decay, version: number): Promise<{ loaded: LoadedDistrict; analysis: CoverageAnalysis }> {
    return this.models.get(cacheKey('coverage-analysis', { districtId, settings, decay, version }), async () => {
      const loaded = await this.district(districtId, version);
      const { cells, shelters } = loaded.snapshot;
      // CPU-heavy for big radii: on a worker, so the event loop keeps serving (server/work/pool.ts)
      return { loaded, analysis: await workerPool().run('coverageAnalysis', { cells: packCells(cells), shelters, settings, decay }, undefined) };
    });
  }

  /** GET /analysis/coverage as JSON (routes add links and the GeoJSON form). */
  async coverage(q: CoverageQuery) {
    const settings = await this.settings(q);
    const version = await this.dataVersion();
    const decay: Decay = q.decay ?? this.options.decay;
    return this.cache.get(cacheKey('coverage', { q, settings, version }), async () => {
      const { loaded, analysis } = await this.analysis(q.district, settings, decay, version);
      const { snapshot } = loaded;
      const table = coverageTable(snapshot, analysis, q.unit as UnitLevel, settings.targetM2);
      return {
        district: { id: snapshot.district.id, name_zh: snapshot.district.name_zh, name_en: snapshot.district.name_en },
        unit: q.unit,
        parameters: {
          ...describeSettings(settings),
          decay,
          shelters_counted: analysis.model.usable.length,
          shelters_not_counted: snapshot.shelters.length - analysis.model.usable.length,
          data_version: version,
        },
        method: METHOD,
        allocation_note: ALLOCATION_NOTE[analysis.allocation.method],
        total: table.total,
        units: table.units,
        unassigned_residents: table.unassigned_residents,
        ...(q.shelters ? { shelters: shelterLines(analysis, snapshot.cells) } : {}),
      };
    });
  }

  /** The district outline and its bounding box (grid candidates are kept inside it). */
  private districtShape(districtId: string, version: number) {
    return this.models.get(cacheKey('district-shape', { districtId, version }), async () => {
      const r = await this.db.query<{ g: string; x0: number; y0: number; x1: number; y1: number }>(
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
  ): Promise<{ list: Candidate[]; spacing: number | null; skipped?: SkippedSite[] }> {
    if (q.candidates === 'sites' || q.candidates === 'candidate_sites') {
      return { ...(await siteCandidates(this.db, q.district, q.class, this.options.sitingMinSiteAreaM2[q.class])), spacing: null };
    }
    if (q.candidates === 'cells') return { list: cellCandidates(loaded.snapshot.cells), spacing: null };
    if (q.candidates === 'grid') {
      const shape = await this.districtShape(q.district, version);
      const [x0, y0, x1, y1] = shape.bbox;
      const { kx, ky } = metresPerDegree((y0 + y1) / 2);
      let spacing = q.spacing ?? this.options.sitingGridSpacingM;
      const inBox = ((x1 - x0) * kx * (y1 - y0) * ky) / (spacing * spacing);
      if (inBox > this.options.sitingMaxCandidates) spacing = Math.ceil(spacing * Math.sqrt(inBox / this.options.sitingMaxCandidates));
      const list = gridCandidates(shape.bbox, spacing, kx, ky).filter((c) => booleanPointInPolygon([c.lon, c.lat], shape.geometry));
      return { list, spacing };
    }
    const layer = getLayer(q.candidates);
    if (!layer || layer.table === null || layer.geometry !== 'point' || !canSeeLayer(layer, who)) {
      const layers = LAYERS.filter((l) => l.table && l.geometry === 'point' && canSeeLayer(l, who)).map((l) => l.id);
      throw badRequest('candidates', `sites, grid, cells or a point layer: ${layers.join(', ')}`);
    }
    // the table name comes from the registry, never from the request
    const r = await this.db.query<{ id: number; lon: number; lat: number }>(
      `SELECT id::int8 AS id, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM ${layer.table} WHERE district_id = $1 AND deleted_at IS NULL ORDER BY id`,
      [q.district],
    );
    return { list: r.rows.map((row) => ({ lon: Number(row.lon), lat: Number(row.lat), source: layer.id, id: Number(row.id) })), spacing: null };
  }

  /** GET /analysis/siting: greedy maximal covering of k new shelters. */
  async siting(query: SitingQuery, who: Principal) {
    const settings = await this.settings(query);
    const version = await this.dataVersion();
    const radius = settings.radii[query.class];
    // Default candidates: the district's candidate sites when it has any, else the grid.
    const candidatesDefault = query.candidates === undefined;
    const q = { ...query, candidates: query.candidates ?? ((await districtHasSites(this.db, query.district)) ? 'sites' : 'grid') };
    return this.cache.get(cacheKey('siting', { q, settings, version, restricted: who.canSeeRestricted }), async () => {
      const { loaded, analysis } = await this.analysis(q.district, settings, this.options.decay, version);
      const { cells } = loaded.snapshot;
      const { list, spacing, skipped } = await this.candidates(q, loaded, version, who);
      const areaM2 = q.area_m2 ?? this.options.sitingNewShelterAreaM2;
      const m2PerPerson = settings.capacityBasis === 'area' ? settings.m2PerPerson : settings.m2ByClass[q.class];
      const capacityFor = (area: number) => Math.floor(area / m2PerPerson + 1e-9);
      const newCapacity = capacityFor(areaM2);
      // A candidate site holds what its own area holds; other candidates (and sites of unknown area) the default area's.
      const siteCapacity = list.some((c) => c.site?.area_m2 != null) ? Float64Array.from(list, (c) => capacityFor(c.site?.area_m2 ?? areaM2)) : null;
      const minSite = this.options.sitingMinSiteAreaM2[q.class];
      const residents = cells.reduce((s, c) => s + c.residents, 0);
      const demand = Float64Array.from(cells, (c, i) =>
        q.capacity_aware ? c.residents - analysis.allocation.sheltered[i] : analysis.covered[i] ? 0 : c.residents,
      );
      const baseServed = residents - demand.reduce((s, d) => s + d, 0);
      // shared by identical concurrent requests through the cache, so not cancelled when one client leaves
      const result = await workerPool().run(
        'siting',
        { cells: packCells(cells), candidates: list, radiusM: radius, demand, k: q.k, capacity: q.capacity_aware ? (siteCapacity ?? newCapacity) : null, exactMaxSubsets: this.options.sitingExactMaxSubsets },
        undefined,
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

  /** The index of every shelter for nearest-shelter lookups, per data version. */
  async nearestIndex(version?: number): Promise<NearestIndex> {
    const v = version ?? (await this.dataVersion());
    return this.models.get(cacheKey('nearest-index', { v }), () => loadNearestIndex(this.db));
  }

  private async nearestSetup(q: { district?: string; include_full: boolean; include_exposed: boolean; include_unusable: boolean; max_distance?: number; speed?: number; n: number }) {
    if (q.district) await loadDistrictInfo(this.db, q.district); // 404 for an unknown district
    const version = await this.dataVersion();
    const index = await this.nearestIndex(version);
    const speed = q.speed ?? this.options.walkingSpeedMPerMin;
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

  /** GET /analysis/nearest-shelters: the n nearest usable shelters with distance, walking time and free capacity. */
  async nearest(q: NearestQuery, who: Principal) {
    const { index, speed, lookup, parameters } = await this.nearestSetup(q);
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
  async nearestBatch(body: NearestBatchBody) {
    const { index, speed, lookup, parameters } = await this.nearestSetup(body);
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
        })
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

  /** GET /analysis/resource-coverage: residents within reach of a point layer (e.g. fire stations). */
  async resourceCoverage(q: ResourceCoverageQuery, who: Principal) {
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
    const speed = q.speed ?? this.options.vehicleSpeedMPerMin;
    const radius = q.radius ?? q.minutes! * speed;
    if (radius > MAX_RADIUS_M) throw badRequest('minutes', `gives ${radius} m; at most ${MAX_RADIUS_M} m`);
    const info = await loadDistrictInfo(this.db, q.district);
    const version = await this.dataVersion();
    return this.cache.get(cacheKey('resource-coverage', { q, version }), async () => {
      const loaded = await this.district(q.district, version);
      const { cells, streets, communities } = loaded.snapshot;
      // table and column names come from the registry, never from the request
      const r = await this.db.query<{ id: number; lon: number; lat: number; street_id: string | null; community_id: string | null }>(
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

  /** GET /analysis/coverage/gaps: uncovered areas, largest first. */
  async gaps(q: GapsQuery) {
    const settings = await this.settings(q);
    const version = await this.dataVersion();
    const all = await this.cache.get(cacheKey('gaps', { district: q.district, settings, version }), async () => {
      const { loaded, analysis } = await this.analysis(q.district, settings, this.options.decay, version);
      const uncovered = loaded.snapshot.cells.filter((c, i) => !analysis.covered[i] && c.residents > 0).map((c) => c.id);
      const gaps: CoverageGap[] = await dissolveGaps(this.db, uncovered);
      const { district } = loaded.snapshot;
      return { district: { id: district.id, name_zh: district.name_zh, name_en: district.name_en }, gaps, uncoveredResidents: gaps.reduce((s, g) => s + g.residents, 0) };
    });
    return {
      district: all.district,
      parameters: { ...describeSettings(settings), data_version: version },
      uncovered_residents: all.uncoveredResidents,
      gap_count: all.gaps.length,
      gaps: q.limit ? all.gaps.slice(0, q.limit) : all.gaps,
    };
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** Nearest-shelter batches above this many points go to a worker thread. */
const NEAREST_BATCH_ON_WORKER = 500;

const METHOD = {
  coverage: 'a resident is covered when a usable shelter lies within its class radius of the resident’s cell point',
  area_per_resident: 'effective area of the usable shelters inside the unit ÷ residents of the unit (administrative view)',
  catchment: '2SFCA: each shelter’s area ÷ residents within its radius, summed over the shelters within reach of each cell; population-weighted mean per unit',
  allocation: 'minimum-cost maximum flow: residents assigned to shelters within reach without exceeding capacity, as many as possible, then the least total distance; unsheltered = residents with no place',
} as const;

const ALLOCATION_NOTE = {
  min_cost:
    'The number sheltered is the maximum possible. Many assignments reach it; this one has the least total distance (ties broken by a fixed order, so the same data gives the same answer), and per-unit sheltered/unsheltered figures follow from it.',
  max_flow:
    'The number sheltered is the maximum possible. Many assignments reach it; the district is too large for the least-distance search within its work bound, so this one is nearest-first then rerouted (deterministic, not the least total distance): per-unit sheltered/unsheltered figures are one of many possible.',
} as const;

const shared = new WeakMap<Db, ShelterAnalysis>();

/** The one ShelterAnalysis of `db` (created with `options` on first use); it reads from the read side (replica) if there is one. */
export function shelterAnalysisFor(db: Db, options?: AnalysisOptions): ShelterAnalysis {
  const reads = readerOf(db);
  let s = shared.get(reads);
  if (!s) {
    s = new ShelterAnalysis(reads, options);
    shared.set(reads, s);
  }
  return s;
}
