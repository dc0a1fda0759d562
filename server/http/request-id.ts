import { randomUUID } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { EdgeHook } from './edge.ts';

/**
 * A request id from a proxy is kept when it is sane (1-128 characters of
 * letters, digits and `._:-`), so one id follows a request through the proxy's
 * and our logs; anything else (absent, too long, spaces, control characters)
 * is replaced by a fresh UUID rather than echoed into headers and logs.
 */
const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const ID = Symbol('onemap.requestId');

type WithId = IncomingMessage & { [ID]?: string };

/** Edge hook: gives every request an id and answers it in `X-Request-Id`. */
export const requestIdHook: EdgeHook = (req: IncomingMessage, res: ServerResponse) => {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && SANE_ID.test(incoming) ? incoming : randomUUID();
  (req as WithId)[ID] = id;
  res.setHeader('X-Request-Id', id);
  return false;
};

/** The id given by requestIdHook (undefined outside an app with the edge). */
export function requestIdOf(req: IncomingMessage): string | undefined {
  return (req as WithId)[ID];
}

/**
 * Headers the edge hooks set for one request only (its id, its rate-limit
 * state). Whatever caches an answer with the headers already set (the tile
 * cache replays them) must leave these out, or every later answer would carry
 * the first request's id and quota.
 */
const PER_REQUEST = new Set(['x-request-id', 'ratelimit', 'ratelimit-policy', 'retry-after']);

export function replayableHeaders(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (!PER_REQUEST.has(name.toLowerCase())) out[name] = value;
  return out;
}
