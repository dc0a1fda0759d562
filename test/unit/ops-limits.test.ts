import { describe, expect, it } from 'vitest';
import type { IncomingMessage } from 'node:http';
import { SlidingWindowLimiter } from '../../server/http/rate-limit.ts';
import { addressBucket, clientAddress } from '../../server/http/client-address.ts';
import { AuthThrottle, DEFAULT_THROTTLE } from '../../server/auth/throttle.ts';

const MIN = 60_000;

describe('SlidingWindowLimiter', () => {
  it('allows the limit per minute, then says how long to wait', () => {
    const l = new SlidingWindowLimiter(3);
    const t0 = 10 * MIN; // the start of a window
    expect([l.take('a', t0), l.take('a', t0 + 1), l.take('a', t0 + 2)]).toEqual([true, true, true]);
    expect(l.remaining).toBe(0);
    expect(l.take('a', t0 + 1000)).toBe(false);
    expect(l.resetSeconds).toBe(59);
    expect(l.take('b', t0 + 1000)).toBe(true); // another client is unaffected
  });

  it('weighs the previous minute by how much of it is still within the last 60 s', () => {
    const l = new SlidingWindowLimiter(10);
    const t0 = 20 * MIN;
    for (let i = 0; i < 10; i++) expect(l.take('a', t0 + i)).toBe(true);
    // A quarter into the next minute, 75 % of the previous 10 still count: 2 more fit.
    const t1 = t0 + MIN + MIN / 4;
    expect([l.take('a', t1), l.take('a', t1), l.take('a', t1)]).toEqual([true, true, false]);
    // Refused requests do not count: half-way through, 5 of the old 10 plus 2 = 7, 3 more fit.
    const t2 = t0 + MIN + MIN / 2;
    expect([l.take('a', t2), l.take('a', t2), l.take('a', t2), l.take('a', t2)]).toEqual([true, true, true, false]);
    // Two minutes of silence forget everything.
    for (let i = 0; i < 10; i++) expect(l.take('a', t0 + 4 * MIN)).toBe(true);
  });

  it('waits for the previous minute to slide out, not for a whole minute', () => {
    const l = new SlidingWindowLimiter(10);
    const t0 = 30 * MIN;
    for (let i = 0; i < 10; i++) l.take('a', t0);
    expect(l.take('a', t0 + MIN)).toBe(false);
    expect(l.resetSeconds).toBeGreaterThanOrEqual(6);
    expect(l.resetSeconds).toBeLessThanOrEqual(7);
    expect(l.take('a', t0 + MIN + l.resetSeconds * 1000)).toBe(true);
  });
});

describe('client address', () => {
  const req = (remote: string, xff?: string) => ({ socket: { remoteAddress: remote }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as unknown as IncomingMessage;
  it('ignores X-Forwarded-For without trusted proxies and counts hops from the right with them', () => {
    expect(clientAddress(req('10.0.0.1', '1.1.1.1'), 0)).toBe('10.0.0.1');
    expect(clientAddress(req('10.0.0.1', '6.6.6.6, 2.2.2.2'), 1)).toBe('2.2.2.2');
    expect(clientAddress(req('10.0.0.1', '6.6.6.6, 2.2.2.2, 10.0.0.2'), 2)).toBe('2.2.2.2');
    expect(clientAddress(req('10.0.0.1', '2.2.2.2'), 3)).toBe('2.2.2.2');
    expect(clientAddress(req('10.0.0.1'), 1)).toBe('10.0.0.1');
  });
  it('buckets IPv6 by /64 and unwraps IPv4-mapped addresses', () => {
    expect(addressBucket('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(addressBucket('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressBucket('2001:0db8:0001:0002:ffff:1:2:3')).toBe('2001:db8:1:2::/64');
    expect(addressBucket('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressBucket('::1')).toBe('0:0:0:0::/64');
    expect(addressBucket('203.0.113.5')).toBe('203.0.113.5');
  });
});

describe('AuthThrottle', () => {
  it('caps a key id lock at a minute and an address lock at 15 minutes, and forgets after 15 quiet minutes', () => {
    const t = new AuthThrottle();
    const now = 1_000_000;
    for (let i = 0; i < 40; i++) t.failed('1.2.3.4', 'abcdefabcdef', now);
    expect(t.retryAfter('9.9.9.9', 'abcdefabcdef', false, now)).toBe(DEFAULT_THROTTLE.keyMaxLockMs / 1000);
    expect(t.retryAfter('1.2.3.4', undefined, false, now)).toBe(DEFAULT_THROTTLE.addressMaxLockMs / 1000);
    expect(t.retryAfter('9.9.9.9', 'abcdefabcdef', true, now)).toBe(0); // a proven holder
    expect(t.retryAfter('1.2.3.4', undefined, false, now + DEFAULT_THROTTLE.forgetMs + 1)).toBe(0);
  });
  it('a success forgives the key id, not the address', () => {
    const t = new AuthThrottle();
    for (let i = 0; i < 7; i++) t.failed('1.2.3.4', 'k', 0);
    t.succeeded('k');
    expect(t.retryAfter('5.6.7.8', 'k', false, 0)).toBe(0);
    expect(t.retryAfter('1.2.3.4', 'k', false, 0)).toBeGreaterThan(0);
  });
});
