import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { currentContext } from '../../server/http/request-context.ts';
import { currentScope, requestScope, sharedByClients } from '../../server/http/request-scope.ts';
import { readConsistencyOf, withReadConsistency } from '../../server/db/read-consistency.ts';
import { consistencyToken } from '../../server/http/consistency-token.ts';
import type { Db } from '../../server/db/types.ts';

/**
 * The kind of work, the client's disconnect signal and the read consistency of
 * a request travel in one context: set by their own middleware, read after any
 * number of awaits, and kept apart between concurrent requests.
 */
const noReplica = { backend: 'postgres' } as unknown as Db; // consistencyToken only looks at db.read

function app() {
  const a = express();
  a.use(requestScope);
  a.use(consistencyToken(noReplica));
  a.get('/analysis/echo', async (req, res) => {
    await new Promise((r) => setTimeout(r, Number(req.query.wait ?? 0)));
    await Promise.resolve();
    const context = currentContext()!;
    const shared = new AbortController().signal;
    const detached = await sharedByClients(shared, async () => {
      await new Promise((r) => setImmediate(r));
      const d = currentContext()!;
      d.consistency!.primary = true; // as a read that fell back to the primary does
      return { kind: d.kind, sameConsistency: d.consistency === context.consistency, signalKept: d.signal === context.signal, sharedSignal: d.signal === shared };
    });
    res.json({
      kind: context.kind,
      signal: context.signal instanceof AbortSignal && !context.signal.aborted,
      scopeIsContext: currentScope() === context,
      minLsn: String(context.consistency!.minLsn),
      primary: readConsistencyOf(undefined)!.primary,
      detached,
    });
  });
  a.get('/collections/x/items', (_req, res) => res.json({ kind: currentScope()!.kind, minLsn: String(readConsistencyOf(undefined)!.minLsn) }));
  return a;
}

describe('one request context', () => {
  it('carries kind, disconnect signal and read consistency through awaits and into a detached computation', async () => {
    const a = app();
    const [slow, fast] = await Promise.all([
      request(a).get('/analysis/echo?wait=30').set('Consistency-Token', '0/3000148'),
      request(a).get('/analysis/echo'),
    ]);
    expect(slow.body).toEqual({
      kind: 'analyses',
      signal: true,
      scopeIsContext: true,
      minLsn: String(0x3000148n),
      primary: true, // set inside the detached computation: one object, shared
      detached: { kind: 'analyses', sameConsistency: true, signalKept: false, sharedSignal: true },
    });
    expect(fast.body.minLsn).toBe('0');
    const items = await request(a).get('/collections/x/items');
    expect(items.body).toEqual({ kind: 'items', minLsn: '0' });
  });

  it('has no scope outside a request, and read consistency alone where only that is set', async () => {
    expect(currentContext()).toBeUndefined();
    expect(currentScope()).toBeUndefined();
    const needs = { minLsn: 5n, primary: false };
    await withReadConsistency(needs, async () => {
      await Promise.resolve();
      expect(readConsistencyOf(undefined)).toBe(needs);
      expect(currentScope()).toBeUndefined();
      // nothing to detach from: the same context
      expect(sharedByClients(new AbortController().signal, () => currentContext())).toBe(currentContext());
    });
  });
});
