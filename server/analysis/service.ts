import type { Db } from '../db/types.ts';
import type { ChangeBus } from '../changes.ts';
import { AnalysisCache, cacheKey } from './cache.ts';
import { analyseCoverage, coverageTable, shelterLines, type CoverageAnalysis, type UnitLevel } from './coverage.ts';
import { dissolveGaps, type CoverageGap } from './gaps.ts';
import type { DistrictSnapshot } from './model.ts';
import { analysisOptions, type AnalysisOptions } from './options.ts';
import { describeSettings, resolveShelterSettings, type CoverageQuery, type GapsQuery, type ShelterSettings } from './params.ts';
import type { PointGrid } from './point-grid.ts';
import { cellGrid } from './reach.ts';
import { loadDistrictInfo, loadDistrictSnapshot, readDataVersion } from './snapshot.ts';
import type { Decay } from './catchment.ts';

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
  readonly cache: AnalysisCache;

  constructor(
    readonly db: Db,
    readonly options: AnalysisOptions = analysisOptions(),
  ) {
    this.cache = new AnalysisCache(options.cacheEntries);
  }

  /** Drops cached results when an edit commits. */
  invalidateOn(changes: ChangeBus): () => void {
    return this.cache.invalidateOn(changes);
  }

  dataVersion(): Promise<number> {
    return readDataVersion(this.db);
  }

  async district(districtId: string, version?: number): Promise<LoadedDistrict> {
    const v = version ?? (await this.dataVersion());
    return this.cache.get(cacheKey('snapshot', { districtId, v }), async () => {
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
    return this.cache.get(cacheKey('coverage-analysis', { districtId, settings, decay, version }), async () => {
      const loaded = await this.district(districtId, version);
      const { cells, shelters } = loaded.snapshot;
      return { loaded, analysis: analyseCoverage(cells, loaded.grid, shelters, settings, decay) };
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
          shelters_excluded_by_status: snapshot.shelters.length - analysis.model.usable.length,
          data_version: version,
        },
        method: METHOD,
        total: table.total,
        units: table.units,
        unassigned_residents: table.unassigned_residents,
        ...(q.shelters ? { shelters: shelterLines(analysis, snapshot.cells) } : {}),
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
      return { loaded, gaps, uncoveredResidents: gaps.reduce((s, g) => s + g.residents, 0) };
    });
    const { snapshot } = all.loaded;
    return {
      district: { id: snapshot.district.id, name_zh: snapshot.district.name_zh, name_en: snapshot.district.name_en },
      parameters: { ...describeSettings(settings), data_version: version },
      uncovered_residents: all.uncoveredResidents,
      gap_count: all.gaps.length,
      gaps: q.limit ? all.gaps.slice(0, q.limit) : all.gaps,
    };
  }
}

const METHOD = {
  coverage: 'a resident is covered when a usable shelter lies within its class radius of the resident’s cell point',
  area_per_resident: 'effective area of the usable shelters inside the unit ÷ residents of the unit (administrative view)',
  catchment: '2SFCA: each shelter’s area ÷ residents within its radius, summed over the shelters within reach of each cell; population-weighted mean per unit',
  allocation: 'maximum flow: residents assigned to shelters within reach without exceeding capacity; unsheltered = residents with no place',
} as const;

const shared = new WeakMap<Db, ShelterAnalysis>();

/** The one ShelterAnalysis of `db` (created with `options` on first use). */
export function shelterAnalysisFor(db: Db, options?: AnalysisOptions): ShelterAnalysis {
  let s = shared.get(db);
  if (!s) {
    s = new ShelterAnalysis(db, options);
    shared.set(db, s);
  }
  return s;
}
