import cluster from 'node:cluster';
import type { NextFunction, Request, Response } from 'express';
import type { ChangeBus } from '../changes.ts';
import type { WrittenVersion } from '../db/data-version.ts';
import { scopeOf } from '../http/request-scope.ts';

/**
 * Read-your-writes across every process of one server.
 *
 * Caches (tiles, static maps, analyses) drop entries when the database's
 * change notification arrives, which is a moment after the write commits. A
 * client that sends an edit and then reads the map must never get the old
 * tile, whichever process answers the read. So a successful write holds its
 * response until every process has applied the data version it committed:
 * alone, until this process's own notification arrived; under node:cluster,
 * until every worker has said so through the primary (cluster/primary.ts).
 * The wait is bounded: a process that does not answer in time is logged, not
 * waited for forever.
 */
export const BARRIER_TIMEOUT_MS = 2000;

/** Highest data version whose change notification this process has applied. */
export class AppliedVersion {
  private version = 0;
  private readonly waiters = new Set<{ v: number; done: () => void }>();

  /**
   * Subscribe after every cache has (buildApp does it last): listeners run in
   * order, so when a version counts as applied every cache has dropped what it changed.
   */
  follow(changes: ChangeBus): () => void {
    return changes.on((c) => {
      if (c.dataVersion !== undefined) this.advance(c.dataVersion);
    });
  }

  /** Without change notifications (LISTEN failed) there is nothing to wait for. */
  off(): void {
    this.advance(Number.MAX_SAFE_INTEGER);
  }

  get current(): number {
    return this.version;
  }

  advance(v: number): void {
    if (v <= this.version) return;
    this.version = v;
    for (const w of this.waiters) {
      if (w.v <= v) {
        this.waiters.delete(w);
        w.done();
      }
    }
  }

  /** Resolves true once version `v` is applied, false after `timeoutMs`. */
  reached(v: number, timeoutMs = BARRIER_TIMEOUT_MS): Promise<boolean> {
    if (v <= this.version) return Promise.resolve(true);
    return new Promise((resolve) => {
      const w = {
        v,
        done: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      this.waiters.add(w);
    });
  }
}

/** Messages between workers and the primary. */
export type BarrierMessage =
  | { type: 'onemap:barrier'; id: number; version: number }
  | { type: 'onemap:barrier-check'; id: number; version: number }
  | { type: 'onemap:barrier-ack'; id: number; ok: boolean }
  | { type: 'onemap:barrier-done'; id: number; ok: boolean };

let nextId = 1;
const pending = new Map<number, (ok: boolean) => void>();

/** In a worker: answers the primary's checks and resolves this worker's own barriers. */
export function joinClusterBarrier(applied: AppliedVersion): void {
  if (!cluster.isWorker) return;
  process.on('message', (m: BarrierMessage) => {
    if (m?.type === 'onemap:barrier-check') {
      applied.reached(m.version).then((ok) => process.send?.({ type: 'onemap:barrier-ack', id: m.id, ok } satisfies BarrierMessage));
    } else if (m?.type === 'onemap:barrier-done') {
      pending.get(m.id)?.(m.ok);
      pending.delete(m.id);
    }
  });
}

/** Waits until every process of this server has applied `version`. */
export function everyProcessReached(applied: AppliedVersion, version: number): Promise<boolean> {
  if (!cluster.isWorker || !process.send) return applied.reached(version);
  return new Promise((resolve) => {
    const id = nextId++;
    const timer = setTimeout(() => {
      pending.delete(id);
      resolve(false);
    }, BARRIER_TIMEOUT_MS + 500);
    timer.unref();
    pending.set(id, (ok) => {
      clearTimeout(timer);
      resolve(ok);
    });
    process.send!({ type: 'onemap:barrier', id, version } satisfies BarrierMessage);
  });
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Express middleware: a successful write's response is held (its `end`) until
 * every process has applied the data version its own transactions committed
 * with change notifications (`written` in the request's scope, set by
 * `settleJournal`).
 *
 * Only that version: a request that changed nothing (an analysis sent by POST,
 * a write that found nothing to change) is answered at once. Waiting for the
 * database's current version instead cost every write request one more query,
 * and held every one of them for the whole timeout whenever that version was
 * one no notification announced (rows written in plain SQL before migration 017).
 */
export function writeBarrier(applied: AppliedVersion, onTimeout: (version: number) => void) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!WRITES.has(req.method)) return next();
    const written: WrittenVersion = { version: 0 };
    const end = res.end.bind(res) as (...args: unknown[]) => Response;
    let held = false;
    (res as unknown as { end: (...args: unknown[]) => Response }).end = (...args: unknown[]) => {
      const v = written.version;
      if (held || v === 0 || res.statusCode >= 400 || res.headersSent) return end(...args);
      held = true;
      everyProcessReached(applied, v)
        .then((ok) => (ok ? undefined : onTimeout(v)))
        .finally(() => end(...args));
      return res;
    };
    const scope = scopeOf(req);
    if (scope) scope.written = written;
    next();
  };
}
