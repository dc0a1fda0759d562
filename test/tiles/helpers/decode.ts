import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';
import type { Feature, FeatureCollection } from 'geojson';

/** A decoded feature in tile coordinates (integers, extent 4096). */
export interface DecodedFeature {
  id: number | undefined;
  type: 1 | 2 | 3;
  properties: Record<string, unknown>;
  /** Points: one ring per point; lines: one ring per line; polygons: rings. */
  geometry: [number, number][][];
}

export type DecodedTile = Record<string, DecodedFeature[]>;

export function decodeTile(buf: Uint8Array): DecodedTile {
  const tile = new VectorTile(new PbfReader(buf));
  const out: DecodedTile = {};
  for (const [name, layer] of Object.entries(tile.layers)) {
    out[name] = [];
    for (let i = 0; i < layer.length; i++) {
      const f = layer.feature(i);
      out[name].push({
        id: f.id,
        type: f.type as 1 | 2 | 3,
        properties: { ...f.properties },
        geometry: f.loadGeometry().map((ring) => ring.map((p) => [p.x, p.y] as [number, number])),
      });
    }
  }
  return out;
}

/** GeoJSON (lon/lat) of every layer of a tile, for golden fixtures people can open in QGIS. */
export function tileToGeoJson(buf: Uint8Array, z: number, x: number, y: number): Record<string, FeatureCollection> {
  const tile = new VectorTile(new PbfReader(buf));
  const out: Record<string, FeatureCollection> = {};
  const round = (v: unknown): unknown => (typeof v === 'number' ? Math.round(v * 1e7) / 1e7 : Array.isArray(v) ? v.map(round) : v);
  for (const [name, layer] of Object.entries(tile.layers)) {
    const features: Feature[] = [];
    for (let i = 0; i < layer.length; i++) {
      const g = layer.feature(i).toGeoJSON(x, y, z);
      features.push({ ...g, geometry: { ...g.geometry, coordinates: round((g.geometry as { coordinates: unknown }).coordinates) } as Feature['geometry'] });
    }
    out[name] = { type: 'FeatureCollection', features };
  }
  return out;
}
