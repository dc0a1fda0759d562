-- Administrative units: district -> street (街道/镇) -> community (社区/村).
-- Outlines are MultiPolygons in WGS84; the database refuses invalid or empty ones.

CREATE TABLE districts (
  id                 text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_]*$'),
  adcode             integer NOT NULL UNIQUE CHECK (adcode BETWEEN 100000 AND 999999),
  name_zh            text NOT NULL CHECK (name_zh <> ''),
  name_en            text NOT NULL CHECK (name_en <> ''),
  city_zh            text NOT NULL,
  city_en            text NOT NULL,
  population         integer NOT NULL CHECK (population >= 0),
  population_source  text NOT NULL,
  shelter_target_m2  numeric NOT NULL CHECK (shelter_target_m2 > 0),
  target_source      text NOT NULL,
  synthetic          boolean NOT NULL DEFAULT false,
  source             text NOT NULL,
  geom               geometry(MultiPolygon, 4326) NOT NULL
                     CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom))
);
CREATE INDEX districts_geom_idx ON districts USING gist (geom);

CREATE TABLE streets (
  id           text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_-]*$'),
  district_id  text NOT NULL REFERENCES districts(id) ON DELETE CASCADE,
  name_zh      text NOT NULL CHECK (name_zh <> ''),
  name_en      text NOT NULL CHECK (name_en <> ''),
  kind         text NOT NULL CHECK (kind IN ('street', 'town')),
  population   integer NOT NULL DEFAULT 0 CHECK (population >= 0),
  synthetic    boolean NOT NULL DEFAULT false,
  geom         geometry(MultiPolygon, 4326) NOT NULL
               CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom))
);
CREATE INDEX streets_district_idx ON streets (district_id);
CREATE INDEX streets_geom_idx ON streets USING gist (geom);

CREATE TABLE communities (
  id           text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_-]*$'),
  district_id  text NOT NULL REFERENCES districts(id) ON DELETE CASCADE,
  street_id    text NOT NULL REFERENCES streets(id) ON DELETE CASCADE,
  name_zh      text NOT NULL CHECK (name_zh <> ''),
  name_en      text NOT NULL CHECK (name_en <> ''),
  kind         text NOT NULL CHECK (kind IN ('community', 'village')),
  population   integer NOT NULL DEFAULT 0 CHECK (population >= 0),
  synthetic    boolean NOT NULL DEFAULT false,
  geom         geometry(MultiPolygon, 4326) NOT NULL
               CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom))
);
CREATE INDEX communities_street_idx ON communities (street_id);
CREATE INDEX communities_district_idx ON communities (district_id);
CREATE INDEX communities_geom_idx ON communities USING gist (geom);
