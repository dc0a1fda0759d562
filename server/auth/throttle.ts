/**
 * Failed-authentication throttle. Every forged secret against a real key id
 * costs one scrypt (tens per second per core), so guessing is both a brute
 * force and a CPU flood. Failures are counted per client address and per key
 * id; after a few free ones each further failure locks that address / key id
 * out for twice as long as the last (exponential back-off), up to a cap.
 * Refused attempts do not run scrypt or touch the database.
 *
 * The trade-off: a per-key-id lock-out lets an attacker who knows a key id
 * keep that key's holder out. So the key-id lock is short (KEY_MAX_LOCK_MS),
 * and a caller presenting a key that already verified in this process (its
 * digest is remembered, which proves it holds the secret) passes the key-id
 * lock entirely; the per-address lock is long but only hits the attacker's
 * own address (or addresses sharing it behind a NAT: run with TRUST_PROXY).
 */
export interface ThrottleOptions {
  /** Failures allowed before the first lock. */
  free: number;
  /** First lock; each further failure doubles it. */
  baseLockMs: number;
  /** Longest lock for an address. */
  addressMaxLockMs: number;
  /** Longest lock for a key id (short: the real holder may be waiting). */
  keyMaxLockMs: number;
  /** A record with no failure for this long is forgotten. */
  forgetMs: number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = {
  free: 5,
  baseLockMs: 1000,
  addressMaxLockMs: 15 * 60_000,
  keyMaxLockMs: 60_000,
  forgetMs: 15 * 60_000,
};

interface Failures {
  count: number;
  lockedUntil: number;
  last: number;
}

/** Entries kept per table at most; the oldest go first (Map keeps insertion order). */
const MAX_ENTRIES = 50_000;

class FailureTable {
  private readonly entries = new Map<string, Failures>();
  constructor(
    private readonly options: ThrottleOptions,
    private readonly maxLockMs: number,
  ) {}

  /** Milliseconds `key` must still wait; 0 = may try. */
  waitMs(key: string, now: number): number {
    const f = this.entries.get(key);
    if (!f) return 0;
    if (now - f.last > this.options.forgetMs) {
      this.entries.delete(key);
      return 0;
    }
    return Math.max(0, f.lockedUntil - now);
  }

  fail(key: string, now: number): void {
    let f = this.entries.get(key);
    if (f && now - f.last > this.options.forgetMs) f = undefined;
    if (!f) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
      f = { count: 0, lockedUntil: 0, last: now };
    }
    this.entries.delete(key); // re-insert: most recent last, oldest evicted first
    f.count++;
    f.last = now;
    const over = f.count - this.options.free;
    if (over > 0) f.lockedUntil = now + Math.min(this.maxLockMs, this.options.baseLockMs * 2 ** Math.min(over - 1, 30));
    this.entries.set(key, f);
  }

  forget(key: string): void {
    this.entries.delete(key);
  }
}

export class AuthThrottle {
  private readonly addresses: FailureTable;
  private readonly keyIds: FailureTable;

  constructor(options: ThrottleOptions = DEFAULT_THROTTLE) {
    this.addresses = new FailureTable(options, options.addressMaxLockMs);
    this.keyIds = new FailureTable(options, options.keyMaxLockMs);
  }

  /**
   * Seconds the attempt must wait (0 = go ahead). `provenHolder` = the key
   * presented verified before, so the key-id lock does not apply to it.
   */
  retryAfter(address: string, keyId: string | undefined, provenHolder: boolean, now = Date.now()): number {
    const byAddress = this.addresses.waitMs(address, now);
    const byKey = keyId && !provenHolder ? this.keyIds.waitMs(keyId, now) : 0;
    const ms = Math.max(byAddress, byKey);
    return ms > 0 ? Math.ceil(ms / 1000) : 0;
  }

  failed(address: string, keyId: string | undefined, now = Date.now()): void {
    this.addresses.fail(address, now);
    if (keyId) this.keyIds.fail(keyId, now);
  }

  /** The holder proved the secret: the key id's failures are forgiven (not the address's). */
  succeeded(keyId: string): void {
    this.keyIds.forget(keyId);
  }
}
