import { createHmac, randomBytes } from 'node:crypto';
import type { Db, StatementScope } from '../db/types.ts';
import { scopedDb } from '../db/scoped.ts';
import { sharedOnce } from '../../catalog/shared-work.ts';

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

/** The key of the hash, asked for only when a check-in gives a reference. */
export type EvacueeKey = () => Promise<string>;

/**
 * evacueeHashKey of `db` read (or made) once for an app and then kept, for the check-in of
 * `scope`: in the scope of the first check-in that needs it, shared by those asking
 * meanwhile (SharedWork: it stops when the last of them has left). A failure is not kept,
 * so the next check-in with a reference asks again.
 */
export function evacueeKeyOnce(db: Db, configured: string | undefined): (scope: StatementScope | undefined) => Promise<string> {
  return sharedOnce((scope) => evacueeHashKey(scopedDb(db, scope), configured));
}

/** An evacuee reference (ID card, wristband) as stored: its HMAC-SHA256 under `key`. */
export const hashEvacuee = (key: string, reference: string) => createHmac('sha256', key).update(reference.trim()).digest('base64url');
