/**
 * A bulk load of data (the demo data on a first start, `npm run data:reset`) lands
 * like an edit or an import of the same rows would: the rows go in through
 * data/load.ts, then — in the same transaction, before it commits — every
 * shelter in the zone of an active flood-prone spot or geohazard site is flagged
 * unusable (`hazard_zone`, with its note, audit row and event), as the server's
 * own rule says. Without this the loaded map showed such shelters usable beside
 * their hazard until the first recomputation. data/ cannot do it itself: it
 * knows only the catalogue's Db port, and the rule lives in the server.
 */
import type { Queryable } from './types.ts';
import { bumpDataVersion } from './data-version.ts';
import type { Principal } from '../../catalog/access.ts';
import type { DemoDataset } from '../../data/generate.ts';
import { insertDemoData } from '../../data/load.ts';
import { recomputeHazardZonesIn } from '../shelters/usability.ts';

/** Who the audit log names for changes a data load makes (not a key: shown as is to every reader). */
export const DATA_LOAD_ACTOR: Principal = { canSeeRestricted: true, role: 'admin', actor: 'data load', districts: null };

/** Inserts `data` and brings the shelters' stored usability in line with the loaded hazards, through an open transaction. */
export async function loadDataset(q: Queryable, data: DemoDataset, log: (m: string) => void = () => {}): Promise<{ flagged: number[] }> {
  await insertDemoData(q, data, log);
  const { flagged } = await recomputeHazardZonesIn(q, DATA_LOAD_ACTOR);
  log(`  shelters in an active hazard's zone, flagged unusable: ${flagged.length}`);
  // the version moves here, after every write of the load (the inserts' triggers would move it at COMMIT)
  await bumpDataVersion(q);
  return { flagged };
}
