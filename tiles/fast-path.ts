import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { CachedTile, TileCache, TileVariant } from './cache.ts';
import { encodeBody, MIN_COMPRESS_BYTES, negotiateEncoding } from './content-encoding.ts';
import { ANONYMOUS_KEY_PREFIX } from './cache-key.ts';

/**
 * Public tiles answered before Express routes the request.
 *
 * Express spends tens of microseconds per request before the first handler runs
 * (swapping the prototypes of req/res, walking the middleware stack), several
 * times what a cached tile costs to send. Installed on the top-level app, this
 * hook answers a GET/HEAD for a cached public tile straight from the cache with
 * the headers prepared when the tile was cached, and hands a well-formed public
 * tile request that missed to the tile service directly. Every other request —
 * callers with an Authorization header, requests whose principal an outer app
 * already set, requests sending a Consistency-Token (checked, and waited for on
 * a read replica, by server/http/consistency-token.ts), anything that does not
 * parse — continues into Express untouched.
 * App-wide middleware therefore does not see these requests.
 *
 * Only anonymous entries are eligible; an entry cached behind middleware that set
 * `Vary` or `Set-Cookie` (request-dependent answers) is never replayed here.
 */

export interface FastPathStats {
  answered: number;
}

/**
 * Writes an answer's head: `headers` is its own header list, `[name, value, …]`.
 * The server passes one that adds the headers of its edge (security headers,
 * request id, CORS, rate limit; server/http/edge.ts `writeEdgeHead`).
 */
export type HeadWriter = (res: ServerResponse, status: number, headers: readonly string[]) => void;

/** The plain head: the answer's own headers. */
export const plainHead: HeadWriter = (res, status, headers) => {
  res.writeHead(status, headers as string[]);
};

/** Answers from the cache when it can; false = let Express handle the request. */
export function answerFromCache(cache: TileCache, req: IncomingMessage, res: ServerResponse, stats?: FastPathStats, write: HeadWriter = plainHead): boolean {
  if (!eligible(req, res)) return false;
  const entry = cache.get(ANONYMOUS_KEY_PREFIX + req.url);
  if (!entry || !entry.replayable) return false;
  if (stats) stats.answered++;
  sendCached(entry, req, res, true, cache, write);
  return true;
}

/**
 * Writes a cached (or just rendered) tile in the encoding the request accepts:
 * 304 when If-None-Match matches that encoding's ETag, else the tile.
 */
export function sendCached(entry: CachedTile, req: IncomingMessage, res: ServerResponse, hit: boolean, cache?: TileCache, write: HeadWriter = plainHead): void {
  const accept = req.headers['accept-encoding'];
  const form = accept === undefined ? entry : variantOf(entry, negotiateEncoding(accept), cache);
  const inm = req.headers['if-none-match'];
  if (inm !== undefined && etagMatches(inm, form.etag)) {
    write(res, 304, (form.notModifiedList ??= headerList(form.notModifiedHeaders)));
    res.end();
    return;
  }
  const list = (form.headerList ??= headerList(form.headers));
  write(res, entry.status, hit ? list : headerList({ ...form.headers, 'X-Tile-Cache': 'miss' }));
  if (req.method === 'HEAD' || entry.status === 204) res.end();
  else res.end(form.body);
}

/** Headers as the list `writeHead` takes as it is, `[name, value, …]`. */
function headerList(headers: OutgoingHttpHeaders): string[] {
  const list: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) list.push(name, v);
    else list.push(name, String(value));
  }
  return list;
}

/**
 * The tile in `encoding`: compressed on the first request for it, then kept in the
 * entry (and counted by the cache), so hits never compress. Empty and tiny tiles go as they are.
 */
export function variantOf(entry: CachedTile, encoding: 'br' | 'gzip' | 'identity', cache?: TileCache): TileVariant | CachedTile {
  if (encoding === 'identity' || entry.status !== 200 || entry.body.length < MIN_COMPRESS_BYTES) return entry;
  const known = entry.variants?.[encoding];
  if (known) return known;
  const body = encodeBody(entry.body, encoding);
  // A strong ETag per representation (RFC 9110 §8.8.3): the identity tag plus the coding.
  const etag = `${entry.etag.slice(0, -1)}-${encoding}"`;
  const variant: TileVariant = {
    body,
    etag,
    headers: { ...entry.headers, ETag: etag, 'Content-Encoding': encoding, 'Content-Length': String(body.length) },
    notModifiedHeaders: { ...entry.notModifiedHeaders, ETag: etag },
  };
  (entry.variants ??= {})[encoding] = variant;
  cache?.grew(entry, body.length);
  return variant;
}

/** RFC 9110 If-None-Match: `*` or a list of entity tags, compared weakly. */
export function etagMatches(header: string, etag: string): boolean {
  if (header === etag) return true;
  if (header.trim() === '*') return true;
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === bare);
}

type Handle = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void;

/**
 * Renders a public tile that missed the cache without going through Express.
 * Returns false to leave the request to Express (anything it cannot parse: the
 * route then answers it, errors included); once it returns true it owns the
 * response and calls `fallback` if rendering fails, so the error still takes
 * the app's one error path.
 */
export type MissHandler = (req: IncomingMessage, res: ServerResponse, fallback: () => void) => boolean;

/**
 * Puts the cache in front of `app`'s request handling. Express's app function
 * calls `app.handle` for every request, so wrapping it is the earliest point
 * inside the app: no change to how the server is created or listened on.
 */
export function installFastPath(app: { handle: Handle }, cache: TileCache, stats?: FastPathStats, miss?: MissHandler, write: HeadWriter = plainHead): () => void {
  const handle = app.handle;
  let on = true;
  app.handle = function tileFastPath(this: unknown, req, res, next) {
    if (on && answerFromCache(cache, req, res, stats, write)) return;
    if (on && miss && eligible(req, res) && miss(req, res, () => handle.call(this, req, res, next))) return;
    handle.call(this, req, res, next);
  };
  // The way back (benches compare with and without); the hook stays in place, other
  // wrappers (server/http/edge.ts) may sit outside it.
  return () => {
    on = false;
  };
}

/** Anonymous GET/HEAD of a tile: what the fast path may answer. */
function eligible(req: IncomingMessage, res: ServerResponse): boolean {
  return (
    (req.method === 'GET' || req.method === 'HEAD') &&
    !!req.url?.startsWith('/tiles/') &&
    req.headers.authorization === undefined &&
    req.headers['consistency-token'] === undefined &&
    (res as ServerResponse & { locals?: { principal?: unknown } }).locals?.principal === undefined
  );
}
