import { describe, expect, it } from 'vitest';
import { TileCache, type CachedTile } from '../../tiles/cache.ts';
import { variantOf } from '../../tiles/fast-path.ts';
import { affectedAreas, changeBoxes } from '../../tiles/service.ts';
import { getLayer } from '../../catalog/layers.ts';
import { TILE_DEFAULTS } from '../../tiles/engine.ts';
import { tileContaining, tileWorldBBox, type TileCoord } from '../../tiles/tile-coords.ts';

function entry(key: string, tile: TileCoord, bytes = 100, layers = ['risk_points']): CachedTile {
  return { key, status: 200, body: Buffer.alloc(bytes), etag: '"e"', layers, tile, headers: {}, notModifiedHeaders: {}, replayable: true };
}
const key = (t: TileCoord, layers = 'risk_points') => `a:/tiles/${layers}/${t.z}/${t.x}/${t.y}.mvt`;

describe('tile cache', () => {
  it('is bounded in bytes and evicts the least recently used entry', () => {
    const cache = new TileCache(3 * (1000 + 600));
    const t = (x: number) => ({ z: 10, x, y: 0 });
    for (const x of [1, 2, 3]) cache.set(entry(key(t(x)), t(x), 1000), cache.epoch);
    expect(cache.get(key(t(1)))).toBeDefined(); // 1, the oldest, was asked for since
    cache.set(entry(key(t(4)), t(4), 1000), cache.epoch);
    expect(cache.keys().sort()).toEqual([key(t(1)), key(t(3)), key(t(4))].sort());
    expect(cache.stats().bytes).toBeLessThanOrEqual(cache.maxBytes);
    expect(cache.stats().evictions).toBe(1);
    // 1 had its second chance and is unmarked now, behind 3 and 4: the next tile drops 3.
    cache.set(entry(key(t(5)), t(5), 1000), cache.epoch);
    expect(cache.keys()).toEqual([key(t(4)), key(t(1)), key(t(5))]);
  });

  it('keeps what is asked for under a stream of new tiles, and evicts when every entry was asked for', () => {
    const cache = new TileCache(4 * (1000 + 600));
    const t = (x: number) => ({ z: 11, x, y: 0 });
    const hot = key(t(0));
    cache.set(entry(hot, t(0), 1000), cache.epoch);
    for (let x = 1; x <= 50; x++) {
      cache.set(entry(key(t(x)), t(x), 1000), cache.epoch);
      expect(cache.get(hot)).toBeDefined();
    }
    expect(cache.stats().entries).toBe(4);
    for (const k of cache.keys()) cache.get(k); // every entry marked: a pass clears them and still ends
    cache.set(entry(key(t(99)), t(99), 1000), cache.epoch);
    expect(cache.stats().entries).toBe(4);
    expect(cache.stats().bytes).toBeLessThanOrEqual(cache.maxBytes);
  });

  it('refuses a tile rendered across an invalidation (it may show the old data)', () => {
    const cache = new TileCache(1e6);
    const started = cache.epoch;
    cache.invalidate('risk_points', () => []);
    expect(cache.set(entry('k', { z: 1, x: 0, y: 0 }), started)).toBe(false);
    expect(cache.set(entry('k', { z: 1, x: 0, y: 0 }), cache.epoch)).toBe(true);
  });

  it('size 0 turns caching off', () => {
    const cache = new TileCache(0);
    expect(cache.set(entry('k', { z: 1, x: 0, y: 0 }), cache.epoch)).toBe(false);
  });

  it('an edit drops exactly the tiles over the old and new positions, at every zoom, for that layer only', () => {
    const cache = new TileCache(1e9);
    const layer = getLayer('shelters')!; // not clustered: the area is the point plus the buffer
    const before = { lon: 113.2601, lat: 23.1302 };
    const after = { lon: 113.3301, lat: 23.1102 };
    const far = { lon: 114.35, lat: 22.7 };
    const cached: TileCoord[] = [];
    for (let z = 0; z <= 18; z++) {
      for (const p of [before, after, far]) {
        const t = tileContaining(p.lon, p.lat, z);
        // the tile and its eight neighbours
        for (let dx = -1; dx <= 1; dx++)
          for (let dy = -1; dy <= 1; dy++) {
            const n = { z, x: t.x + dx, y: t.y + dy };
            if (n.x < 0 || n.y < 0 || n.x >= 2 ** z || n.y >= 2 ** z) continue;
            if (!cached.some((c) => c.z === n.z && c.x === n.x && c.y === n.y)) cached.push(n);
          }
      }
    }
    for (const t of cached) {
      cache.set(entry(key(t, 'shelters'), t, 10, ['shelters']), cache.epoch);
      cache.set(entry(key(t, 'risk_points'), t, 10, ['risk_points']), cache.epoch);
    }
    const change = { layer: 'shelters', id: 1, op: 'update' as const, before: { type: 'Point' as const, coordinates: [before.lon, before.lat] }, after: { type: 'Point' as const, coordinates: [after.lon, after.lat] } };
    const boxes = changeBoxes(change);
    const dropped = cache.invalidate('shelters', (z) => affectedAreas(layer, boxes, z, TILE_DEFAULTS));

    // Expected independently: a tile is affected when a position lies inside the tile grown by the buffer.
    const margin = (z: number) => TILE_DEFAULTS.buffer / TILE_DEFAULTS.extent / 2 ** z;
    const covers = (t: TileCoord, p: { lon: number; lat: number }) => {
      const [x0, y0, x1, y1] = tileWorldBBox(t);
      const m = margin(t.z);
      const [wx, wy] = [(p.lon + 180) / 360, 0.5 - Math.log(Math.tan(Math.PI / 4 + (p.lat * Math.PI) / 360)) / (2 * Math.PI)];
      return wx >= x0 - m && wx <= x1 + m && wy >= y0 - m && wy <= y1 + m;
    };
    const expected = cached.filter((t) => covers(t, before) || covers(t, after));
    expect(dropped).toBe(expected.length);
    for (const t of cached) {
      expect(cache.has(key(t, 'shelters')), `${t.z}/${t.x}/${t.y}`).toBe(!expected.includes(t));
      expect(cache.has(key(t, 'risk_points'))).toBe(true);
    }
    // Both positions' own tiles went at every zoom; the far point's stayed from zoom 8 on.
    for (let z = 0; z <= 18; z++) {
      expect(cache.has(key(tileContaining(before.lon, before.lat, z), 'shelters'))).toBe(false);
      expect(cache.has(key(tileContaining(after.lon, after.lat, z), 'shelters'))).toBe(false);
      if (z >= 8) expect(cache.has(key(tileContaining(far.lon, far.lat, z), 'shelters'))).toBe(true);
    }
  });

  it('for a clustered layer the whole grid cell counts: its cluster can sit anywhere in it', () => {
    const layer = getLayer('risk_points')!;
    const [box] = changeBoxes({ layer: 'risk_points', id: 1, op: 'insert', after: { type: 'Point', coordinates: [113.26, 23.13] } });
    const [area] = affectedAreas(layer, [box], 10, TILE_DEFAULTS);
    const cell = 1 / (2 ** 10 * 8);
    expect(area[2] - area[0]).toBeCloseTo(cell + 2 * (64 / 4096 / 2 ** 10), 12);
    expect(area[0]).toBeLessThanOrEqual(box[0]);
    expect(area[2]).toBeGreaterThanOrEqual(box[2]);
  });

  it('big areas at high zoom are matched against the cached tiles, not enumerated', () => {
    const cache = new TileCache(1e9);
    const t = { z: 22, x: 3_000_000, y: 1_700_000 };
    cache.set(entry(key(t), t), cache.epoch);
    const start = performance.now();
    expect(cache.invalidate('risk_points', () => [[0, 0, 1, 1]])).toBe(1);
    expect(performance.now() - start).toBeLessThan(50);
  });

  it('compresses a cached tile once per encoding, counts the variants, and forgets them with the entry', () => {
    const cache = new TileCache(1e6);
    const t = { z: 12, x: 3336, y: 1780 };
    const e = { ...entry(key(t), t), body: Buffer.from('tile '.repeat(400)) };
    cache.set(e, cache.epoch);
    const before = cache.stats().bytes;
    const gz = variantOf(e, 'gzip', cache);
    expect(gz).not.toBe(e);
    expect(gz.headers['Content-Encoding']).toBe('gzip');
    const grown = cache.stats().bytes;
    expect(grown).toBe(before + gz.body.length);
    expect(variantOf(e, 'gzip', cache)).toBe(gz);
    expect(cache.stats().bytes).toBe(grown);
    const br = variantOf(e, 'br', cache);
    expect(br.etag).not.toBe(gz.etag);
    expect(cache.stats().bytes).toBe(grown + br.body.length);
    expect(variantOf(e, 'identity', cache)).toBe(e);
    // Tiny tiles go as they are.
    const small = { ...entry('a:/tiles/x/0/0/0.mvt', { z: 0, x: 0, y: 0 }, 20) };
    expect(variantOf(small, 'gzip', cache)).toBe(small);
    cache.invalidateLayer('risk_points');
    expect(cache.stats().bytes).toBe(0);
  });
});
