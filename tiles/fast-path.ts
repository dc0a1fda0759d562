import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CachedTile, TileCache } from './cache.ts';

/**
 * Cached tiles answered before Express routes the request.
 *
 * Express spends tens of microseconds per request before the first handler runs
 * (swapping the prototypes of req/res, walking the middleware stack), several
 * times what a cached tile costs to send. Installed on the top-level app, this
 * hook answers a GET/HEAD for a cached public tile straight from the cache with
 * the headers prepared when the tile was cached; every other request — misses,
 * callers with an Authorization header, requests whose principal an outer app
 * already set — continues into Express untouched.
 *
 * Only anonymous entries are eligible; an entry cached behind middleware that set
 * `Vary` or `Set-Cookie` (request-dependent answers) is never replayed here.
 */

export const ANONYMOUS_KEY_PREFIX = 'a:';

export interface FastPathStats {
  answered: number;
}

/** Answers from the cache when it can; false = let Express handle the request. */
export function answerFromCache(cache: TileCache, req: IncomingMessage, res: ServerResponse, stats?: FastPathStats): boolean {
  const method = req.method;
  if (method !== 'GET' && method !== 'HEAD') return false;
  const url = req.url;
  if (!url || !url.startsWith('/tiles/')) return false;
  if (req.headers.authorization !== undefined) return false;
  if ((res as ServerResponse & { locals?: { principal?: unknown } }).locals?.principal !== undefined) return false;
  const entry = cache.get(ANONYMOUS_KEY_PREFIX + url);
  if (!entry || !entry.replayable) return false;
  if (stats) stats.answered++;
  sendCached(entry, req, res, true);
  return true;
}

/** Writes a cached (or just rendered) tile: 304 when If-None-Match matches, else the tile. */
export function sendCached(entry: CachedTile, req: IncomingMessage, res: ServerResponse, hit: boolean): void {
  const inm = req.headers['if-none-match'];
  if (inm && etagMatches(inm, entry.etag)) {
    res.writeHead(304, entry.notModifiedHeaders);
    res.end();
    return;
  }
  res.writeHead(entry.status, hit ? entry.headers : { ...entry.headers, 'X-Tile-Cache': 'miss' });
  if (req.method === 'HEAD' || entry.status === 204) res.end();
  else res.end(entry.body);
}

/** RFC 9110 If-None-Match: `*` or a list of entity tags, compared weakly. */
export function etagMatches(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === bare);
}

type Handle = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void;

/**
 * Puts the cache in front of `app`'s request handling. Express's app function
 * calls `app.handle` for every request, so wrapping it is the earliest point
 * inside the app: no change to how the server is created or listened on.
 */
export function installFastPath(app: { handle: Handle }, cache: TileCache, stats?: FastPathStats): () => void {
  const handle = app.handle;
  const fast: Handle = function tileFastPath(this: unknown, req, res, next) {
    if (answerFromCache(cache, req, res, stats)) return;
    handle.call(this, req, res, next);
  };
  app.handle = fast;
  // Returns the way back (benches compare with and without).
  return () => {
    if (app.handle === fast) app.handle = handle;
  };
}
