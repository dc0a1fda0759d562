import type { IncomingMessage, ServerResponse } from 'node:http';

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
