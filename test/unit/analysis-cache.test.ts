import { describe, expect, it } from 'vitest';
import { AnalysisCache } from '../../server/analysis/cache.ts';
import type { StatementScope } from '../../server/db/types.ts';

/**
 * A computation shared by several requests through the analysis cache runs as long as one
 * of them still waits for it, and is stopped when the last has left.
 */

/** A computation that ends only when told to, and reports whether the signal of the scope it was handed stopped it. */
function computation() {
  let finish!: (v: string) => void;
  const seen: { signal?: AbortSignal; kind?: string } = {};
  const run = (scope: StatementScope | undefined) =>
    new Promise<string>((resolve, reject) => {
      seen.signal = scope?.signal;
      seen.kind = scope?.kind;
      seen.signal?.addEventListener('abort', () => reject(seen.signal!.reason));
      finish = resolve;
    });
  return { run, finish: (v: string) => finish(v), seen };
}

/** `fn` as a request (its scope) whose client may leave: `leave()` fires its disconnect signal. */
function client<T>(fn: (scope: StatementScope) => Promise<T>) {
  const gone = new AbortController();
  const answer = fn({ kind: 'analyses', signal: gone.signal }).then(
    (v) => ({ ok: v }),
    (e: Error) => ({ error: e.name }),
  );
  return { answer, leave: () => gone.abort() };
}

/** Two clients asking the cache for the same computation; the first of them has left. */
async function twoClientsOneLeft() {
  const cache = new AnalysisCache(10);
  const c = computation();
  const a = client((scope) => cache.get('k', scope, c.run));
  const b = client((scope) => cache.get('k', scope, c.run));
  await Promise.resolve();
  a.leave();
  return { cache, c, a, b };
}

describe('analysis cache: shared computations', () => {
  it('goes on while one waiting client is still there, and answers it', async () => {
    const { cache, c, a, b } = await twoClientsOneLeft();
    expect(await a.answer).toEqual({ error: 'AbortError' });
    // in the scope of the request that started it, with a signal of its own
    expect(c.seen.kind).toBe('analyses');
    expect(c.seen.signal?.aborted).toBe(false);
    c.finish('done');
    expect(await b.answer).toEqual({ ok: 'done' });
    expect(cache.size).toBe(1);
    // cached: the next client gets it without computing
    expect(await client((scope) => cache.get('k', scope, () => Promise.reject(new Error('computed again')))).answer).toEqual({ ok: 'done' });
  });

  it('stops the computation and forgets it when every waiting client has left', async () => {
    const { cache, c, b } = await twoClientsOneLeft();
    b.leave();
    expect(await b.answer).toEqual({ error: 'AbortError' });
    expect(c.seen.signal?.aborted).toBe(true);
    expect(cache.size).toBe(0);
    // a later client starts afresh
    const again = computation();
    const d = client((scope) => cache.get('k', scope, again.run));
    await Promise.resolve();
    again.finish('fresh');
    expect(await d.answer).toEqual({ ok: 'fresh' });
  });

  it('is never stopped while a caller outside any request waits for it', async () => {
    const cache = new AnalysisCache(10);
    const c = computation();
    const background = cache.get('k', undefined, c.run);
    const a = client((scope) => cache.get('k', scope, c.run));
    await Promise.resolve();
    a.leave();
    expect(await a.answer).toEqual({ error: 'AbortError' });
    c.finish('kept');
    expect(await background).toBe('kept');
  });

  it('refuses a client that has already left, without computing', async () => {
    const cache = new AnalysisCache(10);
    const gone = new AbortController();
    gone.abort();
    let computed = false;
    const r = cache.get('k', { kind: 'analyses', signal: gone.signal }, async () => {
      computed = true;
      return 1;
    });
    await expect(r).rejects.toMatchObject({ code: 'CLIENT_GONE' });
    expect(computed).toBe(false);
  });
});
