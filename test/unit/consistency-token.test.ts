import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { consistencyToken, TokenCoverage } from '../../server/http/consistency-token.ts';
import type { Db } from '../../server/db/types.ts';

/**
 * What a Consistency-Token costs: a write's answer carries one only when there is a
 * read replica (one pg_current_wal_lsn() query per successful write), and a token sent
 * back makes a cache ask the data version once per position it has not yet found covered.
 */
function stubDb(answer: (sql: string) => Record<string, unknown>, withReplica: boolean) {
  const queries: string[] = [];
  const db = {
    backend: 'postgres',
    query: async (sql: string) => {
      queries.push(sql);
      return { rows: [answer(sql)], rowCount: 1 };
    },
  } as unknown as Db;
  if (withReplica) db.read = db as unknown as NonNullable<Db['read']>;
  return { db, queries };
}

function app(db: Db) {
  const a = express();
  a.use(consistencyToken(db));
  a.post('/ok', (_req, res) => res.status(201).json({ ok: true }));
  a.post('/refused', (_req, res) => res.status(422).json({ ok: false }));
  return a;
}

describe('Consistency-Token on writes', () => {
  it('is not given, and costs no query, without a read replica', async () => {
    const { db, queries } = stubDb(() => ({ lsn: '0/3000148' }), false);
    const r = await request(app(db)).post('/ok').expect(201);
    expect(r.headers['consistency-token']).toBeUndefined();
    expect(queries).toEqual([]);
  });

  it('is the primary’s WAL position after a successful write when there is one; a refused write gets none', async () => {
    const { db, queries } = stubDb(() => ({ lsn: '0/3000148' }), true);
    const r = await request(app(db)).post('/ok').expect(201);
    expect(r.headers['consistency-token']).toBe('0/3000148');
    expect(queries).toEqual(['SELECT pg_current_wal_lsn()::text AS lsn']);
    const refused = await request(app(db)).post('/refused').expect(422);
    expect(refused.headers['consistency-token']).toBeUndefined();
    expect(queries).toHaveLength(1);
  });
});

describe('TokenCoverage: may this process’s caches answer a request that sent a token?', () => {
  const at = (minLsn: bigint, coverage: TokenCoverage) => coverage.cachesCover({ kind: 'tiles', consistency: { minLsn, primary: false } });

  it('yes without a token, with no query', async () => {
    const { db, queries } = stubDb(() => ({ version: 7 }), true);
    const coverage = new TokenCoverage(db, { current: 5 });
    expect(await coverage.cachesCover(undefined)).toBe(true);
    expect(await at(0n, coverage)).toBe(true);
    expect(queries).toEqual([]);
  });

  it('no while the data version at the token is one this process has not applied; yes once it has, then without asking again', async () => {
    const { db, queries } = stubDb(() => ({ version: 7 }), true);
    const applied = { current: 6 };
    const coverage = new TokenCoverage(db, applied);
    expect(await at(100n, coverage)).toBe(false);
    expect(await at(100n, coverage)).toBe(false);
    expect(queries).toEqual(['SELECT version FROM data_version', 'SELECT version FROM data_version']);
    applied.current = 7; // the change's notification arrived and the caches dropped what it touched
    expect(await at(100n, coverage)).toBe(true);
    expect(queries).toHaveLength(3);
    // The same position, or an earlier one: covered, no query.
    expect(await at(100n, coverage)).toBe(true);
    expect(await at(50n, coverage)).toBe(true);
    expect(queries).toHaveLength(3);
    // A later position is looked at again.
    expect(await at(101n, coverage)).toBe(true);
    expect(queries).toHaveLength(4);
  });
});
