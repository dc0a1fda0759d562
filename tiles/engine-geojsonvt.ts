import GeoJSONVT from 'geojson-vt';
import type { Feature, FeatureCollection } from 'geojson';
import type { FeatureChange } from '../catalog/ports.ts';
import { getLayer, type LayerDef } from '../catalog/layers.ts';
import { EMPTY_LAYER, idIsProperty, TILE_DEFAULTS, tileProperties, type TileEngine, type TileGeometryOptions, type TileQuery } from './engine.ts';
import { featurePredicate } from './filters.ts';
import { clusterTile, type PointIndex } from './cluster.ts';
import { encodeLayer, type TileFeature } from './mvt-encode.ts';
import type { FeatureSource, SourceFeature } from './source.ts';
import { latToWorldY, lonToWorldX, quadCode } from './tile-coords.ts';

/**
 * The in-process engine: one geojson-vt index per layer, built from a feature
 * source at the first request for the layer, encoded with vt-pbf (MVT version 2).
 * Clustered point layers also keep a quad-code point index for the grid clusters.
 * A change marks the feature dirty; the next tile of that layer re-reads exactly
 * the dirty features from the source and rebuilds the layer's indexes.
 */
export interface GeojsonVtEngineOptions extends Partial<TileGeometryOptions> {
  /**
   * geojson-vt simplification tolerance in tile units. Default 0: keep every
   * vertex (then rounded and de-duplicated), so tiles match ST_AsMVT's within a unit.
   */
  tolerance?: number;
  /** How layer ids in change events are resolved (default: the registry). */
  resolveLayer?: (id: string) => LayerDef | undefined;
}

interface BuiltLayer {
  vt: GeoJSONVT | null;
  points: PointIndex | null;
}

interface LayerState {
  features: Map<number | string, SourceFeature> | null;
  dirty: Set<number | string>;
  reloadAll: boolean;
  built: BuiltLayer | null;
  building: Promise<void> | null;
}

export class GeojsonVtEngine implements TileEngine {
  readonly kind = 'geojson-vt' as const;
  private readonly opts: TileGeometryOptions & { tolerance: number };
  private readonly states = new Map<string, LayerState>();
  private readonly resolveLayer: (id: string) => LayerDef | undefined;

  constructor(
    private readonly source: FeatureSource,
    options: GeojsonVtEngineOptions = {},
  ) {
    const { resolveLayer, ...rest } = options;
    this.opts = { ...TILE_DEFAULTS, tolerance: 0, ...rest };
    this.resolveLayer = resolveLayer ?? getLayer;
  }

  private state(layerId: string): LayerState {
    let s = this.states.get(layerId);
    if (!s) this.states.set(layerId, (s = { features: null, dirty: new Set(), reloadAll: false, built: null, building: null }));
    return s;
  }

  /** The layer's indexes, reflecting every change announced so far. */
  async ensure(layer: LayerDef): Promise<BuiltLayer> {
    const s = this.state(layer.id);
    for (;;) {
      if (s.built && s.dirty.size === 0 && !s.reloadAll) return s.built;
      s.building ??= this.rebuild(layer, s).finally(() => {
        s.building = null;
      });
      await s.building;
    }
  }

  private async rebuild(layer: LayerDef, s: LayerState): Promise<void> {
    for (;;) {
      if (!s.features || s.reloadAll) {
        s.reloadAll = false;
        s.dirty.clear();
        const all = await this.source.loadLayer(layer);
        s.features = new Map(all.map((f) => [f.id, f]));
      }
      if (s.dirty.size > 0) {
        const ids = [...s.dirty];
        s.dirty.clear();
        const fresh = await Promise.all(ids.map((id) => this.source.loadFeature(layer, id)));
        ids.forEach((id, i) => {
          const f = fresh[i];
          if (f) s.features!.set(id, f);
          else s.features!.delete(id);
        });
      }
      if (s.dirty.size === 0 && !s.reloadAll) break;
    }
    s.built = this.build(layer, [...s.features!.values()]);
  }

