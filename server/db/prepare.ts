import type { Db } from './types.ts';
import { migrate } from './migrate.ts';
import { isEmpty } from '../../data/load.ts';
import { loadDataset } from './load-data.ts';
import { generateDemoData } from '../../data/generate.ts';

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

/** Generates the demo dataset and loads it in one transaction (server/db/load-data.ts), bumping the data version caches key on. */
async function loadDemoData(db: Db, log: (m: string) => void): Promise<void> {
  const started = Date.now();
  const data = generateDemoData();
  log(`demo data generated in ${Date.now() - started} ms (seed ${data.seed}); inserting …`);
  const inserting = Date.now();
  // with the shelters in an active hazard's zone flagged, as the server's own rule says
  await db.tx((q) => loadDataset(q, data, log));
  log(`demo data loaded in ${Date.now() - inserting} ms`);
}
