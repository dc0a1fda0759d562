-- Writes made in plain SQL (psql, an ETL job loading flood-prone spots during a storm)
-- are announced like the server's own, so every process's tile cache drops what they
-- changed and open maps and walls reload it.
--
-- Until now such a write moved the data version at COMMIT (migrations 010 and 015) and
-- sent nothing: caches keyed on the version followed it, but the tile cache kept the
-- old tiles of the layer until the next change made through the server, and open maps
-- were not told.
--
-- Now the feature tables' statement trigger also notes which table was written, and the
-- settling at COMMIT of a transaction that did not announce its changes itself (the
-- server's writes end with data_version_commit, which does) sends one notification on
-- `onemap_changes`: {"dataVersion": V, "tables": [...]}. The server turns it into a
-- change of every layer stored in those tables, with no geometry: each cache drops
-- the whole layer and each open map reloads it (server/live/notify.ts).
--
-- Tables are noted in a transaction-local setting; a statement trigger fires for an
-- UPDATE or DELETE that matched no row too, so such a statement is announced as well.

CREATE OR REPLACE FUNCTION data_version_touch() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  written text := coalesce(current_setting('onemap.written_tables', true), '');
BEGIN
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

-- The server's last statement before COMMIT (migration 015), now also marking the
-- transaction as announced when it sends its changes, so the settling at COMMIT sends
-- nothing more. One that sends none (an audit row only) is announced at COMMIT.
CREATE OR REPLACE FUNCTION data_version_commit(audits jsonb, channel text, notes text[]) RETURNS bigint
LANGUAGE plpgsql AS $fn$
DECLARE
  v bigint;
  note text;
BEGIN
  v := data_version_bump();
  IF coalesce(array_length(notes, 1), 0) > 0 THEN
    PERFORM set_config('onemap.changes_announced', 'on', true);
  END IF;
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

CREATE OR REPLACE FUNCTION data_version_settle() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  v bigint;
  written text := coalesce(current_setting('onemap.written_tables', true), '');
BEGIN
  v := data_version_bump();
  DELETE FROM data_version_pending WHERE xact = pg_current_xact_id();
  IF current_setting('onemap.changes_announced', true) IS DISTINCT FROM 'on' AND written <> '' THEN
    PERFORM set_config('onemap.changes_announced', 'on', true);
    PERFORM pg_notify('onemap_changes', json_build_object('dataVersion', v, 'tables', string_to_array(written, ','))::text);
  END IF;
  RETURN NULL;
END
$fn$;
