import { describe, expect, it } from 'vitest';
import { backend, copyTestDb } from '../setup/db.ts';
import { openPostgres } from '../../server/db/postgres.ts';
import { PostgisEngine } from '../../tiles/engine-postgis.ts';
import { getLayer } from '../../catalog/layers.ts';
import { ANONYMOUS } from '../../catalog/access.ts';
import { tileContaining, type TileCoord } from '../../tiles/tile-coords.ts';
import type { Db } from '../../server/db/types.ts';

// The tile statements are kept prepared on each PostgreSQL connection (server/db/postgres.ts):
// PostgreSQL parses them once per connection instead of once per uncached tile.
describe.runIf(backend === 'postgres')('prepared tile statements', () => {
  const layer = getLayer('risk_points')!;
  const render = (db: Db, tile: TileCoord) => new PostgisEngine(db).renderLayer({ layer, tile, filters: {}, who: ANONYMOUS });
  const prepared = async (db: Db) =>
    (await db.query<{ name: string; statement: string }>('SELECT name, statement FROM pg_prepared_statements ORDER BY name')).rows;
  /** A z14 tile with demo risk points in it (drawn point by point) and the world tile (clusters). */
  const tilesOf = async (db: Db): Promise<TileCoord[]> => {
    const p = (await db.query<{ x: number; y: number }>('SELECT ST_X(geom) AS x, ST_Y(geom) AS y FROM risk_points WHERE deleted_at IS NULL ORDER BY id LIMIT 1')).rows[0];
    return [tileContaining(p.x, p.y, 14), { z: 0, x: 0, y: 0 }];
  };

  it('are prepared once on a connection, reused, and draw the same tiles as unprepared ones', async () => {
    const { location } = await copyTestDb();
    // One connection, so the statements seen are those of the connection that drew the tiles.
    const db = await openPostgres({ connectionString: location, max: 1 });
    const plain = await openPostgres({ connectionString: location, max: 1, preparedStatements: false });
    try {
      const tiles = await tilesOf(db);
      const first = await Promise.all(tiles.map((t) => render(db, t)));
      const names = (await prepared(db)).filter((s) => s.statement.includes('ST_AsMVT'));
      expect(names.length).toBe(2);
      expect(names.every((s) => s.name.startsWith('onemap_'))).toBe(true);
      const again = await Promise.all(tiles.map((t) => render(db, t)));
      // Drawn again: the same two, none added.
      expect((await prepared(db)).filter((s) => s.statement.includes('ST_AsMVT'))).toEqual(names);
      const unprepared = await Promise.all(tiles.map((t) => render(plain, t)));
      expect(await prepared(plain)).toEqual([]);
      for (let i = 0; i < tiles.length; i++) {
        expect(first[i].length).toBeGreaterThan(0);
        expect(Buffer.from(again[i]).equals(Buffer.from(first[i]))).toBe(true);
        expect(Buffer.from(unprepared[i]).equals(Buffer.from(first[i]))).toBe(true);
      }
    } finally {
      await db.close();
      await plain.close();
    }
  });

  it('are prepared again on the fresh connection that replaces a lost one', async () => {
    const { location } = await copyTestDb();
    const db = await openPostgres({ connectionString: location, max: 1 });
    try {
      const [tile] = await tilesOf(db);
      const before = await render(db, tile);
      const pid = (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      const admin = await openPostgres({ connectionString: location, max: 1 });
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      await admin.close();
      // The pool finds its connection dead (the first query after the loss may fail with it).
      await db.query('SELECT 1').catch(() => {});
      expect((await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid).not.toBe(pid);
      expect(await prepared(db)).toEqual([]);
      expect(Buffer.from(await render(db, tile)).equals(Buffer.from(before))).toBe(true);
      expect((await prepared(db)).length).toBe(1);
    } finally {
      await db.close();
    }
  });
});
