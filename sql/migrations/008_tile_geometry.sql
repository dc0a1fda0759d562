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
