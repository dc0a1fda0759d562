import type { Config } from './config.ts';
import type { Db } from './db/types.ts';
import type { Logger } from './log.ts';
import type { ChangeBus } from './changes.ts';
import type { TileArchive } from '../tiles/archive/archive-reader.ts';

/** What every route module receives: the database, the parsed config and the logger. */
export interface AppContext {
  db: Db;
  config: Config;
  log: Logger;
  /** Committed feature changes; caches and live maps subscribe. */
  changes: ChangeBus;
  /** Pre-rendered tiles (TILES_ARCHIVE) answered while the database cannot be reached. */
  tileArchive?: TileArchive;
}
