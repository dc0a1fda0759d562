import { describe, expect, it } from 'vitest';
import { fromGeojsonVt } from 'vt-pbf';
import geojsonvt from 'geojson-vt';
import { pickLayers, splitLayers } from '../../tiles/archive/layer-split.ts';

// Archive tiles hold several layers; a request for some of them gets exactly
// those layer messages, in the asked order, without decoding features.
function oneLayerTile(name: string, n: number): Buffer {
  const features = Array.from({ length: n }, (_, i) => ({ type: 'Feature' as const, properties: { i, name: `${name}-${i}` }, geometry: { type: 'Point' as const, coordinates: [i * 0.01, i * 0.01] } }));
  const index = new (geojsonvt as unknown as new (d: unknown, o: unknown) => { getTile(z: number, x: number, y: number): unknown })({ type: 'FeatureCollection', features }, { maxZoom: 0, indexMaxZoom: 0 });
  return Buffer.from(fromGeojsonVt({ [name]: index.getTile(0, 0, 0) as never }, { version: 2 }));
}

describe('splitting an MVT into its layers', () => {
  const a = oneLayerTile('alpha', 3);
  const b = oneLayerTile('bravo', 300);
  const c = oneLayerTile('charlie', 1);
  const tile = Buffer.concat([a, b, c]);

  it('finds every layer by name with its exact bytes', () => {
    const layers = splitLayers(tile);
    expect([...layers.keys()]).toEqual(['alpha', 'bravo', 'charlie']);
    expect(layers.get('alpha')!.equals(a)).toBe(true);
    expect(layers.get('bravo')!.equals(b)).toBe(true);
    expect(layers.get('charlie')!.equals(c)).toBe(true);
  });

  it('picks layers in the asked order and skips absent ones', () => {
    expect(pickLayers(tile, ['charlie', 'nope', 'alpha'])!.equals(Buffer.concat([c, a]))).toBe(true);
    expect(pickLayers(tile, ['nope'])).toBeNull();
    expect(pickLayers(Buffer.alloc(0), ['alpha'])).toBeNull();
  });

  it('refuses a truncated tile instead of reading past its end', () => {
    expect(() => splitLayers(tile.subarray(0, tile.length - 1).subarray(0, 5))).toThrow();
  });
});
