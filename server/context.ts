import type { Config } from './config.ts';
import type { Db } from './db/types.ts';
import type { Logger } from './log.ts';
import { ChangeBus } from './changes.ts';
import type { TileArchive } from '../tiles/archive/archive-reader.ts';
import type { ComputedSources } from '../catalog/computed-sources.ts';
import { analysisServices, type AnalysisServices } from './analysis/service.ts';
import { computedLayers } from './analysis/computed-layers.ts';
import { tableFactsOnce, type TableFacts, type TableFactsOnce } from '../catalog/table-facts.ts';
import { LAYERS } from '../catalog/layers.ts';

/** What every route module receives: the database, the parsed config, the logger and the services built on them. */
export interface AppContext {
  db: Db;
  config: Config;
  log: Logger;
  /** Committed feature changes; caches and live maps subscribe. */
  changes: ChangeBus;
  /** The shelter analyses of `db`, with their caches (one set per app). */
  analysis: AnalysisServices;
  /** The computed layers (coverage_gaps), served like tables by tiles, OGC and static maps. */
  computed: ComputedSources;
  /** What the schema says about every layer's table, read once for the app (the OGC API, static maps). */
  tableFacts: TableFactsOnce;
  /** Pre-rendered tiles (TILES_ARCHIVE) answered while the database cannot be reached. */
  tileArchive?: TileArchive;
}

/** What an app is built from: the rest of its context is made once from these (appContext). */
export type AppOptions = Omit<AppContext, 'changes' | 'analysis' | 'computed' | 'tableFacts'> & Partial<Pick<AppContext, 'changes' | 'analysis'>>;

/** The context of one app: a change bus unless given, the analyses (their caches following the bus), the computed layers on them and the table facts. */
export function appContext(options: AppOptions): AppContext {
  const changes = options.changes ?? new ChangeBus();
  const analysis = options.analysis ?? analysisServices(options.db, undefined, changes);
  return { ...options, changes, analysis, computed: computedLayers(analysis), tableFacts: tableFactsOnce(options.db, LAYERS) };
}
