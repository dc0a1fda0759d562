-- The data version moves at the end of a write transaction, not at its first write.
--
-- Until now the first write of a transaction bumped the one row of data_version
-- (migration 010) and the count pyramid's trigger upserted its cells (008, 012, 013),
-- and both row locks were held for the rest of the transaction: the edit's checks,
-- audit row, notifications, the shelters a hazard's zone reaches, the round trips in
-- between. Every writer therefore waited for every other one from start to commit,
-- and under load a queue of them reached the items statement timeout (503).
--
-- Now a write only takes note, without a lock:
-- * the feature tables' statement triggers (data_version_touch, migration 010) queue
--   one row per transaction in data_version_pending, whose deferred constraint
--   trigger settles the transaction at COMMIT (so writes made in plain SQL, psql or an
--   ETL job, still move the version, exactly once per transaction);
-- * the pyramid's triggers queue the rows' signed positions in tile_cluster_pending.
-- Settling (data_version_bump) first adds the queued positions to the pyramid in one
-- upsert in key order, then moves the version. The server's writes settle explicitly
-- as their last statement (data_version_commit: the version, then the audit rows and
-- notifications that carry it; server/db/data-version.ts), and the deferred trigger
-- then finds nothing left to do. Either way the locks of the pyramid cells and of the
-- version row are taken in one order, cells before version, and held only from the
-- end of the transaction to its commit. A reader that sees version V still sees every
-- write of a version <= V: the next writer cannot move the row before V committed.

-- Rows queued by a transaction and deleted again before it commits. Unlogged: nothing
-- in them outlives a transaction. Each is found by its transaction id through an index:
-- a scan would also walk every row other transactions deleted since the last vacuum
-- (after loading the demo data, ~10 ms per write until autovacuum came).
CREATE UNLOGGED TABLE data_version_pending (xact xid8 NOT NULL DEFAULT pg_current_xact_id());
CREATE INDEX data_version_pending_xact_idx ON data_version_pending (xact);

CREATE UNLOGGED TABLE tile_cluster_pending (
  xact     xid8     NOT NULL DEFAULT pg_current_xact_id(),
  layer    text     NOT NULL,
  per_tile integer  NOT NULL,
  last_z   integer  NOT NULL,
  s        integer  NOT NULL,
  level    text     NOT NULL,
  district text     NOT NULL,
  x        float8   NOT NULL,
  y        float8   NOT NULL
);
CREATE INDEX tile_cluster_pending_xact_idx ON tile_cluster_pending (xact);

-- Audit rows written in SQL before the version is known (an import's rows, one
-- statement with the features), moved to audit_log under the version when it is taken.
CREATE UNLOGGED TABLE audit_log_pending (
  xact       xid8 NOT NULL DEFAULT pg_current_xact_id(),
  id         bigint GENERATED ALWAYS AS IDENTITY,
  at         timestamptz NOT NULL DEFAULT now(),
  actor      text NOT NULL,
  layer      text NOT NULL,
  feature_id text NOT NULL,
  operation  text NOT NULL,
  before     jsonb,
  after      jsonb
);
CREATE INDEX audit_log_pending_xact_idx ON audit_log_pending (xact);

CREATE FUNCTION audit_log_pending_touch() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM set_config('onemap.audit_pending', 'on', true);
  RETURN NULL;
END
$fn$;

CREATE TRIGGER audit_log_pending_touch AFTER INSERT ON audit_log_pending
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_pending_touch();
CREATE TRIGGER audit_log_pending_data_version AFTER INSERT ON audit_log_pending
  FOR EACH STATEMENT EXECUTE FUNCTION data_version_touch();

-- Adds this transaction's queued positions to the pyramid: one statement, cells
-- upserted in key order (migration 012), so pyramid writers lock shared cells in one
-- order; cells left empty are removed.
CREATE FUNCTION tile_cluster_cells_fold() RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  layers text[];
BEGIN
  PERFORM set_config('onemap.tile_cells_pending', 'off', true);
  WITH moved AS (DELETE FROM tile_cluster_pending WHERE xact = pg_current_xact_id() RETURNING *),
       upserted AS (
    INSERT INTO tile_cluster_cells AS c (layer, z, cx, cy, level, district, n, sx, sy)
    SELECT p.layer, g.z, floor((p.x + 20037508.342789244) / (40075016.68557849 / (2 ^ g.z * p.per_tile)))::int,
           floor((20037508.342789244 - p.y) / (40075016.68557849 / (2 ^ g.z * p.per_tile)))::int,
           p.level, p.district, sum(p.s), sum(p.s * p.x), sum(p.s * p.y)
      FROM moved p CROSS JOIN LATERAL generate_series(0, p.last_z) AS g(z)
     GROUP BY 1, 2, 3, 4, 5, 6
    HAVING sum(p.s) <> 0 OR sum(p.s * p.x) <> 0 OR sum(p.s * p.y) <> 0
     ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (layer, z, cx, cy, level, district)
    DO UPDATE SET n = c.n + excluded.n, sx = c.sx + excluded.sx, sy = c.sy + excluded.sy
    RETURNING c.layer)
  SELECT array_agg(DISTINCT layer) INTO layers FROM upserted;
  IF layers IS NOT NULL THEN
    DELETE FROM tile_cluster_cells WHERE layer = ANY (layers) AND n = 0;
  END IF;
