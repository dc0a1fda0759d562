import type { Queryable } from './types.ts';
import { journalOf } from './data-version.ts';
import { keyReused, type RequestKey } from '../http/idempotency-key.ts';

/**
 * Idempotency-Key (server/http/idempotency-key.ts) for writes done in one transaction:
 * the key is taken and the answer kept in that transaction (table write_keys, migration
 * 020), so key, write and answer land together or not at all. A refused write (its
 * transaction rolls back) takes no key; a write racing the first one with the same key
 * waits on the key's unique entry until the first commits, then gets its answer.
 */
const KEEP_DAYS = 7;

/**
 * Runs `write` in the transaction `q` under `key`: the first time, `write`'s answer
 * (plain JSON) is kept with the key; later, the kept answer is given back, marked
 * `replayed`, and `write` does not run. Without a key, `write` runs.
 */
export async function keyedWrite<T extends object>(q: Queryable, key: RequestKey | undefined, write: () => Promise<T>): Promise<T & { replayed?: true }> {
  if (!key) return write();
  await q.query(`DELETE FROM write_keys WHERE created_at < now() - interval '${KEEP_DAYS} days'`);
  const taken = await q.query(
    `INSERT INTO write_keys (requested_by, idempotency_key, fingerprint) VALUES ($1, $2, $3)
     ON CONFLICT (requested_by, idempotency_key) DO NOTHING RETURNING requested_by`,
    [key.by, key.key, key.fingerprint],
  );
  if (!taken.rows.length) {
    const held = await q.query<{ fingerprint: string; answer: T | string }>('SELECT fingerprint, answer FROM write_keys WHERE requested_by = $1 AND idempotency_key = $2', [key.by, key.key]);
    const earlier = held.rows[0];
    if (!earlier || earlier.fingerprint !== key.fingerprint) throw keyReused(key.what);
    const answer = typeof earlier.answer === 'string' ? (JSON.parse(earlier.answer) as T) : earlier.answer;
    return { ...answer, replayed: true };
  }
  const answer = await write();
  // Kept last before COMMIT: by then the answer carries the data version it commits with, if it has one.
  journalOf(q).lastly(() => q.query('UPDATE write_keys SET answer = $3::jsonb WHERE requested_by = $1 AND idempotency_key = $2', [key.by, key.key, JSON.stringify(answer)]));
  return answer;
}
