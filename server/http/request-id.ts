import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setRequestHeader, type EdgeHook } from './edge.ts';

/**
 * A request id from a proxy is kept when it is sane (1-128 characters of
 * letters, digits and `._:-`), so one id follows a request through the proxy's
 * and our logs; anything else (absent, too long, spaces, control characters)
 * is replaced by a fresh id rather than echoed into headers and logs.
 *
 * A fresh id is 16 random bytes in hexadecimal, as nginx's `$request_id`: as
 * unique as a UUID, where `randomUUID` joins 19 pieces in JavaScript on every
 * answer, cached tiles included.
 */
const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const ID = Symbol('onemap.requestId');

type WithId = IncomingMessage & { [ID]?: string };

/**
 * Random bytes for 256 ids in hexadecimal, made in one call when used up; an id
 * is a slice of it (no copy), where one native call per id cost as much again.
 */
let hex = '';
let used = 0;

function freshId(): string {
  if (used === hex.length) {
    hex = randomBytes(16 * 256).toString('hex');
    used = 0;
  }
  const id = hex.slice(used, used + 32);
  used += 32;
  return id;
}

/** Edge hook: gives every request an id and answers it in `X-Request-Id`. */
export const requestIdHook: EdgeHook = (req: IncomingMessage, res: ServerResponse) => {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && SANE_ID.test(incoming) ? incoming : freshId();
  (req as WithId)[ID] = id;
  // Per request: a cached tile must not replay the id of the request that filled the cache.
  setRequestHeader(res, 'X-Request-Id', id);
  return false;
};

/** The id given by requestIdHook (undefined outside an app with the edge). */
export function requestIdOf(req: IncomingMessage): string | undefined {
  return (req as WithId)[ID];
}

