-- The count pyramid (tile_cluster_cells, migration 008) grows from z0–z11 to z0–z14:
-- from belowZoom (12) on, a tile holding more than denseTilePoints points is clustered
-- too, and on big layers aggregating its points took seconds (1M points: z12 ≈ 50,000
-- points in the densest tile). Three zooms more are three more upserts per changed row.
-- The triggers' last argument is the last zoom kept (tiles/cluster.ts pyramidLastZoom;
-- a test checks they agree). The layers' rows are counted again from their tables.

DROP TRIGGER risk_points_cells_ins ON risk_points;
DROP TRIGGER risk_points_cells_upd ON risk_points;
DROP TRIGGER risk_points_cells_del ON risk_points;
DROP TRIGGER risk_points_cells_trunc ON risk_points;
DROP TRIGGER hazard_sources_cells_ins ON hazard_sources;
DROP TRIGGER hazard_sources_cells_upd ON hazard_sources;
DROP TRIGGER hazard_sources_cells_del ON hazard_sources;
DROP TRIGGER hazard_sources_cells_trunc ON hazard_sources;

CREATE TRIGGER risk_points_cells_ins AFTER INSERT ON risk_points REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tile_cluster_cells_sync('risk_points', '8', '14');
CREATE TRIGGER risk_points_cells_upd AFTER UPDATE ON risk_points REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tile_cluster_cells_sync('risk_points', '8', '14');
CREATE TRIGGER risk_points_cells_del AFTER DELETE ON risk_points REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tile_cluster_cells_sync('risk_points', '8', '14');
CREATE TRIGGER risk_points_cells_trunc AFTER TRUNCATE ON risk_points
  FOR EACH STATEMENT EXECUTE FUNCTION tile_cluster_cells_sync('risk_points', '8', '14');

CREATE TRIGGER hazard_sources_cells_ins AFTER INSERT ON hazard_sources REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tile_cluster_cells_sync('hazard_sources', '8', '14');
CREATE TRIGGER hazard_sources_cells_upd AFTER UPDATE ON hazard_sources REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tile_cluster_cells_sync('hazard_sources', '8', '14');
CREATE TRIGGER hazard_sources_cells_del AFTER DELETE ON hazard_sources REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tile_cluster_cells_sync('hazard_sources', '8', '14');
CREATE TRIGGER hazard_sources_cells_trunc AFTER TRUNCATE ON hazard_sources
  FOR EACH STATEMENT EXECUTE FUNCTION tile_cluster_cells_sync('hazard_sources', '8', '14');

DELETE FROM tile_cluster_cells WHERE layer IN ('risk_points', 'hazard_sources');
DO $do$
BEGIN
  EXECUTE tile_cluster_cells_sql('SELECT 1 AS s, * FROM risk_points') USING 'risk_points', 8, 14;
  EXECUTE tile_cluster_cells_sql('SELECT 1 AS s, * FROM hazard_sources') USING 'hazard_sources', 8, 14;
END
$do$;
