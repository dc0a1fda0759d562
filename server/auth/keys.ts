import { randomBytes, scrypt as scryptCb, timingSafeEqual, createHash } from 'node:crypto';
import { promisify } from 'node:util';
import type { Queryable } from '../db/types.ts';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

export const ROLES = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface ApiKeyRecord {
  id: string;
  name: string;
  role: Role;
  /** Districts the key may act on; null = all. */
  districts: string[] | null;
  created_at: string;
  revoked_at: string | null;
}

/**
 * A key looks like `om_<id>_<secret>`: the id finds the row, the secret is
 * checked against a scrypt hash so a leaked table does not leak usable keys.
 */
const KEY_PATTERN = /^om_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export async function createKey(
  db: Queryable,
  input: { name: string; role: Role; districts?: string[] | null },
): Promise<{ key: string; record: ApiKeyRecord }> {
  const id = randomBytes(9).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '0').slice(0, 12);
  const secret = randomBytes(32).toString('base64url');
  const salt = randomBytes(16);
  const hash = await scrypt(secret, salt, 32);
  const r = await db.query<ApiKeyRecord>(
    `INSERT INTO api_keys (id, name, role, districts, salt, hash) VALUES ($1, $2, $3, $4, $5, $6)
     RETURNING id, name, role, districts, created_at::text, revoked_at::text`,
    [id, input.name, input.role, input.districts?.length ? input.districts : null, salt, hash],
  );
  return { key: `om_${id}_${secret}`, record: r.rows[0] };
}

export async function listKeys(db: Queryable): Promise<ApiKeyRecord[]> {
  const r = await db.query<ApiKeyRecord>(
    'SELECT id, name, role, districts, created_at::text, revoked_at::text FROM api_keys ORDER BY created_at, id',
  );
  return r.rows;
}

export async function revokeKey(db: Queryable, id: string): Promise<boolean> {
  const r = await db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [id]);
  return r.rowCount > 0;
}

/** Returns the key's record when the key is well-formed, known, not revoked and its secret matches. */
export async function verifyKey(db: Queryable, key: string): Promise<ApiKeyRecord | null> {
  const m = KEY_PATTERN.exec(key);
  if (!m) return null;
  const r = await db.query<ApiKeyRecord & { salt: Uint8Array; hash: Uint8Array }>(
    'SELECT id, name, role, districts, created_at::text, revoked_at::text, salt, hash FROM api_keys WHERE id = $1',
    [m[1]],
  );
  const row = r.rows[0];
  if (!row || row.revoked_at) return null;
  const actual = await scrypt(m[2], Buffer.from(row.salt), 32);
  if (!timingSafeEqual(actual, Buffer.from(row.hash))) return null;
  const { salt: _s, hash: _h, ...record } = row;
  return record;
}

/** The id part of a well-formed key (not proof of anything: the secret is not checked). */
export function keyIdOf(key: string): string | undefined {
  return KEY_PATTERN.exec(key)?.[1];
}

/** Cache key for verified keys: a fast digest, so the slow hash runs once per key per minute. */
export function keyDigest(key: string): string {
  return createHash('sha256').update(key).digest('base64url');
}
