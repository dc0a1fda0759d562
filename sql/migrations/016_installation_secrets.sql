-- Secrets made for this installation when it first needs them, so that no key that
-- protects data is the same on every installation (a default key in the source code
-- is known to anyone who reads it).
--
-- evacuee_hash_key: the key of the keyed hash (HMAC-SHA256) under which the evacuee
-- references of shelter check-ins (ID-card numbers, wristband numbers) are stored
-- (shelter_checkins.evacuee_hash, migration 007). ID-card numbers are few enough to be
-- hashed one by one; without the key, a copy of the table does not give them back.
-- EVACUEE_HASH_KEY in the environment takes its place (several installations sharing
-- one key, or a key kept in a vault); server/shelters/evacuee-key.ts.
-- Check-ins stored before this migration were hashed under the key that was in the
-- code, 'onemap-evacuee-reference', unless EVACUEE_HASH_KEY was set.
CREATE TABLE installation_secrets (
  name        text PRIMARY KEY,
  value       text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
