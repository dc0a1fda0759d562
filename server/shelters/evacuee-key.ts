import { createHmac, randomBytes } from 'node:crypto';
import type { Db } from '../db/types.ts';

/**
 * The key of the evacuee references' keyed hash: EVACUEE_HASH_KEY when it is set,
 * otherwise 32 random bytes made the first time an installation needs them and kept
 * in its database (installation_secrets, migration 016), so every installation has a
 * key of its own and a restart keeps it. Several processes on one database agree on
 * the first one stored.
 */
export async function evacueeHashKey(db: Db, configured: string | undefined): Promise<string> {
  if (configured) return configured;
  await db.query(`INSERT INTO installation_secrets (name, value) VALUES ('evacuee_hash_key', $1) ON CONFLICT (name) DO NOTHING`, [
    randomBytes(32).toString('base64url'),
  ]);
  const stored = await db.query<{ value: string }>(`SELECT value FROM installation_secrets WHERE name = 'evacuee_hash_key'`);
  return stored.rows[0].value;
}

/**
 * The key of the hash, asked for only when a check-in gives a reference: of `db`,
 * the database of that check-in (its statements carry the check-in's scope).
 */
export type EvacueeKey = (db: Db) => Promise<string>;

/**
 * evacueeHashKey read (or made) once for an app, by the first check-in that needs it,
 * and then kept; a failure is not kept, so the next check-in with a reference asks again.
 */
export function evacueeKeyOnce(configured: string | undefined): EvacueeKey {
  let key: Promise<string> | undefined;
  return (db) => {
    if (!key) {
      key = evacueeHashKey(db, configured);
      key.catch(() => (key = undefined));
    }
    return key;
  };
}

/** An evacuee reference (ID card, wristband) as stored: its HMAC-SHA256 under `key`. */
export const hashEvacuee = (key: string, reference: string) => createHmac('sha256', key).update(reference.trim()).digest('base64url');
