import { describe, expect, it } from 'vitest';
import { GeojsonVtEngine } from '../../tiles/engine-geojsonvt.ts';
import { MemoryFeatureSource } from '../../tiles/source.ts';
import { RISK_LEVELS } from '../../catalog/layers.ts';
import { ANONYMOUS } from '../../catalog/access.ts';
import { TILE_DEFAULTS } from '../../tiles/engine.ts';
import { latToWorldY, lonToWorldX, type TileCoord } from '../../tiles/tile-coords.ts';
import { SYNTHETIC_LAYER, syntheticRiskPoints } from '../tiles/helpers/synthetic-points.ts';
import { decodeTile } from '../tiles/helpers/decode.ts';
import { lintTile } from '../tiles/helpers/mvt-lint.ts';

const COUNT = 100_000;
const LIMIT = 500 * 1024;

describe('a 100,000-point layer', () => {
  const features = syntheticRiskPoints(COUNT, 2026);
  const layer = SYNTHETIC_LAYER;
  const engine = new GeojsonVtEngine(new MemoryFeatureSource({ [layer.id]: features }), { resolveLayer: () => layer });
  const render = async (tile: TileCoord) => Buffer.from(await engine.renderLayer({ layer, tile, filters: {}, who: ANONYMOUS }));

  // Points per tile at every zoom, from the coordinates alone.
  const counts = new Map<number, Map<string, number>>();
  for (let z = 0; z <= 16; z++) counts.set(z, new Map());
  for (const f of features) {
    const [lon, lat] = (f.geometry as { coordinates: number[] }).coordinates;
    const wx = lonToWorldX(lon);
    const wy = latToWorldY(lat);
    for (let z = 0; z <= 16; z++) {
      const key = `${Math.floor(wx * 2 ** z)}/${Math.floor(wy * 2 ** z)}`;
      const m = counts.get(z)!;
      m.set(key, (m.get(key) ?? 0) + 1);
    }
  }

  it('at zoom 0 the clusters count every point, and every red one', async () => {
    const buf = await render({ z: 0, x: 0, y: 0 });
    const tile = decodeTile(buf)[layer.id];
    expect(tile.length).toBeLessThan(200);
    const total = tile.reduce((n, f) => n + Number(f.properties.point_count ?? 1), 0);
    const red = tile.reduce((n, f) => n + Number(f.properties.cluster ? f.properties.red : f.properties.level === 'red' ? 1 : 0), 0);
    expect(total).toBe(COUNT);
    expect(red).toBe(features.filter((f) => f.properties.level === RISK_LEVELS[0]).length);
  });

  it('every tile with data from z0 to z16 is at most 500 kB', async () => {
    // Rendering all ~100k non-empty tiles of z13-z16 would take minutes, so per zoom
    // the test renders the tiles that can be largest: the three densest (largest
    // when clustering is off) and the three densest that stay below the dense-tile
    // limit (the largest tiles of individual points). Tile size grows with the
    // number of points in it, so these bound every other tile of the zoom.
    for (let z = 0; z <= 16; z++) {
      const byCount = [...counts.get(z)!].sort((a, b) => b[1] - a[1]);
      const plain = byCount.filter(([, n]) => n <= TILE_DEFAULTS.denseTilePoints);
      const sample = new Map([...byCount.slice(0, 3), ...plain.slice(0, 3)]);
      for (const [key, points] of sample) {
        const [x, y] = key.split('/').map(Number);
        const buf = await render({ z, x, y });
        expect(lintTile(buf)).toEqual([]);
        expect(buf.length, `tile ${z}/${key} with ${points} points`).toBeLessThanOrEqual(LIMIT);
      }
    }
    // The limit is reached through clustering: without it the densest z11 tile would hold thousands of points.
    expect(Math.max(...[...counts.get(11)!.values()])).toBeGreaterThan(TILE_DEFAULTS.denseTilePoints);
  }, 120_000);
});
