-- Web Mercator geometry stored next to the lon/lat geometry of every tiled table,
-- with its own GiST index: a tile is searched and drawn in the tile's own
-- coordinates, so no tile transforms the whole search area on the fly, and the
-- density check of clustered layers is an index-only bounded count.
-- Generated, so every write path (edits, imports, the SQL console) keeps it right.
-- Near the poles Web Mercator is undefined: such geometry gets NULL and is in no tile
-- (no tile reaches beyond 85.05 degrees anyway).

ALTER TABLE districts ADD COLUMN geom3857 geometry GENERATED ALWAYS AS (
  CASE WHEN ST_YMin(geom) > -89.99 AND ST_YMax(geom) < 89.99 THEN ST_Transform(geom, 3857) END) STORED;
CREATE INDEX districts_geom3857_idx ON districts USING gist (geom3857);

ALTER TABLE streets ADD COLUMN geom3857 geometry GENERATED ALWAYS AS (
  CASE WHEN ST_YMin(geom) > -89.99 AND ST_YMax(geom) < 89.99 THEN ST_Transform(geom, 3857) END) STORED;
CREATE INDEX streets_geom3857_idx ON streets USING gist (geom3857);

ALTER TABLE communities ADD COLUMN geom3857 geometry GENERATED ALWAYS AS (
  CASE WHEN ST_YMin(geom) > -89.99 AND ST_YMax(geom) < 89.99 THEN ST_Transform(geom, 3857) END) STORED;
CREATE INDEX communities_geom3857_idx ON communities USING gist (geom3857);

ALTER TABLE risk_points ADD COLUMN geom3857 geometry GENERATED ALWAYS AS (
  CASE WHEN ST_YMin(geom) > -89.99 AND ST_YMax(geom) < 89.99 THEN ST_Transform(geom, 3857) END) STORED;
CREATE INDEX risk_points_geom3857_idx ON risk_points USING gist (geom3857);

ALTER TABLE flood_points ADD COLUMN geom3857 geometry GENERATED ALWAYS AS (
  CASE WHEN ST_YMin(geom) > -89.99 AND ST_YMax(geom) < 89.99 THEN ST_Transform(geom, 3857) END) STORED;
CREATE INDEX flood_points_geom3857_idx ON flood_points USING gist (geom3857);

ALTER TABLE geohazard_sites ADD COLUMN geom3857 geometry GENERATED ALWAYS AS (
  CASE WHEN ST_YMin(geom) > -89.99 AND ST_YMax(geom) < 89.99 THEN ST_Transform(geom, 3857) END) STORED;
CREATE INDEX geohazard_sites_geom3857_idx ON geohazard_sites USING gist (geom3857);

ALTER TABLE shelters ADD COLUMN geom3857 geometry GENERATED ALWAYS AS (
  CASE WHEN ST_YMin(geom) > -89.99 AND ST_YMax(geom) < 89.99 THEN ST_Transform(geom, 3857) END) STORED;
CREATE INDEX shelters_geom3857_idx ON shelters USING gist (geom3857);

ALTER TABLE hazard_sources ADD COLUMN geom3857 geometry GENERATED ALWAYS AS (
  CASE WHEN ST_YMin(geom) > -89.99 AND ST_YMax(geom) < 89.99 THEN ST_Transform(geom, 3857) END) STORED;
CREATE INDEX hazard_sources_geom3857_idx ON hazard_sources USING gist (geom3857);

ALTER TABLE resources ADD COLUMN geom3857 geometry GENERATED ALWAYS AS (
  CASE WHEN ST_YMin(geom) > -89.99 AND ST_YMax(geom) < 89.99 THEN ST_Transform(geom, 3857) END) STORED;
CREATE INDEX resources_geom3857_idx ON resources USING gist (geom3857);

ALTER TABLE networks ADD COLUMN geom3857 geometry GENERATED ALWAYS AS (
  CASE WHEN ST_YMin(geom) > -89.99 AND ST_YMax(geom) < 89.99 THEN ST_Transform(geom, 3857) END) STORED;
CREATE INDEX networks_geom3857_idx ON networks USING gist (geom3857);

ALTER TABLE population_cells ADD COLUMN geom3857 geometry GENERATED ALWAYS AS (
  CASE WHEN ST_YMin(geom) > -89.99 AND ST_YMax(geom) < 89.99 THEN ST_Transform(geom, 3857) END) STORED;
CREATE INDEX population_cells_geom3857_idx ON population_cells USING gist (geom3857);

