import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, testDb } from '../setup/db.ts';
import { LAYERS, type LayerDef } from '../../catalog/layers.ts';
import { ANONYMOUS, type Principal } from '../../catalog/access.ts';
import { PostgisEngine } from '../../tiles/engine-postgis.ts';
import { GeojsonVtEngine } from '../../tiles/engine-geojsonvt.ts';
import { DbFeatureSource } from '../../tiles/source.ts';
import type { TileFilters } from '../../tiles/filters.ts';
import { tileContaining, type TileCoord } from '../../tiles/tile-coords.ts';
import type { Db } from '../../server/db/types.ts';
import { decodeTile } from './helpers/decode.ts';
import { compareTiles } from './helpers/compare.ts';
import { lintTile } from './helpers/mvt-lint.ts';
import { QUIET } from './helpers/rows.ts';

/**
 * The two engines on the same rows: ST_AsMVT (PostGIS) and geojson-vt + vt-pbf
 * must give the same features, properties and positions, within one tile unit per
 * axis (each rounds to integers on its own). Needs a real PostGIS server, so it
 * runs in the `postgres` project; the embedded project checks its engine against
 * the golden fixtures instead.
 */
const VIEWER: Principal = { ...ANONYMOUS, canSeeRestricted: true };
const PLACES: [number, number][] = [
  [113.27, 23.13],
  [113.22, 23.4],
  [113.59, 24.8],
  [114.35, 22.7],
  [113.12, 22.55],
];

let db: Db;
let postgis: PostgisEngine;
let inNode: GeojsonVtEngine;
beforeAll(async () => {
  if (backend !== 'postgres') return;
  db = await testDb();
  // A dense spot of 2,500 points, so tiles above belowZoom cluster by density too.
  await db.query(
    `INSERT INTO risk_points (district_id, name_zh, category, level, responsible_unit, synthetic, geom)
     SELECT (ARRAY['huadu','yuexiu'])[1 + i % 2], '密集点' || i, 'fire', (ARRAY['red','orange','yellow','blue'])[1 + i % 4], '测试单位', true,
            ST_SetSRID(ST_MakePoint($1 + (i % 50) * 0.0004, $2 + (i / 50) * 0.0004), 4326)
       FROM generate_series(1, 2500) AS i`,
    [QUIET.lon, QUIET.lat],
  );
  postgis = new PostgisEngine(db);
  inNode = new GeojsonVtEngine(new DbFeatureSource(db));
});
afterAll(async () => db?.close());

async function compare(layer: LayerDef, tile: TileCoord, filters: TileFilters, who: Principal): Promise<{ diffs: string[]; features: number }> {
  const q = { layer, tile, filters, who };
  const [a, b] = await Promise.all([postgis.renderLayer(q), inNode.renderLayer(q)]);
  const where = `${layer.id} ${tile.z}/${tile.x}/${tile.y} ${JSON.stringify(filters)}`;
  expect(lintTile(a), `ST_AsMVT ${where}`).toEqual([]);
  expect(lintTile(b), `geojson-vt ${where}`).toEqual([]);
  const da = decodeTile(a);
  return { diffs: compareTiles(da, decodeTile(b)).map((d) => `${where}: ${d}`), features: da[layer.id]?.length ?? 0 };
}

describe.skipIf(backend !== 'postgres')('ST_AsMVT and geojson-vt give the same tiles', () => {
  it.each(LAYERS.filter((l) => l.table).map((l) => [l.id, l] as const))('%s', async (_id, layer) => {
    const diffs: string[] = [];
    let features = 0;
    for (let z = layer.minzoom; z <= Math.min(layer.maxzoom, 17); z += z < 8 ? 2 : 1) {
      for (const [lon, lat] of PLACES) {
        const r = await compare(layer, tileContaining(lon, lat, z), {}, VIEWER);
        diffs.push(...r.diffs);
        features += r.features;
      }
    }
    expect(diffs).toEqual([]);
    expect(features).toBeGreaterThan(0);
  }, 120_000);

  it('clusters and filtered tiles agree, for anonymous and privileged callers, in sparse and dense places', async () => {
    const layer = LAYERS.find((l) => l.id === 'risk_points')!;
    const diffs: string[] = [];
    const filters: TileFilters[] = [{}, { level: ['red', 'orange'] }, { district: ['huadu'] }, { level: ['blue'], district: ['yuexiu', 'huadu'] }];
    const clustered: number[] = [];
    for (const [lon, lat] of [...PLACES, [QUIET.lon + 0.01, QUIET.lat + 0.01] as [number, number]]) {
      for (const z of [0, 4, 8, 10, 11, 12, 13, 14, 15]) {
        for (const f of filters) {
          for (const who of [ANONYMOUS, VIEWER]) {
            const tile = tileContaining(lon, lat, z);
            const r = await compare(layer, tile, f, who);
            diffs.push(...r.diffs);
            if (z >= 12) {
              const tileFeatures = decodeTile(await postgis.renderLayer({ layer, tile, filters: f, who })).risk_points ?? [];
              if (tileFeatures.some((x) => x.properties.cluster)) clustered.push(z);
            }
          }
        }
      }
    }
    expect(diffs).toEqual([]);
    // The dense spot is clustered above belowZoom in both engines.
    expect(clustered.length).toBeGreaterThan(0);
  }, 120_000);

  it('tiles at the antimeridian find their features (searched in Web Mercator, no wrap to -180)', async () => {
    const layer = LAYERS.find((l) => l.id === 'shelters')!;
    const r = await db.query<{ id: number }>(
      `INSERT INTO shelters (district_id, name_zh, setting, shelter_class, effective_area_m2, capacity, synthetic, geom)
       VALUES ('huadu', '日界线', 'outdoor', 'fixed', 100, 10, true, ST_SetSRID(ST_MakePoint(179.999, 10), 4326)) RETURNING id`,
    );
    const id = Number(r.rows[0].id);
    for (const z of [2, 6, 12]) {
      const tile = tileContaining(179.999, 10, z);
      const ids = (decodeTile(await postgis.renderLayer({ layer, tile, filters: {}, who: ANONYMOUS })).shelters ?? []).map((f) => f.id);
      expect(ids, `z${z}`).toContain(id);
    }
    await db.query('DELETE FROM shelters WHERE id = $1', [id]);
  });
});
