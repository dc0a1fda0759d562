-- The count pyramid (tile_cluster_cells, migration 008) grows from z0–z11 to z0–z14:
-- from belowZoom (12) on, a tile holding more than denseTilePoints points is clustered
-- too, and on big layers aggregating its points took seconds (1M points: z12 ≈ 50,000
-- points in the densest tile). Three zooms more are three more upserts per changed row.
-- The triggers' last argument is the last zoom kept (tiles/cluster.ts pyramidLastZoom;
-- a test checks they agree). The layers' rows are counted again from their tables.

DO $do$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['risk_points', 'hazard_sources'] LOOP
    EXECUTE format('DROP TRIGGER %I ON %I', t || '_cells_ins', t);
    EXECUTE format('DROP TRIGGER %I ON %I', t || '_cells_upd', t);
    EXECUTE format('DROP TRIGGER %I ON %I', t || '_cells_del', t);
    EXECUTE format('DROP TRIGGER %I ON %I', t || '_cells_trunc', t);
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION tile_cluster_cells_sync(%L, ''8'', ''14'')', t || '_cells_ins', t, t);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION tile_cluster_cells_sync(%L, ''8'', ''14'')', t || '_cells_upd', t, t);
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows
      FOR EACH STATEMENT EXECUTE FUNCTION tile_cluster_cells_sync(%L, ''8'', ''14'')', t || '_cells_del', t, t);
    EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I
      FOR EACH STATEMENT EXECUTE FUNCTION tile_cluster_cells_sync(%L, ''8'', ''14'')', t || '_cells_trunc', t, t);
    DELETE FROM tile_cluster_cells WHERE layer = t;
    EXECUTE tile_cluster_cells_sql(format('SELECT 1 AS s, * FROM %I', t)) USING t, 8, 14;
  END LOOP;
END
$do$;
