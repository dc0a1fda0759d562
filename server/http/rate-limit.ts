import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import { answerProblem, setRequestHeader, type EdgeHook } from './edge.ts';
import { addressBucket, clientAddress } from './client-address.ts';
import { HttpProblem } from './problem.ts';
import { markRejected } from './reject.ts';

const WINDOW_MS = 60_000;
/** Clients tracked per window at most; beyond, new ones share one budget (a flood of addresses). */
const MAX_TRACKED = 100_000;
const OVERFLOW = '*';

/**
 * A sliding-window counter per client: the count of the current fixed minute
 * plus the previous minute's, weighted by how much of it still lies in the last
 * 60 s. Two Maps swapped at each minute boundary, so old clients fall out with
 * no timers or per-entry timestamps; one Map lookup and write per request.
 */
export class SlidingWindowLimiter {
  private current = new Map<string, number>();
  private previous = new Map<string, number>();
  private windowIndex = 0;
  /** After `take`: requests left in the window, and seconds until it has room again. */
  remaining = 0;
  resetSeconds = 0;

  constructor(
    readonly limit: number,
    private readonly windowMs = WINDOW_MS,
  ) {}

  /** Counts one request for `key` and returns true when it is within the limit. */
  take(key: string, now = Date.now()): boolean {
    const index = Math.floor(now / this.windowMs);
    if (index !== this.windowIndex) {
      const old = this.previous;
      old.clear();
      if (index === this.windowIndex + 1) {
        this.previous = this.current;
        this.current = old;
      } else {
        this.current.clear();
      }
      this.windowIndex = index;
    }
    const elapsed = now - index * this.windowMs;
    const weight = 1 - elapsed / this.windowMs;
    let bucket = key;
    let current = this.current.get(bucket);
    if (current === undefined && this.current.size >= MAX_TRACKED) {
      bucket = OVERFLOW;
      current = this.current.get(bucket);
    }
    current ??= 0;
    const previous = this.previous.get(bucket) ?? 0;
    const used = previous * weight + current;
    const windowLeft = Math.ceil((this.windowMs - elapsed) / 1000);
    if (used + 1 > this.limit) {
      this.remaining = 0;
      // When the previous minute still weighs, its share shrinks steadily: wait
      // until enough of it has slid out; otherwise wait for the next minute.
      const excess = used + 1 - this.limit;
      this.resetSeconds =
        current + 1 <= this.limit && previous > 0 ? Math.max(1, Math.ceil(((excess / previous) * this.windowMs) / 1000)) : Math.max(1, windowLeft);
      return false;
    }
    this.current.set(bucket, current + 1);
    this.remaining = Math.max(0, Math.floor(this.limit - used - 1));
    this.resetSeconds = Math.max(1, windowLeft);
    return true;
  }

  /** Clients counted in the current minute (for metrics and tests). */
  get tracked(): number {
    return this.current.size;
  }
}

/**
 * The IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers-09):
 * `RateLimit-Policy: "addr";q=6000;w=60` names the quota, `RateLimit:
 * "addr";r=5999;t=42` what is left and when the window has room again.
 */
function setRateLimitHeaders(res: ServerResponse, name: string, limiter: SlidingWindowLimiter): void {
  // Per request: cached tiles must not replay another request's quota.
  setRequestHeader(res, 'RateLimit-Policy', `"${name}";q=${limiter.limit};w=${WINDOW_MS / 1000}`);
  setRequestHeader(res, 'RateLimit', `"${name}";r=${limiter.remaining};t=${limiter.resetSeconds}`);
}

function tooMany(name: string, limiter: SlidingWindowLimiter): { detail: string; param: string } {
  return name === 'key'
    ? { param: 'Authorization', detail: `this API key may make ${limiter.limit} requests per minute; retry in ${limiter.resetSeconds} s` }
    : { param: 'client address', detail: `one address may make ${limiter.limit} requests per minute; retry in ${limiter.resetSeconds} s` };
}

/**
 * Edge hook: the per-address limit for anonymous requests, cached tiles
 * included. Requests carrying credentials are counted per API key once the key
 * is verified (limitPerKey), and their failures by the auth throttle, so
 * staff behind one NAT do not share the public's budget.
 */
export function addressRateLimit(limit: number, trustProxy: number): EdgeHook | null {
  if (limit === 0) return null;
  const limiter = new SlidingWindowLimiter(limit);
  return (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers.authorization !== undefined) return false;
    const allowed = limiter.take(addressBucket(clientAddress(req, trustProxy)));
    setRateLimitHeaders(res, 'addr', limiter);
    if (allowed) return false;
    const { detail, param } = tooMany('addr', limiter);
    setRequestHeader(res, 'Retry-After', String(limiter.resetSeconds));
    markRejected(res, 'rate_limit');
    return answerProblem(req, res, new HttpProblem(429, 'Too many requests', detail, [{ name: param, reason: `${limit} requests per minute` }]), ['Cache-Control', 'no-store']);
  };
}

/** Express middleware after authentication: the per-key limit (res.locals.keyId). */
export function limitPerKey(limit: number): RequestHandler {
  if (limit === 0) return (_req, _res, next) => next();
  const limiter = new SlidingWindowLimiter(limit);
  return (_req, res, next) => {
    const keyId = res.locals.keyId as string | undefined;
    if (!keyId) return next();
    const allowed = limiter.take(keyId);
    setRateLimitHeaders(res, 'key', limiter);
    if (allowed) return next();
    const { detail, param } = tooMany('key', limiter);
    setRequestHeader(res, 'Retry-After', String(limiter.resetSeconds));
    markRejected(res, 'rate_limit');
    next(new HttpProblem(429, 'Too many requests', detail, [{ name: param, reason: `${limit} requests per minute` }]));
  };
}
