import type { QueryOptions } from './types.ts';

/**
 * What a request needs from the database it reads, in its scope
 * (server/http/request-scope.ts; set by server/http/consistency-token.ts): how far the
 * replica must have replayed the primary's WAL (a Consistency-Token the client
 * sent back), and whether its reads must come from the primary (it committed a
 * write itself, or an earlier read of it already came from the primary: a
 * later read from a lagging replica could answer older data than that one).
 */
export interface ReadConsistency {
  /** WAL position (server/db/lsn.ts) the replica must have replayed; 0n = none asked. */
  minLsn: bigint;
  /** Read from the primary from now on. */
  primary: boolean;
}

/** The needs of the request a statement is run for (start-up and background work have none). */
export function readConsistencyOf(opts: QueryOptions | undefined): ReadConsistency | undefined {
  return opts?.scope?.consistency;
}
