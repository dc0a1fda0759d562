import type { Db, QueryOptions, ReadSide, ReplicaStatus, Row } from './types.ts';
import { isConnectionError } from './errors.ts';
import { parseLsn } from './lsn.ts';
import type { ReadConsistency } from './read-consistency.ts';

/**
 * A PostgreSQL streaming replica (DATABASE_READ_URL) as the read side of the
 * primary's Db.
 *
 * A read goes to the replica only when the replica has replayed the primary's
 * WAL at least as far as the reader must see:
 * - the position of the last change this process heard (LISTEN): it is taken
 *   from the primary before the change reaches the caches, so a cache entry
 *   dropped for a change is never refilled from a replica that lacks it;
 * - the position a client sent back in a Consistency-Token (its own write,
 *   possibly through another server);
 * and never after the request committed a write itself, or after one of its
 * reads came from the primary (a later read must not go back in time). The
 * read waits up to DATABASE_READ_MAX_WAIT_MS for the replica, then the primary
 * answers. A replica that does not answer is marked down: reads go to the
 * primary and the replica is tried again every second.
 */
export interface ReplicaOptions {
  /** Longest a read waits for the replica to replay what it must see before the primary serves it, ms. */
  maxWaitMs: number;
  /** How often the replica is checked: retried while down, its replay position refreshed while up. Default 1000 ms. */
  checkEveryMs?: number;
  log?: (message: string) => void;
}

// The replay position; on a server that is not (or no longer) a standby, its own WAL position.
const REPLAYED_SQL = 'SELECT COALESCE(pg_last_wal_replay_lsn(), pg_current_wal_lsn())::text AS lsn';
const PRIMARY_SQL = 'SELECT pg_current_wal_lsn()::text AS lsn';
// How often a waiting read asks the replica how far it has replayed.
const POLL_MS = 5;
// Background queries are nobody's request: a client leaving must not cancel them.
const NEVER = new AbortController().signal;

/** Opens the composite database: the primary, with the replica as its `read` side. Never fails because the replica is down. */
export async function withReadReplica(primary: Db, replica: Db, options: ReplicaOptions): Promise<Db> {
  const router = new ReplicaRouter(primary, replica, options);
  await router.start();
  const db: Db = {
    backend: primary.backend,
    poolStats: primary.poolStats && (() => primary.poolStats!()),
    query: (sql, params, opts) => primary.query(sql, params, opts),
    exec: (sql) => primary.exec(sql),
    async tx(fn, opts) {
      const result = await primary.tx(fn, opts);
      // The request reads its own commit back: from the primary, whatever the replica has replayed.
      const needs = opts?.scope?.consistency;
      if (needs) needs.primary = true;
      return result;
    },
    // A heard change is delivered once the primary's position after it is recorded.
    listen: (channel, onPayload, onGap, onLost) => primary.listen(channel, (payload) => router.afterChange(() => onPayload(payload)), onGap && (() => router.afterChange(onGap)), onLost),
    async close() {
      router.stop();
      await Promise.all([replica.close().catch(() => {}), primary.close()]);
    },
  };
  const read: ReadSide = {
    ...db,
    query: <R extends object = Row>(sql: string, params?: unknown[], opts?: QueryOptions) => router.read<R>(sql, params, opts),
    // The read side closes with its database.
    close: async () => {},
    status: () => router.status(),
    markPrimaryPosition: () => router.markPrimaryPosition(),
  };
  db.read = read;
  return db;
}

interface Waiter {
  lsn: bigint;
  done: (reached: boolean) => void;
}

class ReplicaRouter {
  private up = false;
  /** Highest position the replica was seen to have replayed. */
  private replayed = 0n;
  /** Position every read must see: the primary's after the last change heard here. */
  private floor = 0n;
  /** The primary's position after a heard change could not be read: reads go to the primary until it can. */
  private floorUnknown = false;
  /** A position the replica did not reach in time: reads needing it go straight to the primary until it has. */
  private behind: bigint | null = null;
  private readonly reads = { replica: 0, primary: 0 };
  private readonly waiters = new Set<Waiter>();
  private polling = false;
  private checking = false;
  private timer?: NodeJS.Timeout;
  private readonly pending: (() => void)[] = [];
  private catchingUp = false;

  constructor(
    private readonly primary: Db,
    private readonly replica: Db,
    private readonly options: ReplicaOptions,
  ) {}