-- Count pyramid of clustered point layers: per grid cell of every clustered zoom,
-- per risk level and district (the two tile filters), how many live points lie in
-- the cell and the sums of their Mercator coordinates (mean position = sum / n).
-- Cells are the clustering grid of tiles/cluster.ts: cellsPerTile x cellsPerTile
-- per tile, numbered over the whole world (cx from the west, cy from the north),
-- so they nest across zooms. Clustered tiles read these rows instead of
-- aggregating every point of their area.
CREATE TABLE tile_cluster_cells (
  layer     text     NOT NULL,
  z         smallint NOT NULL,
  cx        integer  NOT NULL,
  cy        integer  NOT NULL,
  level     text     NOT NULL,
  district  text     NOT NULL,
  n         bigint   NOT NULL,
  sx        float8   NOT NULL,
  sy        float8   NOT NULL,
  PRIMARY KEY (layer, z, cx, cy, level, district)
);
-- Cells that just lost their last point, found and removed by the same trigger.
CREATE INDEX tile_cluster_cells_empty_idx ON tile_cluster_cells (layer) WHERE n = 0;

-- The statement that adds the rows of `src` (a query over the table's row type with
-- a leading sign column s: +1 counts a row in, -1 out) to the pyramid; parameters
-- $1 layer id, $2 cells per tile, $3 last zoom. Rows soft-deleted or outside Web
-- Mercator count nowhere; rows an UPDATE did not move cancel out and touch nothing.
-- (Run by EXECUTE in the trigger function itself: transition tables are visible only there.)
CREATE FUNCTION tile_cluster_cells_sql(src text) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
  SELECT format($q$
    INSERT INTO tile_cluster_cells AS c (layer, z, cx, cy, level, district, n, sx, sy)
    SELECT $1, g.z, floor((ST_X(r.geom3857) + 20037508.342789244) / (40075016.68557849 / (2 ^ g.z * $2)))::int,
           floor((20037508.342789244 - ST_Y(r.geom3857)) / (40075016.68557849 / (2 ^ g.z * $2)))::int,
           r.level, r.district_id, sum(r.s), sum(r.s * ST_X(r.geom3857)), sum(r.s * ST_Y(r.geom3857))
      FROM (%s) r CROSS JOIN generate_series(0, $3) AS g(z)
     WHERE r.deleted_at IS NULL AND r.geom3857 IS NOT NULL
     GROUP BY 1, 2, 3, 4, 5, 6
    HAVING sum(r.s) <> 0 OR sum(r.s * ST_X(r.geom3857)) <> 0 OR sum(r.s * ST_Y(r.geom3857)) <> 0
    ON CONFLICT (layer, z, cx, cy, level, district)
    DO UPDATE SET n = c.n + excluded.n, sx = c.sx + excluded.sx, sy = c.sy + excluded.sy$q$, src)
$fn$;

-- Statement triggers with transition tables: one pass per statement, so an import
-- of many rows costs one aggregate, and every write path (edits, soft deletes,
-- restores, imports, plain SQL) keeps the pyramid in the same transaction.
-- Arguments: layer id, cells per tile, last clustered zoom (belowZoom - 1); they
-- must match tiles/layers.ts (a test checks).
CREATE FUNCTION tile_cluster_cells_sync() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
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

CREATE TRIGGER risk_points_cells_ins AFTER INSERT ON risk_points REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tile_cluster_cells_sync('risk_points', '8', '11');
CREATE TRIGGER risk_points_cells_upd AFTER UPDATE ON risk_points REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tile_cluster_cells_sync('risk_points', '8', '11');
CREATE TRIGGER risk_points_cells_del AFTER DELETE ON risk_points REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tile_cluster_cells_sync('risk_points', '8', '11');
CREATE TRIGGER risk_points_cells_trunc AFTER TRUNCATE ON risk_points
  FOR EACH STATEMENT EXECUTE FUNCTION tile_cluster_cells_sync('risk_points', '8', '11');

CREATE TRIGGER hazard_sources_cells_ins AFTER INSERT ON hazard_sources REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tile_cluster_cells_sync('hazard_sources', '8', '11');
CREATE TRIGGER hazard_sources_cells_upd AFTER UPDATE ON hazard_sources REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tile_cluster_cells_sync('hazard_sources', '8', '11');
CREATE TRIGGER hazard_sources_cells_del AFTER DELETE ON hazard_sources REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION tile_cluster_cells_sync('hazard_sources', '8', '11');
CREATE TRIGGER hazard_sources_cells_trunc AFTER TRUNCATE ON hazard_sources
  FOR EACH STATEMENT EXECUTE FUNCTION tile_cluster_cells_sync('hazard_sources', '8', '11');

-- Rows already there.
DO $do$
BEGIN
  EXECUTE tile_cluster_cells_sql('SELECT 1 AS s, * FROM risk_points') USING 'risk_points', 8, 11;
  EXECUTE tile_cluster_cells_sql('SELECT 1 AS s, * FROM hazard_sources') USING 'hazard_sources', 8, 11;
END
$do$;
