import type { StatementScope } from './types.ts';

/**
 * What a request needs from the database it reads, in its scope
 * (server/http/request-scope.ts; set by server/http/consistency-token.ts): how far the
 * replica must have replayed the primary's WAL (a Consistency-Token the client
 * sent back), and whether its reads must come from the primary (it committed a
 * write itself, or an earlier read of it already came from the primary: a
 * later read from a lagging replica could answer older data than that one).
 */
export type ReadConsistency = NonNullable<StatementScope['consistency']>;
