import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { badRequest, HttpProblem } from './problem.ts';

/**
 * `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header) on the requests that
 * add something: imports (server/imports/routes.ts), new features (server/edits/routes.ts),
 * shelter check-ins and check-outs (server/shelters/routes.ts) and inspections
 * (server/risk/routes.ts). A client that lost the answer (a dropped link, a proxy's
 * timeout) sends the same request again with the same key and gets the first request's
 * outcome, instead of creating the rows a second time. Keys belong to the API key that
 * sent them and are kept 7 days.
 *
 * The value is a Structured Field String (`"…"`, as the draft has it) or, as many
 * clients send it, a bare token; 1–255 characters either way.
 */
const SF_STRING = /^"((?:[\x20\x21\x23-\x5B\x5D-\x7E]|\\["\\])*)"$/;
const TOKEN = /^[A-Za-z0-9._:~+/=-]+$/;
const ALLOWED = 'a string of 1–255 printable ASCII characters ("…", or a bare token of letters, digits and ._:~+/=-)';

/** A request's Idempotency-Key with what the server needs to honour it. */
export interface RequestKey {
  key: string;
  /** The caller: the API key (its audit name); keys are its own. */
  by: string;
  /** What the request was (`requestFingerprint`): the same key with another request is refused. */
  fingerprint: string;
  /** Which request the key came with, in words, for that refusal. */
  what: string;
}

/**
 * The request's key (undefined without an Idempotency-Key header): `parts` and `body`
 * say what the request is, `what` says it in words.
 */
export async function requestKeyOf(req: IncomingMessage, who: { actor: string }, parts: unknown, body: Buffer | string, what: string): Promise<RequestKey | undefined> {
  const key = idempotencyKeyOf(req);
  return key === undefined ? undefined : { key, by: who.actor, fingerprint: await requestFingerprint(parts, body), what };
}

/** The request's Idempotency-Key, undefined without one; a malformed one is a 400 naming the header. */
function idempotencyKeyOf(req: IncomingMessage): string | undefined {
  const raw = req.headers['idempotency-key'];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string') throw badRequest('Idempotency-Key', `one value, ${ALLOWED}`);
  const value = raw.trim();
  const quoted = SF_STRING.exec(value);
  const key = quoted ? quoted[1].replace(/\\(["\\])/g, '$1') : TOKEN.test(value) ? value : undefined;
  if (key === undefined || key.length === 0 || key.length > 255) throw badRequest('Idempotency-Key', ALLOWED);
  return key;
}

/** Bytes hashed between two turns of the event loop (about half a millisecond). */
const SLICE = 1 << 20;

/**
 * What makes two requests the same: their parts (route, options) and their body's bytes.
 * An import's file may be hundreds of megabytes (IMPORT_MAX_MB), a tenth of a second and
 * more of hashing: it is hashed a slice at a time, letting other requests through between.
 */
export async function requestFingerprint(parts: unknown, body: Buffer | string): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify(parts)).update('\n');
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  for (let at = 0; at < bytes.length; at += SLICE) {
    if (at > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    hash.update(bytes.subarray(at, at + SLICE));
  }
  return hash.digest('hex');
}

/** The key was used for another request: `what` says which (another file, layer or options…). */
export function keyReused(what: string): HttpProblem {
  return new HttpProblem(422, 'Idempotency-Key reused', `this Idempotency-Key was sent with ${what}; send a new key for a new request`, [
    { name: 'Idempotency-Key', reason: 'a key not used for another request by this API key' },
  ]);
}

/** The request with this key is still being answered. */
export function keyInFlight(): HttpProblem {
  const p = new HttpProblem(
    409,
    'Request in progress',
    'the request first sent with this Idempotency-Key is still running; ask again shortly for its outcome',
    [{ name: 'Idempotency-Key', reason: 'a key whose first request has finished' }],
  );
  p.retryAfter = 2;
  return p;
}
