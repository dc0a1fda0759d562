import { describe, expect, it } from 'vitest';
import { cleanFeature, encodeLayer } from '../../tiles/mvt-encode.ts';
import { etagMatches } from '../../tiles/fast-path.ts';
import { lintTile } from '../tiles/helpers/mvt-lint.ts';
import { decodeTile } from '../tiles/helpers/decode.ts';

describe('MVT encoding', () => {
  it('writes version 2 layers with the feature id and properties', () => {
    const buf = encodeLayer('risk_points', [{ type: 1, geometry: [[10, 20]], tags: { level: 'red', n: 2.5, ok: true, none: null }, id: 42 }], 4096);
    expect(lintTile(buf)).toEqual([]);
    const tile = decodeTile(buf);
    expect(tile.risk_points).toEqual([{ id: 42, type: 1, properties: { level: 'red', n: 2.5, ok: true }, geometry: [[[10, 20]]] }]);
  });

  it('an empty layer encodes to nothing, so layers concatenate into a tile', () => {
    expect(encodeLayer('a', [], 4096).length).toBe(0);
    const both = Buffer.concat([encodeLayer('a', [{ type: 1, geometry: [[1, 1]], tags: {} }], 4096), encodeLayer('b', [{ type: 1, geometry: [[2, 2]], tags: {} }], 4096)]);
    expect(lintTile(both)).toEqual([]);
    expect(Object.keys(decodeTile(both))).toEqual(['a', 'b']);
  });

  it('removes repeated points, spikes, collinear vertices and rings under one square unit', () => {
    const polygon = cleanFeature({
      type: 3,
      tags: {},
      geometry: [
        // outer ring with a repeated point, a collinear vertex and a spike
        [[0, 0], [0, 0], [50, 0], [100, 0], [130, 0], [100, 0], [100, 100], [0, 100], [0, 0]],
        // a sub-unit hole
        [[10, 10], [10, 11], [11, 10], [10, 10]],
        // a real hole
        [[20, 20], [20, 40], [40, 40], [40, 20], [20, 20]],
      ],
    })!;
    expect(polygon.geometry).toEqual([
      [[0, 0], [100, 0], [100, 100], [0, 100], [0, 0]],
      [[20, 20], [20, 40], [40, 40], [40, 20], [20, 20]],
    ]);
    const buf = encodeLayer('p', [polygon], 4096);
    expect(lintTile(buf)).toEqual([]);
    expect(cleanFeature({ type: 2, tags: {}, geometry: [[[5, 5], [5, 5]]] })).toBeNull();
    expect(cleanFeature({ type: 3, tags: {}, geometry: [[[0, 0], [1, 0], [0, 1], [0, 0]]] })).toBeNull();
  });

  it('the lint catches what decoders let through', () => {
    // version 1, a duplicate key and a repeated point, hand-written: a layer named "x".
    const bad = encodeLayer('x', [{ type: 2, tags: { a: 1 }, geometry: [[[0, 0], [3, 3]]] }], 4096);
    expect(lintTile(bad)).toEqual([]);
    const v1 = Buffer.from(bad);
    // Field 15 (version) is the first byte pair of the layer message: 0x78 0x02.
    const at = v1.indexOf(Buffer.from([0x78, 0x02]));
    v1[at + 1] = 1;
    expect(lintTile(v1)).toContain('layer x: version 1, expected 2');
    expect(lintTile(Buffer.concat([bad, bad]))).toContain('layer x: duplicate layer name');
  });
});

describe('If-None-Match', () => {
  it('matches strong, weak, listed and * tags', () => {
    expect(etagMatches('"abc"', '"abc"')).toBe(true);
    expect(etagMatches('W/"abc"', '"abc"')).toBe(true);
    expect(etagMatches('"x", "abc"', '"abc"')).toBe(true);
    expect(etagMatches('*', '"abc"')).toBe(true);
    expect(etagMatches('"abd"', '"abc"')).toBe(false);
  });
});
