import type { Feature, FeatureCollection, Polygon } from 'geojson';
import type { StatementScope } from '../db/types.ts';
import { cacheKey } from './cache.ts';
import { coverageTable, shelterLines, type UnitLevel } from './coverage.ts';
import { dissolveGaps, type CoverageGap } from './gaps.ts';
import type { Decay } from './catchment.ts';
import { SHELTER_CLASSES, SHELTER_STATUSES, type ShelterClass, type ShelterStatus } from './options.ts';
import { describeSettings, type CoverageQuery, type GapsQuery } from './params.ts';
import type { DistrictModels, ShelterQuery } from './district-models.ts';

/**
 * Shelter coverage of a district (GET /analysis/coverage) and its gaps, the
 * uncovered populated areas (GET /analysis/coverage/gaps and the computed
 * `coverage_gaps` layer, so a tile and the endpoint never disagree). Both read
 * the shared coverage model of DistrictModels.
 */
export interface CoverageGapProperties {
  district_id: string;
  rank: number;
  residents: number;
  area_m2: number;
  cells: number;
  synthetic: boolean;
}

export interface CoverageGapOptions {
  /** Service radius per class, metres (defaults: the analysis options). */
  radii?: Partial<Record<ShelterClass, number>>;
  /** Shelter statuses that count (default: open, standby, full). */
  statuses?: readonly ShelterStatus[];
  /** Shelters to leave out by id (e.g. exposed to a hazard). */
  excludeShelters?: readonly number[];
}

/** Which districts' gaps: one, those whose outline box meets a [west, south, east, north] box, or (neither) all. */
export interface GapsWithin {
  district?: string;
  bbox?: readonly [number, number, number, number];
}

export class CoverageService {
  constructor(private readonly models: DistrictModels) {}

  /** GET /analysis/coverage as JSON (routes add links and the GeoJSON form); `scope`: the asking request's. */
  async coverage(q: CoverageQuery, scope: StatementScope | undefined) {
    const { models } = this;
    const settings = await models.settings(q, scope);
    const version = await models.dataVersion(scope);
    const decay: Decay = q.decay ?? models.options.decay;
    return models.cache.get(cacheKey('coverage', { q, settings, version }), scope, async (shared) => {
      const { loaded, analysis } = await models.analysis(q.district, settings, decay, version, shared);
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

  /** GET /analysis/coverage/gaps: uncovered areas, largest first; `scope`: the asking request's. */
  async gaps(q: GapsQuery, scope: StatementScope | undefined) {
    const { models } = this;
    const settings = await models.settings(q, scope);
    const version = await models.dataVersion(scope);
    const all = await models.cache.get(cacheKey('gaps', { district: q.district, settings, version }), scope, async (shared) => {
      const { loaded, analysis } = await models.analysis(q.district, settings, models.options.decay, version, shared);
      const uncovered = loaded.snapshot.cells.filter((c, i) => !analysis.covered[i] && c.residents > 0).map((c) => c.id);
      const gaps: CoverageGap[] = await dissolveGaps(models.reader(shared), uncovered);
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

  /**
   * The gaps as GeoJSON polygons with the properties of the `coverage_gaps`
   * layer, for the districts `within` names (default: every district): the same
   * cached answers as the endpoint. `scope`: the request they are for (none: an export).
   */
  async gapFeatures(within: GapsWithin, scope: StatementScope | undefined, options: CoverageGapOptions = {}): Promise<FeatureCollection<Polygon, CoverageGapProperties>> {
    const features: Feature<Polygon, CoverageGapProperties>[] = [];
    const shelters = shelterQueryOf(options);
    for (const id of await this.districtsWithin(within, scope)) {
      const result = await this.gaps({ ...shelters, district: id, f: 'json' }, scope);
      for (const gap of result.gaps) {
        const { geometry, ...props } = gap;
        features.push({ type: 'Feature', id: `${id}-${gap.rank}`, geometry, properties: { district_id: id, ...props } });
      }
    }
    return { type: 'FeatureCollection', features };
  }

  private async districtsWithin(within: GapsWithin, scope: StatementScope | undefined): Promise<string[]> {
    if (within.district) return [within.district];
    const db = this.models.reader(scope);
    const { rows } = within.bbox
      ? await db.query<{ id: string }>('SELECT id FROM districts WHERE geom && ST_MakeEnvelope($1, $2, $3, $4, 4326) ORDER BY id', [...within.bbox])
      : await db.query<{ id: string }>('SELECT id FROM districts ORDER BY id');
    return rows.map((r) => r.id);
  }
}

/** The shelter parameters of gap options, as the query parser would give them (statuses in their order, ids ascending, each once). */
function shelterQueryOf(options: CoverageGapOptions): Omit<ShelterQuery, 'district'> {
  const q: Omit<ShelterQuery, 'district'> = { include_unusable: false };
  for (const cls of SHELTER_CLASSES) {
    const r = options.radii?.[cls];
    if (r !== undefined) q[`radius_${cls}`] = r;
  }
  if (options.statuses) q.shelter_status = [...new Set(options.statuses)].sort((a, b) => SHELTER_STATUSES.indexOf(a) - SHELTER_STATUSES.indexOf(b));
  if (options.excludeShelters?.length) q.exclude_shelters = [...new Set(options.excludeShelters)].sort((a, b) => a - b);
  return q;
}

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
