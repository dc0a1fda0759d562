import type { RequestHandler, Response } from 'express';
import { readerOf, type Db } from '../db/types.ts';
import { parseLsn } from '../db/lsn.ts';
import { currentDataVersion } from '../db/data-version.ts';
import { scopedDb } from '../db/scoped.ts';
import type { StatementScope } from '../db/types.ts';
import { scopeOf } from './request-scope.ts';
import { badRequest } from './problem.ts';

/**
 * Read-your-writes through a read replica (DATABASE_READ_URL), whichever server
 * answers the next request: a successful write's answer carries
 * `Consistency-Token`, the primary's WAL position after it committed; a request
 * that sends the token back reads from the replica only once the replica has
 * replayed that far (waiting up to DATABASE_READ_MAX_WAIT_MS), else from the
 * primary (server/db/replica.ts). Without a replica no token is given, and one
 * sent is only checked.
 */
export const CONSISTENCY_TOKEN = 'Consistency-Token';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Express middleware: the rest of the chain reads with the needs the token states. */
export function consistencyToken(db: Db): RequestHandler {
  return (req, res, next) => {
    const sent = req.get(CONSISTENCY_TOKEN);
    let minLsn = 0n;
    if (sent !== undefined) {
      const lsn = parseLsn(sent.trim());
      if (lsn === null) return next(badRequest(CONSISTENCY_TOKEN, `a ${CONSISTENCY_TOKEN} from an earlier answer, like 0/3000148`));
      minLsn = lsn;
    }
    if (db.read && WRITES.has(req.method)) tokenOnSuccess(db, res);
    const needs = { minLsn, primary: false };
    const scope = scopeOf(req);
    if (scope) scope.consistency = needs;
    next();
  };
}

/** Holds a successful write's answer until the primary's position after it is in its headers. */
function tokenOnSuccess(db: Db, res: Response): void {
  const end = res.end.bind(res) as (...args: unknown[]) => Response;
  let held = false;
  (res as unknown as { end: (...args: unknown[]) => Response }).end = (...args: unknown[]) => {
    if (held || res.statusCode >= 400 || res.headersSent) return end(...args);
    held = true;
    db.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')
      .then((r) => res.setHeader(CONSISTENCY_TOKEN, r.rows[0].lsn))
      .catch(() => undefined) // answered without a token: the write itself is done
      .finally(() => end(...args));
    return res;
  };
}

/**
 * Puts the primary's WAL position now in the answer's Consistency-Token, for
 * a read that reports work committed outside any write request (a finished
 * asynchronous import job): the client's next reads must see that work.
 */
export async function tokenNow(db: Db, res: Response): Promise<void> {
  if (!db.read) return;
  const r = await db.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn').catch(() => null);
  if (r?.rows[0]) res.setHeader(CONSISTENCY_TOKEN, r.rows[0].lsn);
}

/**
 * Whether this process's caches may answer a request that sent a Consistency-Token.
 *
 * A cache drops what a change touched when this process hears the change's
 * notification. A token from a write made through another server can name a
 * change not heard here yet: its notification is still on its way, or that
 * server is another host, which the write barrier (server/cluster/write-barrier.ts)
 * does not cover. The data version read at the token's position (from the read
 * side, which waits for the replica to replay that far, or from the primary)
 * settles it: once this process has applied that version, its caches show
 * everything the token asks for; until then the request must bypass them. A
 * position found covered stays covered, so a client sending the same token
 * again costs nothing.
 */
export class TokenCoverage {
  private covered = 0n;

  constructor(
    private readonly db: Db,
    /** Highest data version whose notification this process has applied to its caches. */
    private readonly applied: { readonly current: number },
  ) {}

  /** True when the caches may answer the request of `scope`; false = read around them. */
  async cachesCover(scope: StatementScope | undefined): Promise<boolean> {
    const minLsn = scope?.consistency?.minLsn ?? 0n;
    if (minLsn <= this.covered) return true;
    const version = await currentDataVersion(readerOf(scopedDb(this.db, scope)));
    if (version > this.applied.current) return false;
    if (minLsn > this.covered) this.covered = minLsn;
    return true;
  }
}
