import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, testDb } from '../setup/db.ts';
import type { Db } from '../../server/db/types.ts';
import { LAYERS, type LayerDef } from '../../catalog/layers.ts';
import { ANONYMOUS } from '../../catalog/access.ts';
import { cellsPerTile, pyramidLastZoom } from '../../tiles/cluster.ts';
import { PostgisEngine } from '../../tiles/engine-postgis.ts';
import { GeojsonVtEngine } from '../../tiles/engine-geojsonvt.ts';
import { DbFeatureSource } from '../../tiles/source.ts';
import { tileContaining } from '../../tiles/tile-coords.ts';
import type { TileFilters } from '../../tiles/filters.ts';
import { decodeTile } from './helpers/decode.ts';
import { QUIET } from './helpers/rows.ts';

/**
 * The count pyramid (tile_cluster_cells, kept by statement triggers) must equal a
 * brute-force count of the live points, per zoom, cell, level and district, after
 * any mix of writes: single and multi-row inserts (imports), moves, level and
 * district changes, soft deletes and restores, hard deletes, truncation.
 */
let db: Db;
beforeAll(async () => {
  db = await testDb();
});
afterAll(async () => db?.close());

const W = 20037508.342789244;
const RISK = LAYERS.find((l) => l.id === 'risk_points')!;
/** The pyramid keeps z0–z14: every clustered zoom, and the zooms where dense tiles cluster. */
const LAST_Z = pyramidLastZoom(RISK.cluster!);

/** Rows where the pyramid and a fresh aggregate of `table` disagree (none when right). */
async function mismatches(layer: string, table: string, maxZ: number, perTile: number): Promise<unknown[]> {
  const r = await db.query(
    `WITH truth AS (
       SELECT g.z, floor((ST_X(t.geom3857) + ${W}) / (${2 * W} / (2 ^ g.z * $2::int)))::int AS cx,
              floor((${W} - ST_Y(t.geom3857)) / (${2 * W} / (2 ^ g.z * $2::int)))::int AS cy,
              t.level, t.district_id AS district, count(*) AS n, sum(ST_X(t.geom3857)) AS sx, sum(ST_Y(t.geom3857)) AS sy
         FROM ${table} t CROSS JOIN generate_series(0, $3::int) AS g(z)
        WHERE t.deleted_at IS NULL
        GROUP BY 1, 2, 3, 4, 5
     ), kept AS (SELECT * FROM tile_cluster_cells WHERE layer = $1)
     SELECT coalesce(a.z, b.z) AS z, coalesce(a.cx, b.cx) AS cx, coalesce(a.cy, b.cy) AS cy, a.n AS truth, b.n AS kept
       FROM truth a FULL JOIN kept b USING (z, cx, cy, level, district)
      WHERE a.n IS DISTINCT FROM b.n
         OR abs(a.sx - b.sx) > 1e-6 * (abs(a.sx) + 1) OR abs(a.sy - b.sy) > 1e-6 * (abs(a.sy) + 1)
      LIMIT 5`,
    [layer, perTile, maxZ],
  );
  return r.rows;
}

function rng(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
}

