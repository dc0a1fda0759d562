import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { requestScope, scopeOf } from '../../server/http/request-scope.ts';
import { sharedScope } from '../../catalog/shared-work.ts';
import { consistencyToken } from '../../server/http/consistency-token.ts';
import { requestDb, scopedDb } from '../../server/db/scoped.ts';
import type { Db, QueryOptions } from '../../server/db/types.ts';

/**
 * The kind of work, the client's disconnect signal and the read consistency of a
 * request are one object, its scope: set by their own middleware on the request,
 * handed to the database with its statements, kept apart between concurrent
 * requests, and shared (consistency included) with a computation several requests share.
 */
const noReplica = { backend: 'postgres' } as unknown as Db; // consistencyToken only looks at db.read

/** A database that answers every statement with the scope it was handed. */
const echo = {
  backend: 'postgres',
  query: async (_sql: string, _params?: unknown[], opts?: QueryOptions) => ({ rows: [{ scope: opts?.scope }], rowCount: 1 }),
} as unknown as Db;

function app() {
  const a = express();
  a.use(requestScope);
  a.use(consistencyToken(noReplica));
  a.get('/analysis/echo', async (req, res) => {
    await new Promise((r) => setTimeout(r, Number(req.query.wait ?? 0)));
    const scope = scopeOf(req)!;
    const handed = (await requestDb(echo, req).query<{ scope: unknown }>('SELECT 1')).rows[0].scope;
    const shared = sharedScope(scope, new AbortController().signal)!;
    shared.consistency!.primary = true; // as a read that fell back to the primary does
    res.json({
      kind: scope.kind,
      signal: scope.signal instanceof AbortSignal && !scope.signal.aborted,
      handedItsScope: handed === scope,
      minLsn: String(scope.consistency!.minLsn),
      primary: scope.consistency!.primary,
      shared: { kind: shared.kind, sameConsistency: shared.consistency === scope.consistency, signalKept: shared.signal === scope.signal },
    });
  });
  a.get('/collections/x/items', (req, res) => res.json({ kind: scopeOf(req)!.kind, minLsn: String(scopeOf(req)!.consistency!.minLsn) }));
  return a;
}

describe('one request scope', () => {
  it('carries kind, disconnect signal and read consistency to the statements of its request and into a shared computation', async () => {
    const a = app();
    const [slow, fast] = await Promise.all([
      request(a).get('/analysis/echo?wait=30').set('Consistency-Token', '0/3000148'),
      request(a).get('/analysis/echo'),
    ]);
    expect(slow.body).toEqual({
      kind: 'analyses',
      signal: true,
      handedItsScope: true,
      minLsn: String(0x3000148n),
      primary: true, // set through the shared scope: one object
      shared: { kind: 'analyses', sameConsistency: true, signalKept: false },
    });
    expect(fast.body.minLsn).toBe('0');
    const items = await request(a).get('/collections/x/items');
    expect(items.body).toEqual({ kind: 'items', minLsn: '0' });
  });

  it('hands nothing outside a request: no scope, the database itself', async () => {
    expect(scopedDb(echo, undefined)).toBe(echo);
    expect(sharedScope(undefined, new AbortController().signal)).toBeUndefined();
    const { rows } = await echo.query<{ scope: unknown }>('SELECT 1');
    expect(rows[0].scope).toBeUndefined();
  });
});