  private build(layer: LayerDef, features: SourceFeature[]): BuiltLayer {
    if (features.length === 0) return { vt: null, points: null };
    const collection: FeatureCollection = {
      type: 'FeatureCollection',
      features: features.map((f): Feature => ({ type: 'Feature', id: f.id, properties: f.properties, geometry: f.geometry })),
    };
    const vt = new GeoJSONVT(collection, {
      maxZoom: Math.min(24, layer.maxzoom),
      tolerance: this.opts.tolerance,
      extent: this.opts.extent,
      buffer: this.opts.buffer,
    });
    return { vt, points: layer.cluster && layer.geometry === 'point' ? buildPointIndex(features) : null };
  }

  async renderLayer({ layer, tile, filters, who }: TileQuery): Promise<Uint8Array> {
    const built = await this.ensure(layer);
    if (!built.vt) return EMPTY_LAYER;
    const accept = featurePredicate(layer, filters);
    const tagsOf = tagPicker(layer, who);

    if (layer.cluster && built.points) {
      const outcome = clusterTile(built.points, { ...layer, cluster: layer.cluster }, tile, this.opts, accept, (i) => tagsOf(built.points!.props[i]));
      if (outcome.mode === 'clustered') return encodeLayer(layer.id, outcome.features, this.opts.extent);
    }

    const t = built.vt.getTile(tile.z, tile.x, tile.y);
    if (!t) return EMPTY_LAYER;
    const features: TileFeature[] = [];
    for (const f of t.features) {
      const props = (f.tags ?? {}) as Record<string, unknown>;
      if (accept && !accept(props)) continue;
      features.push({ type: f.type, geometry: f.geometry, tags: tagsOf(props), ...(typeof f.id === 'number' ? { id: f.id } : {}) });
    }
    return encodeLayer(layer.id, features, this.opts.extent);
  }

  featureChanged(change: FeatureChange): void {
    const layer = this.resolveLayer(change.layer);
    const s = layer && this.states.get(layer.id);
    if (!layer || !s) return; // never loaded: the first request reads fresh rows
    // An import is one change for all its rows: its id names the job, not a feature, so re-read the layer.
    if (change.id === undefined || change.id === null || change.kind === 'import') s.reloadAll = true;
    else s.dirty.add(layer.idType === 'integer' ? Number(change.id) : String(change.id));
  }

  /** Re-reads the whole layer on its next tile (computed layers whose inputs changed). */
  reloadLayer(layerId: string): void {
    const s = this.states.get(layerId);
    if (s) s.reloadAll = true;
  }

  async close(): Promise<void> {
    this.states.clear();
  }
}

/** Returns the caller's tags for a feature's full property record, copying only when something is hidden. */
function tagPicker(layer: LayerDef, who: TileQuery['who']): (props: Record<string, unknown>) => Record<string, unknown> {
  const visible = tileProperties(layer, who).map((p) => p.name);
  if (idIsProperty(layer)) visible.unshift('id');
  if (visible.length === layer.properties.length + (idIsProperty(layer) ? 1 : 0)) return (props) => props;
  return (props) => {
    const out: Record<string, unknown> = {};
    for (const name of visible) out[name] = props[name];
    return out;
  };
}

export function buildPointIndex(features: SourceFeature[]): PointIndex {
  const pts: { code: number; wx: number; wy: number; f: SourceFeature }[] = [];
  for (const f of features) {
    const g = f.geometry;
    const coords = g.type === 'Point' ? [g.coordinates] : g.type === 'MultiPoint' ? g.coordinates : [];
    for (const c of coords) {
      const wx = lonToWorldX(c[0]);
      const wy = latToWorldY(c[1]);
      pts.push({ code: quadCode(wx, wy), wx, wy, f });
    }
  }
  pts.sort((a, b) => a.code - b.code);
  return {
    codes: Float64Array.from(pts, (p) => p.code),
    wx: Float64Array.from(pts, (p) => p.wx),
    wy: Float64Array.from(pts, (p) => p.wy),
    ids: pts.map((p) => p.f.id),
    props: pts.map((p) => p.f.properties),
  };
}
