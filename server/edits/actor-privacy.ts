import { createHash } from 'node:crypto';
import type { Principal } from '../../catalog/access.ts';

/**
 * Who made a change, as shown in feature history. Editors and admins see the
 * key id and name (they manage keys and answer for edits); viewers see a
 * stable pseudonym instead, so they can tell that two edits came from the same
 * key without learning its id (half of a credential) or its holder's name.
 * The pseudonym is a hash of the key id: stable across restarts and processes,
 * and not reversible to the id (12 random characters) in practice.
 */
export function actorFor(actor: string, who: Principal): string {
  if (who.role === 'editor' || who.role === 'admin') return actor;
  const keyId = /^key:([a-z0-9]+)/.exec(actor)?.[1];
  if (!keyId) return actor; // not a key (e.g. a system job): nothing to hide
  return `key#${createHash('sha256').update(`onemap actor ${keyId}`).digest('hex').slice(0, 10)}`;
}
