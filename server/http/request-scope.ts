import { setMaxListeners } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import type { StatementScope, WorkKind } from '../db/types.ts';
import { ClientGoneError } from '../../catalog/shared-work.ts';

/**
 * What kind of work a request is, a signal that fires when its client has gone, and
 * when it started: its scope, one object made when it enters the app, on which later
 * middleware records what its reads must see (`consistency`) and what its writes
 * committed (`written`). The routes hand it to what they call: with every statement
 * (server/db/scoped.ts), so the database backends pick the statement timeout (on the
 * embedded backend, a deadline counted from `started`) and cancel abandoned statements,
 * and with every worker task and gate job (its `signal`), so abandoned work is dropped.
 * It is handed over, not found from wherever the code runs: carrying a context through
 * every await (AsyncLocalStorage) makes Node run async hooks for every write and tick of
 * every request, cached tiles included, 5–10 % of what a cached tile costs.
 */
export { WORK_KINDS, type WorkKind } from '../db/types.ts';

export interface RequestScope extends StatementScope {
  kind: WorkKind;
  signal: AbortSignal;
  /**
   * performance.now() when the request's scope began: the embedded backend starts no
   * statement after started + the kind's limit (server/db/deadline.ts). Unset: no
   * deadline (work that outlives its request, see outlivingScope).
   */
  started?: number;
}

const SCOPE = Symbol('the scope of this request');
type Scoped = IncomingMessage & { [SCOPE]?: RequestScope };

/**
 * The scope of request `req`, made when it entered the app (`requestScope`, or the tile
 * fast path for a tile it renders): what its statements and computations are handed.
 * Middleware later in the chain fills in what it owns (`consistency`, `written`).
 */
export function scopeOf(req: IncomingMessage): RequestScope | undefined {
  return (req as Scoped)[SCOPE];
}

/** The kind of work a path is: it chooses the statement timeout. */
export function kindOfPath(path: string): WorkKind {
  if (path.startsWith('/tiles/') || path.startsWith('/maps/')) return 'tiles';
  if (path.startsWith('/analysis/') || path.startsWith('/risk/')) return 'analyses';
  if (path.startsWith('/import/')) return 'imports';
  return 'items';
}

/** An AbortSignal that fires when the client disconnects before the answer was sent. */
export function disconnectSignal(req: IncomingMessage, res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  // Every statement, worker task and shared result the request waits for listens to it, and
  // a request may wait for many at once (the OGC collection list, one per layer): Node's
  // warning of more than 10 would name a leak that is not one, and the signal ends with the request.
  setMaxListeners(0, controller.signal);
  const onClose = () => {
    if (!res.writableFinished) controller.abort(new ClientGoneError());
  };
  res.once('close', onClose);
  req.once('close', () => {
    // An upload that stops half-way closes the request before any answer.
    if (!req.complete && !res.headersSent) controller.abort(new ClientGoneError());
  });
  return controller.signal;
}

/**
 * Makes the scope of request `req` (scopeOf) and returns it. The request's clock starts
 * here, or keeps running when it already has a scope (a tile the fast path failed to
 * render goes on into the app): its time limit bounds the whole request, not each part of it.
 */
export function enterScope(req: IncomingMessage, res: ServerResponse, kind: WorkKind): RequestScope {
  const scope: RequestScope = { kind, signal: disconnectSignal(req, res), started: scopeOf(req)?.started ?? performance.now() };
  (req as Scoped)[SCOPE] = scope;
  return scope;
}

/** Express middleware: the request's scope, its kind from its path. */
export const requestScope: RequestHandler = (req, res, next) => {
  enterScope(req, res, kindOfPath(req.path));
  next();
};

/** Throws when the client of the request `signal` is from has gone, so no further work starts for it. */
export function throwIfGone(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason instanceof ClientGoneError ? signal.reason : new ClientGoneError();
}

const NEVER = new AbortController().signal;

/**
 * `scope` for work that goes on after its request was answered (an asynchronous
 * import job): the kind is kept (PostgreSQL's statement timeout bounds each
 * statement), but neither the client's disconnect signal nor the request's
 * deadline, which would cut the job off half-way once the request's time is up.
 */
export function outlivingScope(scope: StatementScope | undefined): StatementScope | undefined {
  return scope && { ...scope, signal: NEVER, started: undefined };
}

/**
 * `scope` with the request's clock started again: for the database work of a
 * request whose earlier part is bounded otherwise (an import's upload, limited
 * by IMPORT_MAX_MB, and its parsing, by its own budget on a worker), so the time
 * limit of its kind bounds what it asks of the database, as PostgreSQL's
 * statement timeout does, not how slowly the client sent the file.
 */
export function restartedScope(scope: StatementScope | undefined): StatementScope | undefined {
  return scope?.started !== undefined ? { ...scope, started: performance.now() } : scope;
}
