import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { PROBLEM_TYPE, problemJson } from './errors.ts';
import type { HttpProblem } from './problem.ts';

/**
 * Hooks that run for every request before anything else in the app, the tile
 * fast path included: tiles/fast-path.ts answers cached public tiles before
 * Express routing, so Express middleware never sees those requests. Request
 * ids, security headers, CORS, size and rate limits and metrics therefore live
 * here, where no answer can escape them.
 *
 * A hook returns true when it has answered the request itself (a 413, a 429, a
 * CORS preflight); the hooks after it and the app are then skipped. Hooks are
 * synchronous and cheap: they run on every cached tile too.
 */
export type EdgeHook = (req: IncomingMessage, res: ServerResponse) => boolean;

type Handle = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void;

/**
 * Wraps `app.handle` so the hooks run first. Call it after every route is
 * mounted: the tile routes install their fast path on mount, and the edge must
 * sit outside it.
 */
export function installEdge(app: object, hooks: readonly EdgeHook[]): void {
  const target = app as { handle: Handle };
  const inner = target.handle;
  target.handle = function edge(this: unknown, req, res, next) {
    for (const hook of hooks) if (hook(req, res)) return;
    inner.call(this, req, res, next);
  };
}

const PER_REQUEST = Symbol('headers an edge hook set for this request only');
type Marked = ServerResponse & { [PER_REQUEST]?: string[] };

/**
 * Sets a header that depends on this request (CORS answers one origin), and
 * remembers it: answers cached for replay to other callers (tiles) are built
 * from `appHeaders`, which leaves such headers out.
 */
export function setRequestHeader(res: ServerResponse, name: string, value: string): void {
  res.setHeader(name, value);
  ((res as Marked)[PER_REQUEST] ??= []).push(name.toLowerCase());
}

/** The headers set so far, without the per-request ones of the edge. */
export function appHeaders(res: ServerResponse): OutgoingHttpHeaders {
  const headers = res.getHeaders();
  for (const name of (res as Marked)[PER_REQUEST] ?? []) delete headers[name];
  return headers;
}

/** Answers with a problem+json from a hook (before Express: no res.status/res.type here). */
export function answerProblem(req: IncomingMessage, res: ServerResponse, problem: HttpProblem, extraHeaders: OutgoingHttpHeaders = {}): true {
  const body = problemJson(problem, req.url);
  res.writeHead(problem.status, { ...extraHeaders, 'Content-Type': PROBLEM_TYPE, 'Content-Length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}
