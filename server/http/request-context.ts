import { AsyncLocalStorage } from 'node:async_hooks';
import type { WorkKind } from '../db/types.ts';
import type { ReadConsistency } from '../db/read-consistency.ts';

/**
 * Everything a request carries through every await, in one AsyncLocalStorage
 * (one store to propagate per async resource, however many fields there are).
 * Each field is set by the part of the server that owns it and read where it
 * is needed, without every call site passing it along:
 * - `kind`, `signal` and `started` (server/http/request-scope.ts): the kind of
 *   work, which picks the statement timeout, a signal that fires when the
 *   client has gone, which cancels its statements and worker tasks, and when
 *   the request started, from which the embedded backend counts its deadline;
 * - `consistency` (server/db/read-consistency.ts): what the request's reads
 *   must see of earlier writes when a read replica is configured;
 * - `written` (server/cluster/write-barrier.ts): the data version the request's
 *   own writes committed with change notifications, which its answer waits for.
 * Start-up and background work run with no context at all.
 */
export interface RequestContext {
  kind?: WorkKind;
  signal?: AbortSignal;
  /** performance.now() when the request's scope began. */
  started?: number;
  consistency?: ReadConsistency;
  written?: WrittenVersion;
}

/**
 * The highest data version a request's transactions committed with change
 * notifications (0: none). Set by the transaction helpers (server/db/data-version.ts
 * `settleJournal`), read by the write barrier when the answer is sent.
 */
export interface WrittenVersion {
  version: number;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** The context of the request being served, if any. */
export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}

/**
 * Runs `fn` (and everything it awaits) with the current context and these
 * fields set; the fields not given keep their values (the same objects, so a
 * mutable field such as `consistency` stays shared with the outer context).
 */
export function runWithContext<T>(fields: RequestContext, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...fields }, fn);
}

/**
 * Runs `fn` (and everything it awaits) with no request context: for callbacks
 * that the database delivers on behalf of nobody in particular, such as change
 * notifications, which must not inherit the signal or deadline of whichever
 * request's statement happened to cause them.
 */
export function withoutContext<T>(fn: () => T): T {
  return storage.exit(fn);
}