END
$fn$;

-- The pyramid's statement triggers (same arguments as before: layer id, cells per
-- tile, last zoom) now only queue. Rows soft-deleted or outside Web Mercator count
-- nowhere; an UPDATE that moved nothing queues a -1 and a +1 that cancel at the fold.
CREATE OR REPLACE FUNCTION tile_cluster_cells_sync() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    -- TRUNCATE locks the whole table anyway; what this transaction queued for it is gone too
    DELETE FROM tile_cluster_pending WHERE xact = pg_current_xact_id() AND layer = TG_ARGV[0];
    DELETE FROM tile_cluster_cells WHERE layer = TG_ARGV[0];
    RETURN NULL;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    INSERT INTO tile_cluster_pending (layer, per_tile, last_z, s, level, district, x, y)
    SELECT TG_ARGV[0], TG_ARGV[1]::int, TG_ARGV[2]::int, -1, r.level, r.district_id, ST_X(r.geom3857), ST_Y(r.geom3857)
      FROM old_rows r WHERE r.deleted_at IS NULL AND r.geom3857 IS NOT NULL;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    INSERT INTO tile_cluster_pending (layer, per_tile, last_z, s, level, district, x, y)
    SELECT TG_ARGV[0], TG_ARGV[1]::int, TG_ARGV[2]::int, 1, r.level, r.district_id, ST_X(r.geom3857), ST_Y(r.geom3857)
      FROM new_rows r WHERE r.deleted_at IS NULL AND r.geom3857 IS NOT NULL;
  END IF;
  PERFORM set_config('onemap.tile_cells_pending', 'on', true);
  RETURN NULL;
END
$fn$;

-- Settles the transaction: the pyramid, then the version (once per transaction), then
-- the audit rows waiting for it; a second call returns the version the first one moved
-- to (and settles what was queued since, should a write come after it).
CREATE OR REPLACE FUNCTION data_version_bump() RETURNS bigint
LANGUAGE plpgsql AS $fn$
DECLARE
  v bigint;
BEGIN
  IF current_setting('onemap.tile_cells_pending', true) = 'on' THEN
    PERFORM tile_cluster_cells_fold();
  END IF;
  IF current_setting('onemap.data_version_bumped', true) = 'on' THEN
    SELECT version INTO v FROM data_version;
  ELSE
    UPDATE data_version SET version = version + 1 RETURNING version INTO v;
    PERFORM set_config('onemap.data_version_bumped', 'on', true);
  END IF;
  IF current_setting('onemap.audit_pending', true) = 'on' THEN
    PERFORM set_config('onemap.audit_pending', 'off', true);
    WITH moved AS (DELETE FROM audit_log_pending WHERE xact = pg_current_xact_id() RETURNING *)
    INSERT INTO audit_log (at, actor, layer, feature_id, operation, before, after, data_version)
    SELECT at, actor, layer, feature_id, operation, before, after, v FROM moved ORDER BY id;
  END IF;
  RETURN v;
END
$fn$;

-- Statement trigger of every feature table (migration 010): queue the settling once.
CREATE OR REPLACE FUNCTION data_version_touch() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  IF current_setting('onemap.data_version_pending', true) IS DISTINCT FROM 'on' THEN
    INSERT INTO data_version_pending DEFAULT VALUES;
    PERFORM set_config('onemap.data_version_pending', 'on', true);
  END IF;
  RETURN NULL;
END
$fn$;

CREATE FUNCTION data_version_settle() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM data_version_bump();
  DELETE FROM data_version_pending WHERE xact = pg_current_xact_id();
  RETURN NULL;
END
$fn$;

CREATE CONSTRAINT TRIGGER data_version_pending_settle AFTER INSERT ON data_version_pending
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_version_settle();

-- The server's last statement before COMMIT: settles, writes the audit rows (a JSON
-- array of {actor, layer, feature_id, operation, before, after}) under the version,
-- and sends the change notifications on `channel` in their order, each payload (a
-- JSON object) given the version as its `dataVersion`. One round trip, so the
-- version row is held for that statement and the COMMIT only.
CREATE FUNCTION data_version_commit(audits jsonb, channel text, notes text[]) RETURNS bigint
LANGUAGE plpgsql AS $fn$
DECLARE
  v bigint;
  note text;
BEGIN
  v := data_version_bump();
  INSERT INTO audit_log (actor, layer, feature_id, operation, before, after, data_version)
  SELECT e.a->>'actor', e.a->>'layer', e.a->>'feature_id', e.a->>'operation',
         nullif(e.a->'before', 'null'::jsonb), nullif(e.a->'after', 'null'::jsonb), v
    FROM jsonb_array_elements(coalesce(audits, '[]'::jsonb)) WITH ORDINALITY AS e(a, i)
   ORDER BY e.i;
  FOREACH note IN ARRAY coalesce(notes, '{}'::text[]) LOOP
    PERFORM pg_notify(channel, '{"dataVersion":' || v || CASE WHEN note = '{}' THEN '}' ELSE ',' || substr(note, 2) END);
  END LOOP;
  RETURN v;
END
$fn$;