  async start(): Promise<void> {
    await this.check();
    if (!this.up) this.options.log?.('read replica down: reads go to the primary; retrying every second');
    this.timer = setInterval(() => void this.check(), this.options.checkEveryMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    for (const w of this.waiters) w.done(false);
  }

  status(): ReplicaStatus {
    return { up: this.up, reads: { ...this.reads } };
  }

  async read<R extends object>(sql: string, params?: unknown[], opts?: QueryOptions) {
    const needs = opts?.scope?.consistency;
    if (await this.replicaMayServe(needs)) {
      try {
        const result = await this.replica.query<R>(sql, params, opts);
        this.reads.replica++;
        return result;
      } catch (err) {
        if (isConnectionError(err)) this.markDown(err as Error);
        // a standby cancels a read that conflicts with replaying the primary's changes
        else if (!isRecoveryConflict(err)) throw err;
      }
    }
    if (needs) needs.primary = true;
    this.reads.primary++;
    return this.primary.query<R>(sql, params, opts);
  }

  async markPrimaryPosition(): Promise<void> {
    const r = await this.primary.query<{ lsn: string }>(PRIMARY_SQL, [], { signal: NEVER });
    const lsn = parseLsn(r.rows[0]?.lsn ?? '');
    if (lsn === null) throw new Error(`the primary answered ${r.rows[0]?.lsn} as its WAL position`);
    if (lsn > this.floor) this.floor = lsn;
    this.floorUnknown = false;
  }

  /**
   * Delivers a heard change once the primary's position is recorded. Changes
   * heard while one position is read are covered by the next read, in order.
   */
  afterChange(deliver: () => void): void {
    this.pending.push(deliver);
    if (!this.catchingUp) void this.catchUp();
  }

  private async catchUp(): Promise<void> {
    this.catchingUp = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0);
        await this.markPrimaryPosition().catch(() => {
          this.floorUnknown = true;
        });
        for (const deliver of batch) {
          try {
            deliver();
          } catch (err) {
            // one failing listener must not hold back the changes heard after it
            this.options.log?.(`a change notification failed to apply: ${(err as Error).message}`);
          }
        }
      }
    } finally {
      this.catchingUp = false;
    }
  }

  private async replicaMayServe(needs: ReadConsistency | undefined): Promise<boolean> {
    if (!this.up || this.floorUnknown || needs?.primary) return false;
    const want = needs && needs.minLsn > this.floor ? needs.minLsn : this.floor;
    if (want <= this.replayed) return true;
    if (this.behind !== null && want >= this.behind) return false;
    const reached = await this.replayedUpTo(want);
    if (!reached && (this.behind === null || want < this.behind)) this.behind = want;
    return reached && this.up;
  }

  private replayedUpTo(lsn: bigint): Promise<boolean> {
    if (this.options.maxWaitMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const w: Waiter = {
        lsn,
        done: (reached) => {
          clearTimeout(timer);
          this.waiters.delete(w);
          resolve(reached);
        },
      };
      const timer = setTimeout(() => w.done(false), this.options.maxWaitMs);
      this.waiters.add(w);
      void this.poll();
    });
  }

  /** Asks the replica how far it has replayed while reads wait for it. */
  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      while (this.waiters.size > 0 && this.up) {
        try {
          this.advance(await this.replayPosition());
        } catch (err) {
          if (isConnectionError(err)) this.markDown(err as Error);
          return; // the waiters time out and the primary answers them
        }
        if (this.waiters.size > 0) await new Promise((r) => setTimeout(r, POLL_MS));
      }
    } finally {
      this.polling = false;
    }
  }

  private async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const lsn = await this.replayPosition();
      if (!this.up) {
        if (this.timer) this.options.log?.('read replica up: reads go to it again');
        this.up = true;
      }
      this.advance(lsn);
      if (this.floorUnknown) await this.markPrimaryPosition().catch(() => {});
    } catch (err) {
      this.markDown(err as Error);
    } finally {
      this.checking = false;
    }
  }

  private async replayPosition(): Promise<bigint> {
    const r = await this.replica.query<{ lsn: string }>(REPLAYED_SQL, [], { signal: NEVER });
    return parseLsn(r.rows[0]?.lsn ?? '') ?? 0n;
  }

  private advance(lsn: bigint): void {
    if (lsn > this.replayed) this.replayed = lsn;
    if (this.behind !== null && this.replayed >= this.behind) this.behind = null;
    for (const w of this.waiters) if (w.lsn <= this.replayed) w.done(true);
  }

  private markDown(err: Error): void {
    if (this.up) this.options.log?.(`read replica down (${err.message}): reads go to the primary; retrying every second`);
    this.up = false;
    for (const w of this.waiters) w.done(false);
  }
}

/** 40001/40P01 on a standby: the read was cancelled so that replay could go on. */
function isRecoveryConflict(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '40001' || code === '40P01';
}
