-- Every write to a feature table bumps the one data version row (migration 010) and holds
-- that row lock until it commits. The count pyramid's triggers (migration 008) locked their
-- cells before it: on an INSERT of risk points, the trigger `risk_points_cells_ins` fires
-- before `risk_points_data_version` (same event, name order). A transaction that had
-- already bumped the version through another table (an assessment deleting its previous
-- hazard_assessments row, then regrading the hazard source) and then wrote to the pyramid
-- took the two in the other order, and could deadlock with a plain edit of the same layer.
-- The pyramid's trigger now bumps the version first, so every transaction takes the data
-- version before any pyramid cell: writers of the pyramid also queue in one order.
CREATE OR REPLACE FUNCTION tile_cluster_cells_sync() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM data_version_bump();
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM tile_cluster_cells WHERE layer = TG_ARGV[0];
  ELSE
    EXECUTE tile_cluster_cells_sql(CASE TG_OP
      WHEN 'INSERT' THEN 'SELECT 1 AS s, * FROM new_rows'
      WHEN 'DELETE' THEN 'SELECT -1 AS s, * FROM old_rows'
      ELSE 'SELECT -1 AS s, * FROM old_rows UNION ALL SELECT 1 AS s, * FROM new_rows' END)
    USING TG_ARGV[0], TG_ARGV[1]::int, TG_ARGV[2]::int;
    DELETE FROM tile_cluster_cells WHERE layer = TG_ARGV[0] AND n = 0;
  END IF;
  RETURN NULL;
END
$fn$;
