-- A statement that wrote no row is no change.
--
-- The feature tables' statement triggers (migrations 010, 015, 017) fire for every
-- INSERT, UPDATE or DELETE, also one that matched nothing. An ETL job that runs
-- `UPDATE flood_points … WHERE <changed since the last run>` every minute therefore moved
-- the data version and announced the table every minute while nothing changed: every
-- process dropped the layer's cached tiles, every version-keyed cache (OGC counts,
-- analyses, static maps) was computed again, and every open map and wall reloaded the
-- layer. On the night that matters, that is the cache gone for the tiles everyone asks.
--
-- Now the INSERT, UPDATE and DELETE triggers see the rows the statement wrote (a
-- transition table, which PostgreSQL captures once per table and event, shared with the
-- count pyramid's triggers on the layers that have one) and take note only when there is
-- at least one. TRUNCATE, which has no transition table, still always counts.

CREATE OR REPLACE FUNCTION data_version_touch() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  written text := coalesce(current_setting('onemap.written_tables', true), '');
BEGIN
  -- 'rows': the trigger names the statement's rows `written_rows`; none written, nothing to note.
  -- Two IFs: a condition is planned whole, and `written_rows` exists only for those triggers.
  IF TG_NARGS > 0 AND TG_ARGV[0] = 'rows' THEN
    IF NOT EXISTS (SELECT 1 FROM written_rows) THEN
      RETURN NULL;
    END IF;
  END IF;
  IF current_setting('onemap.data_version_pending', true) IS DISTINCT FROM 'on' THEN
    INSERT INTO data_version_pending DEFAULT VALUES;
    PERFORM set_config('onemap.data_version_pending', 'on', true);
  END IF;
  IF position(',' || TG_TABLE_NAME || ',' IN ',' || written || ',') = 0 THEN
    PERFORM set_config('onemap.written_tables', CASE WHEN written = '' THEN TG_TABLE_NAME ELSE written || ',' || TG_TABLE_NAME END, true);
  END IF;
  RETURN NULL;
END
$fn$;

-- Every table that has migration 010's trigger.
DO $do$
DECLARE
  t text;
BEGIN
  FOR t IN SELECT c.relname FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
            WHERE tg.tgname = c.relname || '_data_version' AND NOT tg.tgisinternal ORDER BY 1 LOOP
    EXECUTE format('DROP TRIGGER %I ON %I', t || '_data_version', t);
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS written_rows
      FOR EACH STATEMENT EXECUTE FUNCTION data_version_touch(''rows'')', t || '_data_version_ins', t);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING NEW TABLE AS written_rows
      FOR EACH STATEMENT EXECUTE FUNCTION data_version_touch(''rows'')', t || '_data_version_upd', t);
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS written_rows
      FOR EACH STATEMENT EXECUTE FUNCTION data_version_touch(''rows'')', t || '_data_version_del', t);
    EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I
      FOR EACH STATEMENT EXECUTE FUNCTION data_version_touch()', t || '_data_version_trunc', t);
  END LOOP;
END
$do$;
