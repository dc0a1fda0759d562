import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setRequestHeader, type EdgeHook } from './edge.ts';

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
  // Per request: a cached tile must not replay the id of the request that filled the cache.
  setRequestHeader(res, 'X-Request-Id', id);
  return false;
};

/** The id given by requestIdHook (undefined outside an app with the edge). */
export function requestIdOf(req: IncomingMessage): string | undefined {
  return (req as WithId)[ID];
}

