-- Idempotency-Key on the writes that add something in one transaction: a new feature
-- (POST /ogc/collections/{id}/items), a shelter check-in or check-out and an inspection
-- (server/db/write-keys.ts). The key is taken, and the first answer kept, in the
-- transaction of the write itself, so the three land together or not at all: the same
-- request sent again with the same key gets that answer instead of writing again, and a
-- request racing the first one waits on the key's unique entry until the first commits or
-- rolls back. Keys belong to the API key that sent them (requested_by) and are kept seven
-- days.
CREATE TABLE write_keys (
  requested_by text NOT NULL,
  idempotency_key text NOT NULL,
  fingerprint text NOT NULL,
  answer jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (requested_by, idempotency_key)
);
CREATE INDEX write_keys_created_at ON write_keys (created_at);
