import type { RequestHandler } from 'express';
import type { Db } from '../db/types.ts';
import { requestDb } from '../db/scoped.ts';
import { HttpProblem } from '../http/problem.ts';
import { principalOf } from '../http/principal.ts';
import type { Principal } from '../../catalog/access.ts';
import { clientAddress, addressBucket } from '../http/client-address.ts';
import { markRejected } from '../http/reject.ts';
import { keyDigest, keyIdOf, verifyKey, type Role } from './keys.ts';
import { AuthThrottle } from './throttle.ts';

const RANK: Record<Principal['role'], number> = { anonymous: 0, viewer: 1, editor: 2, admin: 3 };
const CACHE_MS = 60_000;
/** How stale a remembered key's revocation status may be: a revocation made anywhere bites within this. */
const REVOCATION_CHECK_MS = 1_000;
/** Digests of keys that verified at least once, remembered to exempt their holders from key-id lock-outs. */
const MAX_PROVEN = 10_000;

export interface AuthOptions {
  /** Trusted proxy hops for the client address (TRUST_PROXY). */
  trustProxy?: number;
  /** Failed-authentication throttle (server/auth/throttle.ts); a fresh one by default. */
  throttle?: AuthThrottle;
}

/**
 * Reads `Authorization: Bearer <key>` and sets `res.locals.principal`. No header
 * = anonymous (public layers, read only). A header with a bad, unknown or revoked
 * key is refused with 401 rather than silently downgraded, so a misconfigured
 * client notices. Verified keys are remembered for a minute (the hash is slow on
 * purpose), and a revocation reaches every process within a second (stillValid);
 * `forget()` drops them at once.
 */
interface Remembered {
  principal: Principal;
  keyId: string;
  until: number;
  /** When the key was last seen unrevoked in the database. */
  checkedAt: number;
  checking?: Promise<boolean>;
}

/**
 * A remembered key skips the slow hash, not the revocation check: at most once a
 * second per key it asks the database whether the key was revoked (by the CLI,
 * by another process). If the database cannot answer, the key stays remembered
 * until its minute is up rather than failing a caller who proved it.
 */
function stillValid(db: Db, hit: Remembered): Promise<boolean> | boolean {
  if (Date.now() - hit.checkedAt < REVOCATION_CHECK_MS) return true;
  hit.checking ??= db
    .query<{ revoked: boolean }>('SELECT revoked_at IS NOT NULL AS revoked FROM api_keys WHERE id = $1', [hit.keyId])
    .then(
      ({ rows }) => {
        if (!rows[0] || rows[0].revoked) return false;
        hit.checkedAt = Date.now();
        return true;
      },
      () => true,
    )
    .finally(() => (hit.checking = undefined));
  return hit.checking;
}

export function authenticate(db: Db, options: AuthOptions = {}): RequestHandler & { forget(): void } {
  const verified = new Map<string, Remembered>();
  const proven = new Set<string>();
  const throttle = options.throttle ?? new AuthThrottle();
  const handler: RequestHandler = async (req, res, next) => {
    const header = req.get('authorization');
    if (!header) return next();
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const digest = m ? keyDigest(m[1]) : '';
    const hit = verified.get(digest);
    // The key's lookups are the request's statements: its statement timeout, cancelled when its client leaves.
    const own = requestDb(db, req);
    if (hit && hit.until > Date.now() && (await stillValid(own, hit))) {
      res.locals.principal = hit.principal;
      res.locals.keyId = hit.keyId;
      return next();
    }
    if (hit) verified.delete(digest);
    // Failed attempts are throttled before any hashing or database work.
    const address = addressBucket(clientAddress(req, options.trustProxy ?? 0));
    const keyId = m ? keyIdOf(m[1]) : undefined;
    const wait = throttle.retryAfter(address, keyId, proven.has(digest));
    if (wait > 0) {
      res.set('Retry-After', String(wait));
      markRejected(res, 'auth_throttle');
      return next(
        new HttpProblem(429, 'Too many failed authentications', `too many failed attempts with this key or from this address; retry in ${wait} s`, [
          { name: 'Authorization', reason: `retry after ${wait} s` },
        ]),
      );
    }
    if (!m) {
      throttle.failed(address, undefined);
      return next(unauthorized('the Authorization header must be "Bearer <api key>"'));
    }
    const record = await verifyKey(own, m[1]);
    if (!record) {
      throttle.failed(address, keyId);
      return next(unauthorized('the API key is unknown, malformed or revoked'));
    }
    throttle.succeeded(record.id);
    if (proven.size >= MAX_PROVEN) proven.clear();
    proven.add(digest);
    const principal: Principal = {
      canSeeRestricted: true,
      role: record.role,
      actor: `key:${record.id} (${record.name})`,
      districts: record.districts,
    };
    verified.set(digest, { principal, keyId: record.id, until: Date.now() + CACHE_MS, checkedAt: Date.now() });
    res.locals.principal = principal;
    res.locals.keyId = record.id;
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
