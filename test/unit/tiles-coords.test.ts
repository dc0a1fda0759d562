import { describe, expect, it } from 'vitest';
import {
  geometryWorldBBox,
  latToWorldY,
  lonToWorldX,
  quadCode,
  quadRange,
  tileBoundsLonLat,
  tileContaining,
  tileRange,
  worldXToLon,
  worldYToLat,
} from '../../tiles/tile-coords.ts';

describe('tile coordinates', () => {
  it('projects lon/lat to world coordinates and back', () => {
    for (const [lon, lat] of [[113.27, 23.13], [-70.5, -33.4], [0, 0], [179.9, 85]]) {
      expect(worldXToLon(lonToWorldX(lon))).toBeCloseTo(lon, 9);
      expect(worldYToLat(latToWorldY(lat))).toBeCloseTo(lat, 9);
    }
    expect(latToWorldY(89.9)).toBe(0);
    expect(latToWorldY(-89.9)).toBe(1);
  });

  it('finds the tile of a point and the bounds of a tile', () => {
    // Yuexiu, Guangzhou at zoom 10.
    const t = tileContaining(113.27, 23.13, 10);
    expect(t).toEqual({ z: 10, x: 834, y: 444 });
    const [w, s, e, n] = tileBoundsLonLat(t);
    expect(113.27).toBeGreaterThan(w);
    expect(113.27).toBeLessThan(e);
    expect(23.13).toBeGreaterThan(s);
    expect(23.13).toBeLessThan(n);
  });

  it('gives the inclusive tile range of a box, clamped to the world', () => {
    expect(tileRange([-0.1, 0.2, 0.3, 1.5], 2)).toEqual({ x0: 0, y0: 0, x1: 1, y1: 3 });
  });

  it('bboxes every geometry type', () => {
    const b = geometryWorldBBox({ type: 'MultiPolygon', coordinates: [[[[113, 23], [114, 23], [114, 24], [113, 23]]]] })!;
    expect(b[0]).toBeCloseTo(lonToWorldX(113));
    expect(b[1]).toBeCloseTo(latToWorldY(24));
    expect(geometryWorldBBox({ type: 'GeometryCollection', geometries: [] })).toBeNull();
  });

  it('quad codes: every tile is one contiguous code range (checked against tile arithmetic)', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let i = 0; i < 2000; i++) {
      const wx = rand();
      const wy = rand();
      const code = quadCode(wx, wy);
      for (const z of [0, 1, 5, 12, 17, 24]) {
        const n = 2 ** z;
        const tile = { z, x: Math.floor(wx * n), y: Math.floor(wy * n) };
        const [start, end] = quadRange(tile);
        expect(code).toBeGreaterThanOrEqual(start);
        expect(code).toBeLessThan(end);
        // And not in the neighbour's range.
        if (tile.x + 1 < n) {
          const [s2, e2] = quadRange({ ...tile, x: tile.x + 1 });
          expect(code < s2 || code >= e2).toBe(true);
        }
      }
    }
  });
});