describe('count pyramid of clustered layers', () => {
  it('its trigger arguments match the registry (cells per tile, last zoom kept: z14)', async () => {
    const r = await db.query<{ table: string; args: string }>(
      `SELECT c.relname AS table, encode(t.tgargs, 'escape') AS args
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname LIKE '%\\_cells\\_%' ESCAPE '\\'`,
    );
    const clustered = LAYERS.filter((l) => l.cluster && l.geometry === 'point');
    expect(clustered.length).toBeGreaterThan(0);
    for (const layer of clustered) {
      const rows = r.rows.filter((row) => row.table === layer.table);
      expect(rows, layer.id).toHaveLength(4);
      for (const row of rows) {
        expect(row.args.split('\\000').filter(Boolean)).toEqual([layer.id, String(cellsPerTile(layer.cluster!)), String(pyramidLastZoom(layer.cluster!))]);
      }
    }
  });

  it('equals a brute-force count after random inserts, imports, moves, level changes, soft and hard deletes', async () => {
    const random = rng(17);
    const near = () => [QUIET.lon + (random() - 0.5) * 0.4, QUIET.lat + (random() - 0.5) * 0.4];
    const levels = ['red', 'orange', 'yellow', 'blue'];
    const districts = ['huadu', 'yuexiu', 'pingshan'];
    const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)];
    const ids: number[] = [];
    expect(await mismatches('risk_points', 'risk_points', LAST_Z, 8)).toEqual([]);

    for (let round = 0; round < 6; round++) {
      // One-row inserts (edits) and one multi-row insert (how imports write).
      for (let i = 0; i < 15; i++) {
        const [lon, lat] = near();
        const r = await db.query<{ id: number }>(
          `INSERT INTO risk_points (district_id, name_zh, category, level, responsible_unit, synthetic, geom)
           VALUES ($1, '金字塔', 'fire', $2, '测试单位', true, ST_SetSRID(ST_MakePoint($3, $4), 4326)) RETURNING id`,
          [pick(districts), pick(levels), lon, lat],
        );
        ids.push(Number(r.rows[0].id));
      }
      const batch = await db.query<{ id: number }>(
        `INSERT INTO risk_points (district_id, name_zh, category, level, responsible_unit, synthetic, geom)
         SELECT (ARRAY['huadu','yuexiu'])[1 + i % 2], '导入', 'gas', (ARRAY['red','orange','yellow','blue'])[1 + i % 4], '测试单位', true,
                ST_SetSRID(ST_MakePoint($1 + (i % 20) * 0.003, $2 + (i / 20) * 0.003), 4326)
           FROM generate_series(1, 200) AS i RETURNING id`,
        [QUIET.lon + random() * 0.1, QUIET.lat + random() * 0.1],
      );
      ids.push(...batch.rows.map((r) => Number(r.id)));
      // Moves, level and district changes, a name change (no pyramid change), in one transaction.
      await db.tx(async (q) => {
        for (let i = 0; i < 20; i++) {
          const [lon, lat] = near();
          await q.query('UPDATE risk_points SET geom = ST_SetSRID(ST_MakePoint($2, $3), 4326) WHERE id = $1', [pick(ids), lon, lat]);
          await q.query('UPDATE risk_points SET level = $2 WHERE id = $1', [pick(ids), pick(levels)]);
          await q.query('UPDATE risk_points SET district_id = $2, name_zh = $3 WHERE id = $1', [pick(ids), pick(districts), `改名${i}`]);
        }
      });
      // Soft deletes, restores of some of them, hard deletes, a bulk move.
      const soft = Array.from({ length: 10 }, () => pick(ids));
      await db.query('UPDATE risk_points SET deleted_at = now() WHERE id = ANY($1::bigint[])', [soft]);
      await db.query('UPDATE risk_points SET deleted_at = NULL WHERE id = ANY($1::bigint[])', [soft.slice(0, 4)]);
      const hard = Array.from({ length: 8 }, () => pick(ids));
      await db.query('DELETE FROM risk_points WHERE id = ANY($1::bigint[])', [hard]);
      await db.query('UPDATE risk_points SET geom = ST_Translate(geom, 0.01, -0.02) WHERE id = ANY($1::bigint[])', [ids.slice(0, 50)]);
      expect(await mismatches('risk_points', 'risk_points', LAST_Z, 8), `round ${round}`).toEqual([]);
    }

    // A rolled-back write leaves the pyramid as it was.
    const before = await db.query<{ n: string }>(`SELECT sum(n)::text AS n FROM tile_cluster_cells WHERE layer = 'risk_points' AND z = 0`);
    await expect(
      db.tx(async (q) => {
        await q.query('DELETE FROM risk_points WHERE id = ANY($1::bigint[])', [ids]);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect((await db.query<{ n: string }>(`SELECT sum(n)::text AS n FROM tile_cluster_cells WHERE layer = 'risk_points' AND z = 0`)).rows).toEqual(before.rows);
    const live = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM risk_points WHERE deleted_at IS NULL');
    expect(before.rows[0].n).toBe(live.rows[0].n);

    // Emptied cells disappear instead of staying as zero rows.
    await db.query('DELETE FROM risk_points WHERE id = ANY($1::bigint[])', [ids]);
    expect(await mismatches('risk_points', 'risk_points', LAST_Z, 8)).toEqual([]);
    expect((await db.query(`SELECT 1 FROM tile_cluster_cells WHERE n = 0`)).rows).toEqual([]);
  }, 120_000);

  it('hazard sources are counted too, and TRUNCATE empties the layer', async () => {
    expect(await mismatches('hazard_sources', 'hazard_sources', LAST_Z, 8)).toEqual([]);
    const n = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM tile_cluster_cells WHERE layer = 'hazard_sources'`);
    expect(Number(n.rows[0].n)).toBeGreaterThan(0);
    await db.tx(async (q) => {
      await q.exec('TRUNCATE hazard_sources CASCADE');
      const after = await q.query<{ n: string }>(`SELECT count(*)::text AS n FROM tile_cluster_cells WHERE layer = 'hazard_sources'`);
      expect(after.rows[0].n).toBe('0');
    });
  });
});

/**
 * Dense tiles from belowZoom to z14 (more than denseTilePoints points) are clustered
 * from the pyramid: the same tile as aggregating every point of the tile (the
 * statement used past z14), without reading those points. ST_AsMVT: PostgreSQL only
 * (PGlite's PostGIS is built without protobuf-c, so it has no ST_AsMVT).
 */
describe.runIf(backend === 'postgres')('dense tiles z12–z14 from the pyramid', () => {
  const centre = { lon: QUIET.lon + 0.31, lat: QUIET.lat + 0.27 };
  beforeAll(async () => {
    // 7,000 points in a 0.012° square: dense at z12, z13 and z14 (a z14 tile is ~0.022° wide),
    // also with each filter below (a third of them per district, half red or orange).
    await db.query(
      `INSERT INTO risk_points (district_id, name_zh, category, level, responsible_unit, synthetic, geom)
       SELECT (ARRAY['huadu','yuexiu','pingshan'])[1 + i % 3], '密集' || i, 'fire', (ARRAY['red','orange','yellow','blue'])[1 + i % 4], '测试单位', true,
              ST_SetSRID(ST_MakePoint($1 + ((i * 7919) % 7000) / 7000.0 * 0.012 - 0.006, $2 + ((i * 104729) % 6997) / 6997.0 * 0.012 - 0.006), 4326)
         FROM generate_series(1, 7000) AS i`,
      [centre.lon, centre.lat],
    );
    await db.query('ANALYZE risk_points');
  });

  it('equal aggregating every point, for every filter, and read no points but those of single-point cells', async () => {
    const engine = new PostgisEngine(db);
    const stmts = await engine.start();
    const aggregate = stmts.get('risk_points|public')!.aggregateText!;
    expect(RISK.cluster!.belowZoom).toBeLessThanOrEqual(12);
    for (let z = RISK.cluster!.belowZoom; z <= LAST_Z; z++) {
      const tile = tileContaining(centre.lon, centre.lat, z);
      const filterSets: TileFilters[] = [{}, { level: ['red', 'orange'] }, { district: ['yuexiu'] }];
      for (const filters of filterSets) {
        // The points statement finds the tile dense (from the pyramid) and draws nothing...
        const points = await engine.bind({ layer: RISK, tile, filters, who: ANONYMOUS });
        const drawn = await db.query<{ dense: boolean; mvt: Uint8Array | null }>(points.text, points.values);
        expect(drawn.rows[0].dense, `z${z} ${JSON.stringify(filters)} dense`).toBe(true);
        expect(drawn.rows[0].mvt?.length ?? 0).toBe(0);
        // ...and the clusters read from the pyramid are those of aggregating every point.
        const bound = await engine.bindClusters({ layer: RISK, tile, filters, who: ANONYMOUS });
        const [fromPyramid, fromPoints] = await Promise.all([db.query<{ mvt: Uint8Array }>(bound.text, bound.values), db.query<{ mvt: Uint8Array }>(aggregate, bound.values)]);
        const sorted = (mvt: Uint8Array) => (decodeTile(mvt).risk_points ?? []).map((f) => JSON.stringify(f)).sort().map((f) => JSON.parse(f) as { properties: Record<string, unknown> });
        const a = sorted(fromPyramid.rows[0].mvt);
        const b = sorted(fromPoints.rows[0].mvt);
        expect(a.length, `z${z} ${JSON.stringify(filters)}`).toBeGreaterThan(0);
        expect(a.some((f) => f.properties.cluster === true), `z${z} clustered`).toBe(true);
        expect(a, `z${z} ${JSON.stringify(filters)}`).toEqual(b);
        // And what the engine serves is that tile.
        expect(sorted(await engine.renderLayer({ layer: RISK, tile, filters, who: ANONYMOUS }))).toEqual(a);
      }
      // The density is counted and the clusters read from the pyramid: the plans read rows of
      // risk_points only for single-point cells; counting and aggregating read thousands.
      for (const bound of [await engine.bind({ layer: RISK, tile, filters: {}, who: ANONYMOUS }), await engine.bindClusters({ layer: RISK, tile, filters: {}, who: ANONYMOUS })]) {
        const plan = await db.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${bound.text}`, bound.values);
        expect(rowsRead(plan.rows[0]['QUERY PLAN'], 'risk_points'), `z${z}`).toBeLessThan(100);
      }
    }
  }, 60_000);

  it('a tile the pyramid says is sparse is drawn point by point, past z14 too', async () => {
    const engine = new PostgisEngine(db);
    // Beside the dense square: a few points per tile. z15–z17 read the density from the
    // pyramid's z12–z14 cells, z18 counts the table.
    const spot = { lon: centre.lon + 0.2, lat: centre.lat };
    await db.query(
      `INSERT INTO risk_points (district_id, name_zh, category, level, responsible_unit, synthetic, geom)
       SELECT 'huadu', '稀疏' || i, 'fire', 'red', '测试单位', true, ST_SetSRID(ST_MakePoint($1 + i * 0.00001, $2), 4326) FROM generate_series(1, 3) AS i`,
      [spot.lon, spot.lat],
    );
    for (const z of [12, 14, 15, 17, 18]) {
      const tile = tileContaining(spot.lon, spot.lat, z);
      const points = await engine.bind({ layer: RISK, tile, filters: {}, who: ANONYMOUS });
      const r = await db.query<{ dense: boolean; mvt: Uint8Array }>(points.text, points.values);
      expect(r.rows[0].dense, `z${z}`).toBe(false);
      const features = decodeTile(r.rows[0].mvt).risk_points ?? [];
      expect(features.filter((f) => f.properties.name_zh?.toString().startsWith('稀疏')), `z${z}`).toHaveLength(3);
      expect(features.some((f) => f.properties.cluster)).toBe(false);
    }
  });
});

