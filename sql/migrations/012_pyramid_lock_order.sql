-- Concurrent writes of risk points (or hazard sources) deadlocked on the count pyramid
-- (tile_cluster_cells, migrations 008 and 011). Every row adds to the same low-zoom
-- cells, and the upsert locked its cells in the order its aggregate produced them,
-- which depends on the other cells of the statement (hash aggregation). Two editors
-- adding points at the same moment could each hold a cell the other needed next, and
-- PostgreSQL aborted one of them ("deadlock detected": the API's 503 Conflicting
-- transaction; 6 of 64 concurrent inserts, 8 at a time, 2026-12-05). Upserting in key
-- order makes every transaction lock the cells they share in the same order.
CREATE OR REPLACE FUNCTION tile_cluster_cells_sql(src text) RETURNS text
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
     ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (layer, z, cx, cy, level, district)
    DO UPDATE SET n = c.n + excluded.n, sx = c.sx + excluded.sx, sy = c.sy + excluded.sy$q$, src)
$fn$;
