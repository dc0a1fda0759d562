/**
 * Hazard-zone flags after writes made in plain SQL.
 *
 * Edits and imports through the server recompute the shelters near the hazards
 * they change, in their own transaction (server/shelters/usability.ts). A flood-prone
 * spot or geohazard site loaded by an ETL job or typed in psql bypasses that: its
 * COMMIT only announces the tables it wrote (migration 017), and the shelters in its
 * zone stayed usable on every map and in every analysis until someone called
 * `POST /shelters/usability/hazard-zones`. On the night that matters, the newest
 * hazards are exactly the ones a city platform pushes in bulk.
 *
 * So every process hears those announcements (as whole-layer changes naming the tables
 * written) and recomputes every shelter's hazard-zone flag, as
 * the endpoint does; shelters written in plain SQL may have appeared or moved into a
 * zone, so their announcements count too. The changes it makes are written, audited
 * and announced like any other write, so tile caches, open maps and walls follow.
 *
 * After its listening connection was lost and is back, a process may have missed such
 * announcements: the relay then sends a whole-layer change of every layer without a
 * version, and the keeper recomputes for it too. So does a process that has just
 * started listening (`listening`): an ETL job may have loaded hazards while no
 * process ran, during maintenance or a restart, and nobody heard it.
 *
 * With several processes on one database (WORKERS=N), each hears every announcement:
 * a transaction-scoped advisory lock lets one of them recompute, and the others leave
 * it to that one. A process holding the lock that hears another announcement
 * meanwhile runs once more after it, so a write that landed while it computed is
 * never left out.
 */
import type { ChangeFeed, FeatureChange } from '../../catalog/ports.ts';
import { WHOLE_LAYER } from '../../catalog/ports.ts';
import type { Principal } from '../../catalog/access.ts';
import { getLayer } from '../../catalog/layers.ts';
import type { Db } from '../db/types.ts';
import type { Logger } from '../log.ts';
import { HAZARD_ZONE_LAYERS, recomputeHazardZonesIn } from './usability.ts';

/** Who the audit names for flags set or given back after a write in plain SQL. */
export const PLAIN_SQL_ZONE_ACTOR: Principal = { canSeeRestricted: true, role: 'admin', actor: 'hazard zones after a plain-SQL write', districts: null };

/** The advisory lock of a round: one key for the whole database, as a round covers every shelter. */
export const HAZARD_ZONE_LOCK = 0x6f6e655a; // "oneZ"

/** The layers whose plain-SQL writes move hazard zones or the shelters in them. */
const ZONE_INPUTS: ReadonlySet<string> = new Set([...HAZARD_ZONE_LAYERS, 'shelters']);
/** Their own tables: a write of a table that only describes one (check-ins) moves nothing. */
const ZONE_TABLES: ReadonlySet<string> = new Set([...ZONE_INPUTS].map((id) => getLayer(id)!.table!));

/**
 * A change after which zones may have moved unseen: a plain-SQL write of a zone input's
 * own table (a whole-layer change naming the tables written), or the resync after a lost
 * connection (a whole-layer change of every layer, naming none).
 */
function movesZonesUnseen(change: FeatureChange): boolean {
  if (change.id !== WHOLE_LAYER || !ZONE_INPUTS.has(change.layer)) return false;
  return change.tables === undefined || change.tables.some((t) => ZONE_TABLES.has(t));
}

export interface HazardZoneKeeper {
  /** Recomputations this process started (each one announcement, or several heard while one ran). */
  readonly rounds: number;
  /** Of those, the ones that failed (logged). */
  readonly failed: number;
  /** Of those, the ones left to another process that was recomputing (WORKERS>1). */
  readonly skipped: number;
  /** Settles once no recomputation is running or due. */
  idle(): Promise<void>;
}

/**
 * `listening` settles once the process listens for announcements (the relay's first LISTEN):
 * one round then takes in what was written before. A round started earlier could miss a
 * write committed between it and the LISTEN.
 */
export function keepHazardZones(db: Db, changes: ChangeFeed, log: Logger, listening: Promise<unknown>): HazardZoneKeeper {
  let state: 'idle' | 'due' | 'running' = 'idle';
  let again = false;
  let done: Promise<void> = Promise.resolve();

  let rounds = 0;
  let failed = 0;
  let skipped = 0;

  const recompute = async () => {
    rounds++;
    const out = await db.tx(async (q) => {
      const { rows } = await q.query<{ mine: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS mine', [HAZARD_ZONE_LOCK]);
      // Another process is recomputing: it heard the same announcement.
      if (!rows[0].mine) return null;
      return recomputeHazardZonesIn(q, PLAIN_SQL_ZONE_ACTOR);
    });
    if (!out) skipped++;
    else if (out.flagged.length || out.restored.length) {
      log.info(`hazard zones after a plain-SQL write: ${out.flagged.length} shelter(s) flagged, ${out.restored.length} given back`);
    }
  };

  const run = async () => {
    state = 'running';
    do {
      again = false;
      await recompute().catch((err) => {
        failed++;
        log.warn(`hazard zones were not recomputed after a plain-SQL write: ${(err as Error).message}`);
      });
    } while (again);
  };

  /** A round is due: one more if one is running, none more if one is due already. */
  const due = () => {
    if (state === 'running') again = true;
    if (state !== 'idle') return;
    // Started on the next turn: the changes of one announcement (a layer each) arrive together, and one recomputation serves them all.
    state = 'due';
    done = new Promise<void>((resolve) => setImmediate(resolve))
      .then(run)
      .finally(() => (state = 'idle'));
  };

  changes.on((change) => {
    if (movesZonesUnseen(change)) due();
  });
  // Not listening (the database refused LISTEN, logged by the app): no announcement will come either.
  listening.then(due, () => {});

  return {
    get rounds() {
      return rounds;
    },
    get failed() {
      return failed;
    },
    get skipped() {
      return skipped;
    },
    idle: async () => {
      while (state !== 'idle') await done;
    },
  };
}
