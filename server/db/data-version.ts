import type { Queryable } from './types.ts';

/**
 * Bumps the one data version inside the caller's transaction; caches and ETags key on it.
 * Once per transaction: the feature tables' triggers (migration 010) bump it for writes made
 * in plain SQL, and a transaction that already moved it (by a trigger or an earlier call)
 * gets the version it moved to.
 */
export async function bumpDataVersion(q: Queryable): Promise<number> {
  const r = await q.query<{ version: number }>('SELECT data_version_bump() AS version');
  return Number(r.rows[0].version);
}

export async function currentDataVersion(q: Queryable): Promise<number> {
  const r = await q.query<{ version: number }>('SELECT version FROM data_version');
  return r.rows[0]?.version ?? 0;
}
