import { statementLimitMs, type QueryOptions, type StatementTimeouts, type WorkKind } from './types.ts';

/**
 * The embedded backend's bound on work per request. PGlite runs one statement
 * at a time on the main thread and can neither cancel a running statement nor
 * honour statement_timeout, so the per-kind limits (STATEMENT_TIMEOUT_*_MS)
 * become a deadline: no statement, and no transaction, starts after the
 * request's start + its kind's limit. Time spent waiting behind other
 * statements counts, as it does for the client. A statement already running
 * is not interrupted (it cannot be): one slow statement still runs to its end.
 */
export interface Deadline {
  kind: WorkKind;
  limitMs: number;
  /** performance.now() after which no statement starts. */
  at: number;
}

/**
 * The deadline of a statement called now: the start of the request it is for (its
 * scope) + its kind's limit; with an explicit `kind` outside a request, counted from the
 * call. None outside requests (start-up, background work) or when the limit is 0.
 */
export function deadlineOf(timeouts: StatementTimeouts, opts?: QueryOptions): Deadline | undefined {
  const scope = opts?.scope;
  const kind = opts?.kind ?? scope?.kind;
  const limitMs = statementLimitMs(timeouts, kind);
  if (!kind || limitMs === 0) return undefined;
  const started = scope ? scope.started : performance.now();
  return started === undefined ? undefined : { kind, limitMs, at: started + limitMs };
}

/** Throws a 57014 (answered 503 + Retry-After, as PostgreSQL's statement timeout) once the deadline has passed. */
export function throwIfPast(deadline: Deadline | undefined): void {
  if (deadline && performance.now() > deadline.at) throw new DeadlinePassedError(deadline);
}

export class DeadlinePassedError extends Error {
  /** The SQLSTATE of a statement timeout, so it is handled as one (server/db/errors.ts). */
  readonly code = '57014';
  constructor(deadline: Deadline) {
    super(`the request's time limit for ${deadline.kind} (${deadline.limitMs} ms) had passed before this statement could start on the embedded database`);
    this.name = 'DeadlinePassedError';
  }
}
