import type { RequestHandler } from 'express';
import type { Db } from '../db/types.ts';
import { HttpProblem } from '../http/problem.ts';
import { principalOf } from '../http/principal.ts';
import type { Principal } from '../../tiles/layers.ts';
import { keyDigest, verifyKey, type Role } from './keys.ts';

const RANK: Record<Principal['role'], number> = { anonymous: 0, viewer: 1, editor: 2, admin: 3 };
const CACHE_MS = 60_000;

/**
 * Reads `Authorization: Bearer <key>` and sets `res.locals.principal`. No header
 * = anonymous (public layers, read only). A header with a bad, unknown or revoked
 * key is refused with 401 rather than silently downgraded, so a misconfigured
 * client notices. Verified keys are remembered for a minute (the hash is slow on
 * purpose); `forget()` drops them when keys are revoked.
 */
export function authenticate(db: Db): RequestHandler & { forget(): void } {
  const verified = new Map<string, { principal: Principal; until: number }>();
  const handler: RequestHandler = async (req, res, next) => {
    const header = req.get('authorization');
    if (!header) return next();
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return next(unauthorized('the Authorization header must be "Bearer <api key>"'));
    const digest = keyDigest(m[1]);
    const hit = verified.get(digest);
    if (hit && hit.until > Date.now()) {
      res.locals.principal = hit.principal;
      return next();
    }
    const record = await verifyKey(db, m[1]);
    if (!record) return next(unauthorized('the API key is unknown, malformed or revoked'));
    const principal: Principal = {
      canSeeRestricted: true,
      role: record.role,
      actor: `key:${record.id} (${record.name})`,
      districts: record.districts,
    };
    verified.set(digest, { principal, until: Date.now() + CACHE_MS });
    res.locals.principal = principal;
    next();
  };
  return Object.assign(handler, { forget: () => verified.clear() });
}

function unauthorized(detail: string): HttpProblem {
  return new HttpProblem(401, 'Unauthorized', detail, [{ name: 'Authorization', reason: 'Bearer <api key>' }]);
}

/** 401 for anonymous callers, 403 for a role below `role`. */
export function requireRole(role: Role): RequestHandler {
  return (req, _res, next) => {
    const who = principalOf(req);
    if (who.role === 'anonymous') return next(unauthorized(`this operation needs an API key with role ${role} or higher`));
    if (RANK[who.role] < RANK[role]) return next(new HttpProblem(403, 'Forbidden', `role ${who.role} may not do this; ${role} or higher is needed`));
    next();
  };
}
