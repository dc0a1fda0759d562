-- Rows written directly in SQL (psql, an ETL job) move the data version too, so
-- caches keyed on it (OGC numberMatched, analysis snapshots, static maps) do not
-- keep answering from the data as it was. They send no live event: open maps and
-- the tile cache learn of such a write only with the next change made through the
-- server (or a restart).
--
-- One bump per transaction, however many statements and tables it writes: the
-- server's own writes (server/db/data-version.ts) call the same function, and the
-- first call of a transaction marks it in a transaction-local setting, so an edit
-- still moves the version by exactly one.
CREATE FUNCTION data_version_bump() RETURNS bigint
LANGUAGE plpgsql AS $fn$
DECLARE
  v bigint;
BEGIN
  IF current_setting('onemap.data_version_bumped', true) = 'on' THEN
    SELECT version INTO v FROM data_version;
    RETURN v;
  END IF;
  UPDATE data_version SET version = version + 1 RETURNING version INTO v;
  PERFORM set_config('onemap.data_version_bumped', 'on', true);
  RETURN v;
END
$fn$;

CREATE FUNCTION data_version_touch() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM data_version_bump();
  RETURN NULL;
END
$fn$;

-- Every table a map, analysis or count reads (not keys, audit, the tile pyramid, scenario runs).
DO $do$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['districts', 'streets', 'communities', 'risk_points', 'flood_points', 'geohazard_sites',
                           'shelters', 'hazard_sources', 'resources', 'networks', 'population_cells', 'candidate_sites',
                           'risk_inspections', 'hazard_assessments', 'hazard_substances', 'shelter_checkins'] LOOP
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION data_version_touch()',
                   t || '_data_version', t);
  END LOOP;
END
$do$;
