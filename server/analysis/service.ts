import { readerOf, type Db } from '../db/types.ts';
import type { ChangeBus } from '../changes.ts';
import { analysisOptions, type AnalysisOptions } from './options.ts';
import { DistrictModels } from './district-models.ts';
import { CoverageService } from './coverage-service.ts';
import { SitingService } from './siting-service.ts';
import { NearestService } from './nearest-service.ts';
import { ResourceCoverageService } from './resource-service.ts';

/**
 * The shelter analyses of one database, one module each (coverage and gaps,
 * siting, nearest shelters, resource coverage) over one shared DistrictModels
 * (snapshots, the coverage model, the caches). The app builds them once and
 * hands them to the routes, the risk analyses, static maps and the computed
 * layers through its context (server/context.ts).
 */
export interface AnalysisServices {
  readonly options: AnalysisOptions;
  readonly models: DistrictModels;
  readonly coverage: CoverageService;
  readonly siting: SitingService;
  readonly nearest: NearestService;
  readonly resources: ResourceCoverageService;
}

/** The analyses of `db`, reading from its read side (replica) when there is one; with `changes`, cached results follow committed edits. */
export function analysisServices(db: Db, options: AnalysisOptions = analysisOptions(), changes?: ChangeBus): AnalysisServices {
  const models = new DistrictModels(readerOf(db), options);
  if (changes) models.invalidateOn(changes);
  return {
    options,
    models,
    coverage: new CoverageService(models),
    siting: new SitingService(models),
    nearest: new NearestService(models),
    resources: new ResourceCoverageService(models),
  };
}
