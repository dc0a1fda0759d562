import type { Db, StatementScope } from '../db/types.ts';
import { scopedDb } from '../db/scoped.ts';
import type { ChangeBus } from '../changes.ts';
import { AnalysisCache, cacheKey } from './cache.ts';
import type { CoverageAnalysis } from './coverage.ts';
import type { DistrictSnapshot } from './model.ts';
import type { AnalysisOptions } from './options.ts';
import { resolveShelterSettings, type GapsQuery, type ShelterSettings } from './params.ts';
import type { PointGrid } from './point-grid.ts';
import { cellGrid } from './reach.ts';
import { loadDistrictInfo, loadDistrictSnapshot, readDataVersion } from './snapshot.ts';
import { packCells } from './packed-cells.ts';
import type { Decay } from './catchment.ts';
import { workerPool } from '../work/shared.ts';

/** A district's data and the spatial index over its cells, shared by every analysis of one data version. */
export interface LoadedDistrict {
  snapshot: DistrictSnapshot;
  grid: PointGrid;
}

/** The shelter parameters of a request: what decides which shelters count, how far they reach and how much they hold. */
export type ShelterQuery = Omit<GapsQuery, 'limit' | 'f'>;

/**
 * What every analysis of one database shares: the district snapshots, the
 * coverage model computed from them, and the two caches (answers, models),
 * all keyed on the data version. The analyses (coverage-service.ts,
 * siting-service.ts, nearest-service.ts, resource-service.ts) are built on one
 * instance; the app makes it once (server/context.ts).
 */
export class DistrictModels {
  /** Answers (small JSON), many entries. */
  readonly cache: AnalysisCache;
  /** Loaded districts, analyses and indexes (megabytes each for a big district), few entries. */
  readonly models: AnalysisCache;

  constructor(
    /** Where the analyses read: the read side (replica) when there is one. */
    readonly db: Db,
    readonly options: AnalysisOptions,
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

  /** Where the statements of `scope` read: the read side, each statement carrying the scope (none: start-up or background work). */
  reader(scope: StatementScope | undefined): Db {
    return scopedDb(this.db, scope);
  }

  dataVersion(scope: StatementScope | undefined): Promise<number> {
    return readDataVersion(this.reader(scope));
  }

  /** The district's snapshot and cell index at data version `version`, loaded once for every request that asks. */
  async district(districtId: string, version: number, scope: StatementScope | undefined): Promise<LoadedDistrict> {
    return this.models.get(cacheKey('snapshot', { districtId, v: version }), scope, async (shared) => {
      const snapshot = await loadDistrictSnapshot(this.reader(shared), districtId, version, shared?.signal);
      return { snapshot, grid: cellGrid(snapshot.cells) };
    });
  }

  /** Settings for a request; unknown districts are a 404 before anything is loaded. */
  async settings(q: ShelterQuery, scope: StatementScope | undefined): Promise<ShelterSettings> {
    const info = await loadDistrictInfo(this.reader(scope), q.district);
    return resolveShelterSettings(q, info, this.options);
  }

  /** The coverage model of a district (reach, allocation, catchment): coverage, gaps, siting and scenarios start from it. */
  async analysis(
    districtId: string,
    settings: ShelterSettings,
    decay: Decay,
    version: number,
    scope: StatementScope | undefined,
  ): Promise<{ loaded: LoadedDistrict; analysis: CoverageAnalysis }> {
    return this.models.get(cacheKey('coverage-analysis', { districtId, settings, decay, version }), scope, async (shared) => {
      const loaded = await this.district(districtId, version, shared);
      const { cells, shelters } = loaded.snapshot;
      // CPU-heavy for big radii: on a worker, so the event loop keeps serving (server/work/pool.ts);
      // dropped only when every request waiting for this model has left
      return { loaded, analysis: await workerPool().run('coverageAnalysis', { cells: packCells(cells), shelters, settings, decay }, shared?.signal) };
    });
  }
}
