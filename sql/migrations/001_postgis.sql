-- PostGIS is the foundation of every layer. On a real server the extension
-- package must be installed (postgresql-15-postgis-3); the embedded backend
-- loads its WASM build before this file runs.
CREATE EXTENSION IF NOT EXISTS postgis;
