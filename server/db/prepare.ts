import type { Db } from './types.ts';
import { migrate } from './migrate.ts';
import { loadDemoData, isEmpty } from '../../data/load.ts';

export interface PrepareOptions {
  /** Load the synthetic demo data when the database has no districts yet. */
  demoData: boolean;
  log?: (m: string) => void;
}

/** Brings a database to the current schema and, on first start, fills it with the demo data. */
export async function prepareDatabase(db: Db, options: PrepareOptions): Promise<{ migrationLevel: number; loadedDemo: boolean }> {
  const log = options.log ?? (() => {});
  const migrationLevel = await migrate(db, log);
  let loadedDemo = false;
  if (options.demoData && (await isEmpty(db))) {
    log('empty database: loading the synthetic demo data for the five districts …');
    await loadDemoData(db, log);
    loadedDemo = true;
  }
  // Reads wait for a read replica to have replayed the schema and data as they are now.
  await db.read?.markPrimaryPosition();
  return { migrationLevel, loadedDemo };
}
