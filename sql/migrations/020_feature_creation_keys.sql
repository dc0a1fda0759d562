-- Idempotency-Key on POST /ogc/collections/{id}/items (server/http/idempotency-key.ts,
-- server/edits/feature-store.ts). The key is written in the transaction that creates the
-- feature, so the two land together or not at all: the same request sent again with the
-- same key answers the feature created the first time instead of creating another one. A
-- second request racing the first waits on the key's unique entry until the first commits
-- or rolls back. Keys belong to the API key that sent them (requested_by) and are kept
-- seven days.
CREATE TABLE feature_creation_keys (
  requested_by text NOT NULL,
  idempotency_key text NOT NULL,
  fingerprint text NOT NULL,
  layer text NOT NULL,
  feature_id bigint,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (requested_by, idempotency_key)
);
CREATE INDEX feature_creation_keys_created_at ON feature_creation_keys (created_at);