/** Rows produced by the scans of `table` in an EXPLAIN (ANALYZE, FORMAT JSON) plan. */
function rowsRead(plan: unknown, table: string): number {
  let n = 0;
  const walk = (node: Record<string, unknown>) => {
    if (node['Relation Name'] === table) n += Number(node['Actual Rows']) * Number(node['Actual Loops'] ?? 1);
    for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
  };
  const root = (typeof plan === 'string' ? JSON.parse(plan) : plan) as { Plan: Record<string, unknown> }[];
  walk(root[0].Plan);
  return n;
}

/**
 * The in-process engine (the embedded backend's) reads its clustered tiles below
 * belowZoom from the same pyramid, without loading the layer: the tile must be the
 * one it makes by clustering the layer's points in memory, byte for byte, for every
 * filter and for callers who see restricted fields.
 */
describe('clustered tiles of the in-process engine from the pyramid', () => {
  const spot = { lon: QUIET.lon - 0.4, lat: QUIET.lat - 0.3 };
  class CountingSource extends DbFeatureSource {
    loads = 0;
    override loadLayer(layer: LayerDef) {
      this.loads++;
      return super.loadLayer(layer);
    }
  }
  beforeAll(async () => {
    // Clumps and scattered points: clusters, single-point cells and empty cells at every zoom.
    await db.query(
      `INSERT INTO risk_points (district_id, name_zh, category, level, responsible_unit, synthetic, geom)
       SELECT (ARRAY['huadu','yuexiu','pingshan'])[1 + i % 3], '金字塔' || i, 'fire', (ARRAY['red','orange','yellow','blue'])[1 + (i * 7) % 4], '测试单位', true,
              ST_SetSRID(ST_MakePoint($1 + CASE WHEN i % 5 = 0 THEN ((i * 7919) % 1000) / 1000.0 * 1.5 ELSE ((i * 7919) % 997) / 997.0 * 0.05 END,
                                      $2 + CASE WHEN i % 5 = 0 THEN ((i * 104729) % 1009) / 1009.0 * 1.2 ELSE ((i * 104729) % 991) / 991.0 * 0.05 END), 4326)
         FROM generate_series(1, 3000) AS i`,
      [spot.lon, spot.lat],
    );
  });

  it('equal clustering the points in memory, z0 to belowZoom − 1, without reading the layer', async () => {
    const viewer = { ...ANONYMOUS, canSeeRestricted: true };
    const filterSets: TileFilters[] = [{}, { level: ['red', 'orange'] }, { district: ['huadu'] }, { level: ['blue'], district: ['yuexiu', 'pingshan'] }];
    const source = new CountingSource(db);
    const fromPyramid = new GeojsonVtEngine(source);
    const inMemory = new GeojsonVtEngine(new DbFeatureSource(db), { pyramid: false });
    let features = 0;
    for (const layer of [RISK, LAYERS.find((l) => l.id === 'hazard_sources')!]) {
      for (let z = 0; z < layer.cluster!.belowZoom; z++) {
        const centre = tileContaining(spot.lon + 0.02, spot.lat + 0.02, z);
        for (const tile of [centre, { z, x: centre.x + 1, y: centre.y }, tileContaining(QUIET.lon, QUIET.lat, z)]) {
          for (const filters of filterSets) {
            for (const who of [ANONYMOUS, viewer]) {
              const q = { layer, tile, filters, who };
              const [a, b] = await Promise.all([fromPyramid.renderLayer(q), inMemory.renderLayer(q)]);
              const where = `${layer.id} ${z}/${tile.x}/${tile.y} ${JSON.stringify(filters)} ${who.canSeeRestricted ? 'viewer' : 'anonymous'}`;
              expect(Buffer.from(a).equals(Buffer.from(b)), where).toBe(true);
              features += decodeTile(a)[layer.id]?.length ?? 0;
            }
          }
        }
      }
    }
    expect(features).toBeGreaterThan(100);
    expect(source.loads).toBe(0);
  }, 120_000);
});

/**
 * Why the embedded engine reads the pyramid's rows and encodes the tile in Node rather
 * than running the ST_AsMVT statements: PGlite's PostGIS is built without protobuf-c, so
 * it has no ST_AsMVT. When a PGlite release brings it, this fails, and the embedded
 * backend could run the PostgreSQL engine's statements.
 */
describe.runIf(backend === 'embedded')('PGlite PostGIS', () => {
  it('has no ST_AsMVT (built without protobuf-c)', async () => {
    await expect(db.query(`SELECT ST_AsMVTGeom(ST_Point(1, 1, 3857), ST_TileEnvelope(0, 0, 0)) AS g`)).rejects.toThrow(/protobuf-c/);
  });
});
