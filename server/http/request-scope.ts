import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import type { StatementScope, WorkKind } from '../db/types.ts';
import { currentContext, runWithContext } from './request-context.ts';

/**
 * What kind of work a request is, a signal that fires when its client has
 * gone, and when it started. Carried with the request through every await (its context,
 * server/http/request-context.ts), so
 * the database backends pick their statement timeout (on the embedded backend,
 * a deadline counted from `started`) and cancel abandoned statements, and the worker pool drops abandoned tasks, without every call
 * site passing them along.
 */
export { WORK_KINDS, type WorkKind } from '../db/types.ts';

export interface RequestScope extends StatementScope {
  kind: WorkKind;
  signal: AbortSignal;
  /**
   * performance.now() when the request's scope began: the embedded backend starts no
   * statement after started + the kind's limit (server/db/deadline.ts). Unset: no
   * deadline (work that outlives its request, see outlivingRequest).
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

/** The scope of the request being served, if any (start-up and background work have none). */
export function currentScope(): RequestScope | undefined {
  const context = currentContext();
  return context?.kind && context.signal ? (context as RequestScope) : undefined;
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
 * Runs `fn` (and everything it awaits) in the scope of one request; the rest of its context is kept.
 * The request's clock starts here, or keeps running when it is already in a scope: its time limit
 * bounds the whole request, not each part of it.
 */
export function runInScope<T>(req: IncomingMessage, res: ServerResponse, kind: WorkKind, fn: () => T): T {
  const scope: RequestScope = { kind, signal: disconnectSignal(req, res), started: scopeOf(req)?.started ?? currentScope()?.started ?? performance.now() };
  (req as Scoped)[SCOPE] = scope;
  return runWithContext(scope, fn);
}

/** Express middleware: the rest of the chain runs in the request's scope. */
export const requestScope: RequestHandler = (req, res, next) => {
  runInScope(req, res, kindOfPath(req.path), next);
};

/** Why work was dropped: nobody is waiting for the answer any more. */
export class ClientGoneError extends Error {
  readonly code = 'CLIENT_GONE';
  constructor() {
    super('the client disconnected before the answer was ready');
    this.name = 'AbortError';
  }
}

/** Throws when the current request's client has gone, so no further work starts for it. */
export function throwIfGone(signal: AbortSignal | undefined = currentScope()?.signal): void {
  if (signal?.aborted) throw signal.reason instanceof ClientGoneError ? signal.reason : new ClientGoneError();
}

const NEVER = new AbortController().signal;

/**
 * Runs `fn` keeping the current kind (statement timeout) and start (the
 * embedded backend's deadline), with `signal` in place of the client's
 * disconnect signal: for a computation shared by several requests through a
 * cache, which one leaving client must not cancel for the others, and which
 * the cache stops (`signal`) when the last of them has left.
 */
export function sharedByClients<T>(signal: AbortSignal, fn: () => T): T {
  return currentScope() ? runWithContext({ signal }, fn) : fn();
}

/**
 * Runs `fn` as work that goes on after its request was answered (an asynchronous
 * import job): the kind is kept (PostgreSQL's statement timeout bounds each
 * statement), but neither the client's disconnect signal nor the request's
 * deadline, which would cut the job off half-way once the request's time is up.
 */
export function outlivingRequest<T>(fn: () => T): T {
  return currentScope() ? runWithContext({ signal: NEVER, started: undefined }, fn) : fn();
}

/**
 * Runs `fn` with the request's clock started again: for the database work of a
 * request whose earlier part is bounded otherwise (an import's upload, limited
 * by IMPORT_MAX_MB, and its parsing, by its own budget on a worker), so the time
 * limit of its kind bounds what it asks of the database, as PostgreSQL's
 * statement timeout does, not how slowly the client sent the file.
 */
export function restartClock<T>(fn: () => T): T {
  const scope = currentScope();
  return scope?.started !== undefined ? runWithContext({ started: performance.now() }, fn) : fn();
}
