import type { Queryable } from './types.ts';

/** Bumps the one data version inside the caller's transaction; caches and ETags key on it. */
export async function bumpDataVersion(q: Queryable): Promise<number> {
  const r = await q.query<{ version: number }>('UPDATE data_version SET version = version + 1 RETURNING version');
  return r.rows[0].version;
}

export async function currentDataVersion(q: Queryable): Promise<number> {
  const r = await q.query<{ version: number }>('SELECT version FROM data_version');
  return r.rows[0]?.version ?? 0;
}
