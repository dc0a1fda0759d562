import { describe, expect, it } from 'vitest';
import { GeojsonVtEngine } from '../../tiles/engine-geojsonvt.ts';
import { MemoryFeatureSource, type SourceFeature } from '../../tiles/source.ts';
import { getLayer, type LayerDef } from '../../catalog/layers.ts';
import { ANONYMOUS } from '../../catalog/access.ts';
import { cellsPerTile } from '../../tiles/cluster.ts';
import { tileContaining } from '../../tiles/tile-coords.ts';
import { decodeTile } from '../tiles/helpers/decode.ts';
import { lintTile } from '../tiles/helpers/mvt-lint.ts';

const risk = getLayer('risk_points')!;

function point(id: number, lon: number, lat: number, level: string, district = 'huadu'): SourceFeature {
  return {
    id,
    geometry: { type: 'Point', coordinates: [lon, lat] },
    properties: { name_zh: `点${id}`, name_en: null, district_id: district, street_id: null, level, category: 'fire', level_source: 'manual', responsible_unit: '单位', last_inspection: null, address: null, synthetic: true },
  };
}

async function render(features: SourceFeature[], z: number, lon: number, lat: number, opts: { filters?: object; layer?: LayerDef; dense?: number } = {}) {
  const layer = opts.layer ?? risk;
  const engine = new GeojsonVtEngine(new MemoryFeatureSource({ [layer.id]: features }), { denseTilePoints: opts.dense ?? 2000, resolveLayer: () => layer });
  const tile = tileContaining(lon, lat, z);
  const buf = await engine.renderLayer({ layer, tile, filters: opts.filters ?? {}, who: ANONYMOUS });
  expect(lintTile(buf)).toEqual([]);
  return decodeTile(buf)[layer.id] ?? [];
}

describe('grid clustering', () => {
  it('uses 8 x 8 cells per tile for a 60 px radius', () => {
    expect(cellsPerTile({ belowZoom: 12, radius: 60 })).toBe(8);
    expect(cellsPerTile({ belowZoom: 12, radius: 1000 })).toBe(1);
    expect(cellsPerTile({ belowZoom: 12, radius: 1 })).toBe(64);
  });

  it('below belowZoom, close points become one cluster with counts per level and the highest level', async () => {
    const pts = [point(1, 113.2, 23.4, 'blue'), point(2, 113.2001, 23.4001, 'red'), point(3, 113.2002, 23.4, 'yellow'), point(4, 113.2003, 23.4002, 'blue')];
    const [cluster, ...rest] = await render(pts, 8, 113.2, 23.4);
    expect(rest).toEqual([]);
    expect(cluster.id).toBeUndefined();
    expect(cluster.properties).toEqual({ cluster: true, point_count: 4, red: 1, orange: 0, yellow: 1, blue: 2, highest_level: 'red' });
  });

  it('a cell with one point keeps the point, its id and its properties', async () => {
    const [only] = await render([point(7, 113.2, 23.4, 'orange')], 5, 113.2, 23.4);
    expect(only.id).toBe(7);
    expect(only.properties).toMatchObject({ name_zh: '点7', level: 'orange' });
    expect(only.properties.cluster).toBeUndefined();
  });

  it('from belowZoom on, points are individual', async () => {
    const pts = [point(1, 113.2, 23.4, 'blue'), point(2, 113.2001, 23.4001, 'red')];
    const features = await render(pts, risk.cluster!.belowZoom, 113.2, 23.4);
    expect(features.map((f) => f.id).sort()).toEqual([1, 2]);
  });

  it('filters apply before clustering: counts are of the matching points only', async () => {
    const pts = [point(1, 113.2, 23.4, 'red'), point(2, 113.2001, 23.4001, 'red'), point(3, 113.2002, 23.4, 'blue'), point(4, 113.2003, 23.4, 'red', 'yuexiu')];
    const [c] = await render(pts, 8, 113.2, 23.4, { filters: { level: ['red'], district: ['huadu'] } });
    expect(c.properties).toMatchObject({ point_count: 2, red: 2, blue: 0, highest_level: 'red' });
  });

  it('a dense tile above belowZoom is clustered anyway; a sparse one is not', async () => {
    const pts = Array.from({ length: 30 }, (_, i) => point(i + 1, 113.2 + (i % 6) * 0.0003, 23.4 + Math.floor(i / 6) * 0.0003, i === 0 ? 'red' : 'blue'));
    const dense = await render(pts, 14, 113.2, 23.4, { dense: 20 });
    expect(dense.every((f) => f.properties.cluster)).toBe(true);
    expect(dense.reduce((sum, f) => sum + Number(f.properties.point_count), 0)).toBe(30);
    const sparse = await render(pts, 14, 113.2, 23.4, { dense: 30 });
    expect(sparse).toHaveLength(30);
  });
});
