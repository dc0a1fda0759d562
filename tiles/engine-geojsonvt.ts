import GeoJSONVT from 'geojson-vt';
import type { Feature, FeatureCollection } from 'geojson';
import { concernsWholeLayer, type FeatureChange, type StatementScope } from '../catalog/ports.ts';
import { getLayer, type ClusterRule, type LayerDef } from '../catalog/layers.ts';
import { EMPTY_LAYER, idIsProperty, TILE_DEFAULTS, tileProperties, type TileEngine, type TileGeometryOptions, type TileQuery } from './engine.ts';
import { featurePredicate } from './filters.ts';
import { cellFeatures, cellsPerTile, clusterTile, layerHasLevel, type CellSums, type PointIndex } from './cluster.ts';
import { encodeLayer, type TileFeature } from './mvt-encode.ts';
import { isPyramidSource, type FeatureSource, type PyramidSource, type SourceFeature } from './source.ts';
import { SharedWork } from '../catalog/shared-work.ts';
import { latToWorldY, lonToWorldX, MERCATOR_HALF_WORLD, quadCode, type TileCoord } from './tile-coords.ts';

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
  /**
   * Clustered tiles below `belowZoom` from the database's count pyramid when the
   * source can read it (DbFeatureSource). Default true; false clusters the layer's
   * points in memory at every zoom (tests and benches compare the two).
   */
  pyramid?: boolean;
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
  building: SharedWork<void> | null;
}

export class GeojsonVtEngine implements TileEngine {
  readonly kind = 'geojson-vt' as const;
  private readonly opts: TileGeometryOptions & { tolerance: number };
  private readonly states = new Map<string, LayerState>();
  private readonly resolveLayer: (id: string) => LayerDef | undefined;
  private readonly usePyramid: boolean;

  constructor(
    private readonly source: FeatureSource,
    options: GeojsonVtEngineOptions = {},
  ) {
    const { resolveLayer, pyramid, ...rest } = options;
    this.opts = { ...TILE_DEFAULTS, tolerance: 0, ...rest };
    this.resolveLayer = resolveLayer ?? getLayer;
    this.usePyramid = pyramid ?? true;
  }

  private state(layerId: string): LayerState {
    let s = this.states.get(layerId);
    if (!s) this.states.set(layerId, (s = { features: null, dirty: new Set(), reloadAll: false, built: null, building: null }));
    return s;
  }

  /**
   * The layer's indexes, reflecting every change announced so far. A rebuild is shared by
   * the requests that wait for it (SharedWork): it runs in the scope of the one that started
   * it, goes on while any of them is still there and stops when the last has left.
   */
  async ensure(layer: LayerDef, scope?: StatementScope): Promise<BuiltLayer> {
    const s = this.state(layer.id);
    for (;;) {
      if (s.built && s.dirty.size === 0 && !s.reloadAll) return s.built;
      s.building ??= new SharedWork(
        scope,
        (shared) => this.rebuild(layer, s, shared),
        (work) => {
          if (s.building === work) s.building = null;
        },
      );
      await s.building.wait(scope);
    }
  }

  /**
   * Re-reads what changed and rebuilds the indexes. A read that fails (a statement timeout,
   * every waiting client gone) leaves what it was to read marked, so the next tile reads it
   * instead of serving the layer without the change.
   */
  private async rebuild(layer: LayerDef, s: LayerState, scope: StatementScope | undefined): Promise<void> {
    for (;;) {
      if (!s.features || s.reloadAll) {
        s.reloadAll = false;
        s.dirty.clear();
        const all = await this.source.loadLayer(layer, scope).catch((e: unknown) => {
          s.reloadAll = true;
          throw e;
        });
        s.features = new Map(all.map((f) => [f.id, f]));
      }
      if (s.dirty.size > 0) {
        const ids = [...s.dirty];
        s.dirty.clear();
        const fresh = await Promise.all(ids.map((id) => this.source.loadFeature(layer, id, scope))).catch((e: unknown) => {
          for (const id of ids) s.dirty.add(id);
          throw e;
        });
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

  async renderLayer({ layer, tile, filters, who, scope }: TileQuery): Promise<Uint8Array> {
    if (layer.table && layer.cluster && layer.geometry === 'point' && tile.z < layer.cluster.belowZoom && this.usePyramid && isPyramidSource(this.source)) {
      return this.clustersFromPyramid(this.source, { ...layer, cluster: layer.cluster }, tile, filters, tagPicker(layer, who), scope);
    }
    const built = await this.ensure(layer, scope);
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

  /**
   * A tile below `belowZoom` (every one clustered) from the count pyramid, as the
   * ST_AsMVT engine makes it: a few cells of the database's tile_cluster_cells
   * (the tile's and the ring around it) with the point of each single-point cell,
   * without loading the layer. The features and their order are those of
   * `clusterTile` on the same points: neighbour tiles row by row, cells in
   * quad-code order inside each.
   */
  private async clustersFromPyramid(
    source: PyramidSource,
    layer: LayerDef & { cluster: ClusterRule },
    tile: TileCoord,
    filters: TileQuery['filters'],
    tagsOf: (props: Record<string, unknown>) => Record<string, unknown>,
    scope: StatementScope | undefined,
  ): Promise<Uint8Array> {
    const n = cellsPerTile(layer.cluster);
    const cx0 = tile.x * n;
    const cy0 = tile.y * n;
    const rows = await source.pyramidCells(layer, tile.z, n, { cx0: cx0 - 1, cx1: cx0 + n, cy0: cy0 - 1, cy1: cy0 + n }, filters, scope);
    const W = MERCATOR_HALF_WORLD;
    const cells: (CellSums & { order: number; point?: SourceFeature })[] = [];
    for (const r of rows) {
      const tx = Math.floor(r.cx / n);
      const ty = Math.floor(r.cy / n);
      const order = ((ty - tile.y + 1) * 3 + (tx - tile.x + 1)) * n * n + interleave(r.cx - tx * n, r.cy - ty * n);
      if (r.n === 1) {
        // The point where the in-process engine puts it: its own coordinates, not the pyramid's sums.
        const g = r.point?.geometry;
        if (g?.type !== 'Point') continue;
        cells.push({ n: 1, sx: lonToWorldX(g.coordinates[0]), sy: latToWorldY(g.coordinates[1]), levels: r.levels, order, point: r.point });
        continue;
      }
      // World coordinates (0–1, y down) from the Mercator sums.
      cells.push({ n: r.n, sx: (r.mx + r.n * W) / (2 * W), sy: (r.n * W - r.my) / (2 * W), levels: r.levels, order });
    }
    cells.sort((a, b) => a.order - b.order);
    const features = cellFeatures(cells, tile, this.opts, layerHasLevel(layer), (c) => ({ id: c.point!.id, tags: tagsOf(c.point!.properties) }));
    return encodeLayer(layer.id, features, this.opts.extent);
  }

  featureChanged(change: FeatureChange): void {
    const layer = this.resolveLayer(change.layer);
    const s = layer && this.states.get(layer.id);
    if (!layer || !s) return; // never loaded: the first request reads fresh rows
    // An import's id names the job and a whole-layer change's no feature: re-read the layer.
    if (concernsWholeLayer(change)) s.reloadAll = true;
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

/** A cell's place in quad-code order inside its tile (`quadCode` puts y bits above x bits). */
function interleave(x: number, y: number): number {
  let code = 0;
  for (let bit = 0; bit < 6; bit++) code += (((x >> bit) & 1) << (2 * bit)) + (((y >> bit) & 1) << (2 * bit + 1));
  return code;
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
