-- API keys: random secrets shown once, stored as a slow (scrypt) hash with a
-- public prefix to find the row. Roles viewer < editor < admin, optionally
-- scoped to districts (a street officer edits only Huadu).
CREATE TABLE api_keys (
  id           text PRIMARY KEY CHECK (id ~ '^[a-z0-9]{8,16}$'),
  name         text NOT NULL CHECK (name <> ''),
  role         text NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
  districts    text[],
  salt         bytea NOT NULL,
  hash         bytea NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz
);

-- Every change to a feature, written in the same transaction as the change.
CREATE TABLE audit_log (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at           timestamptz NOT NULL DEFAULT now(),
  actor        text NOT NULL,
  layer        text NOT NULL,
  feature_id   text NOT NULL,
  operation    text NOT NULL CHECK (operation IN ('insert', 'update', 'delete', 'restore', 'import', 'checkin', 'checkout')),
  before       jsonb,
  after        jsonb,
  data_version bigint NOT NULL
);
CREATE INDEX audit_log_feature_idx ON audit_log (layer, feature_id, id);
