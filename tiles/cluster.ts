import type { ClusterRule, LayerDef } from '../catalog/layers.ts';
import { RISK_LEVELS } from '../catalog/layers.ts';
import type { TileCoord, WorldBBox } from './tile-coords.ts';
import { quadRange } from './tile-coords.ts';

/**
 * Server-side grid clustering, the same rule in both engines.
 *
 * Each tile is cut into `cellsPerTile` x `cellsPerTile` square cells (a power of
 * two near 512 px / the layer's cluster radius, so cells nest across zooms and
 * never straddle a tile edge). All points of a cell become one feature at their
 * mean position, carrying `point_count`, the count per risk level and the highest
 * level present; a cell with a single point keeps the point itself. A red point
 * is therefore always visible or counted. Because a cell lies inside one tile, an
 * edit changes only the tiles over that cell (plus the neighbours whose buffer
 * reaches it), which keeps cache invalidation exact.
 *
 * Clustering applies at zooms below `cluster.belowZoom`, and above it to tiles
 * holding more than `denseTilePoints` points.
 */

/** Property names of a cluster feature (the level counts only on layers with a `level`). */
export const CLUSTER_FIELDS = {
  cluster: 'cluster',
  pointCount: 'point_count',
  highestLevel: 'highest_level',
} as const;

export function cellsPerTile(rule: ClusterRule): number {
  const exact = 512 / Math.max(1, rule.radius);
  const pow = 2 ** Math.round(Math.log2(exact));
  return Math.min(64, Math.max(1, pow));
}

/**
 * The last zoom the count pyramid (tile_cluster_cells) keeps: every zoom below
 * `belowZoom`, where each tile is clustered, and up to z14, where a dense tile
 * (more than `denseTilePoints`) is clustered too. Past z14 a tile holding that
 * many points is rare and small; the pyramid would grow by a zoom's cells each.
 * The triggers of sql/migrations/011 carry this number (a test checks).
 */
export const DENSE_PYRAMID_LAST_ZOOM = 14;

export function pyramidLastZoom(rule: ClusterRule): number {
  return Math.max(rule.belowZoom - 1, DENSE_PYRAMID_LAST_ZOOM);
}

export function layerHasLevel(layer: LayerDef): boolean {
  return layer.properties.some((p) => p.name === 'level');
}

/** The cell of a point at zoom z, in world coordinates: where its cluster can lie. */
export function clusterCellBBox(wx: number, wy: number, z: number, rule: ClusterRule): WorldBBox {
  const cells = 2 ** z * cellsPerTile(rule);
  const cx = Math.floor(wx * cells);
  const cy = Math.floor(wy * cells);
  return [cx / cells, cy / cells, (cx + 1) / cells, (cy + 1) / cells];
}

/** Static spatial index of a layer's points: sorted zoom-24 quad codes (see tile-coords). */
export interface PointIndex {
  /** Quad codes, ascending. */
  codes: Float64Array;
  /** World coordinates of point i (in code order). */
  wx: Float64Array;
  wy: Float64Array;
  /** Feature id and properties of point i. */
  ids: (number | string)[];
  props: Record<string, unknown>[];
}

function lowerBound(a: Float64Array, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface ClusteredFeature {
  type: 1;
  geometry: [number, number][];
  tags: Record<string, unknown>;
  id?: number | string;
}

export interface ClusterOutcome {
  /** 'plain': render individual points the usual way; 'clustered': `features` is the tile. */
  mode: 'plain' | 'clustered';
  features: ClusteredFeature[];
}

interface CellAgg extends CellSums {
  /** The cell's first point in the index. */
  first: number;
}

/**
 * Decides whether tile z/x/y of a clustered layer is clustered and, if so, builds
 * its features. `accept` applies the request's filters; `tagsOf` turns a point's
 * properties into the tags the caller may see.
 */
export function clusterTile(
  index: PointIndex,
  layer: LayerDef & { cluster: ClusterRule },
  tile: TileCoord,
  opts: { extent: number; buffer: number; denseTilePoints: number },
  accept: ((props: Record<string, unknown>) => boolean) | null,
  tagsOf: (i: number) => Record<string, unknown>,
): ClusterOutcome {
  const { z, x, y } = tile;
  const n = cellsPerTile(layer.cluster);
  const scale = 2 ** z * n;
  const tileCells = 2 ** z;
  const cx0 = x * n;
  const cy0 = y * n;
  const forced = z < layer.cluster.belowZoom;
  const hasLevel = layerHasLevel(layer);

  // Candidate points: this tile and its eight neighbours, then only the ring of
  // cells next to this tile (enough for the buffer, since a cell is >= the buffer).
  const cells = new Map<number, CellAgg>();
  let inTile = 0;
  for (let ty = y - 1; ty <= y + 1; ty++) {
    if (ty < 0 || ty >= tileCells) continue;
    for (let tx = x - 1; tx <= x + 1; tx++) {
      if (tx < 0 || tx >= tileCells) continue;
      const [start, end] = quadRange({ z, x: tx, y: ty });
      const to = lowerBound(index.codes, end);
      for (let i = lowerBound(index.codes, start); i < to; i++) {
        const cx = Math.floor(index.wx[i] * scale);
        const cy = Math.floor(index.wy[i] * scale);
        if (cx < cx0 - 1 || cx > cx0 + n || cy < cy0 - 1 || cy > cy0 + n) continue;
        if (accept && !accept(index.props[i])) continue;
        if (cx >= cx0 && cx < cx0 + n && cy >= cy0 && cy < cy0 + n) inTile++;
        const key = (cy - cy0 + 1) * (n + 2) + (cx - cx0 + 1);
        let agg = cells.get(key);
        if (!agg) {
          agg = { n: 0, sx: 0, sy: 0, first: i, levels: [0, 0, 0, 0] };
          cells.set(key, agg);
        }
        agg.n++;
        agg.sx += index.wx[i];
        agg.sy += index.wy[i];
        if (hasLevel) {
          const li = RISK_LEVELS.indexOf(index.props[i].level as (typeof RISK_LEVELS)[number]);
          if (li >= 0) agg.levels[li]++;
        }
      }
    }
  }
  if (!forced && inTile <= opts.denseTilePoints) return { mode: 'plain', features: [] };
  const features = cellFeatures(cells.values(), tile, opts, hasLevel, (agg) => ({ id: index.ids[agg.first], tags: tagsOf(agg.first) }));
  return { mode: 'clustered', features };
}

/** What a cluster cell holds: its points' count, the sums of their world coordinates, the count per risk level. */
export interface CellSums {
  n: number;
  sx: number;
  sy: number;
  levels: number[];
}

/**
 * The features of a clustered tile from its cells (the tile's and the ring around
 * it), in the order given: a cell of several points is a cluster at their mean
 * position, a cell of one point is that point (`single` names it); cells whose
 * feature falls outside the tile and its buffer are left out.
 */
export function cellFeatures<C extends CellSums>(
  cells: Iterable<C>,
  { z, x, y }: TileCoord,
  opts: { extent: number; buffer: number },
  hasLevel: boolean,
  single: (cell: C) => { id: number | string; tags: Record<string, unknown> },
): ClusteredFeature[] {
  const features: ClusteredFeature[] = [];
  const lo = -opts.buffer;
  const hi = opts.extent + opts.buffer;
  const toTile = (w: number, t: number) => Math.round((w * 2 ** z - t) * opts.extent);
  for (const agg of cells) {
    const px = toTile(agg.sx / agg.n, x);
    const py = toTile(agg.sy / agg.n, y);
    if (px < lo || px > hi || py < lo || py > hi) continue;
    if (agg.n === 1) {
      const { id, tags } = single(agg);
      features.push({ type: 1, geometry: [[px, py]], tags, ...(typeof id === 'number' ? { id } : {}) });
      continue;
    }
    const tags: Record<string, unknown> = { [CLUSTER_FIELDS.cluster]: true, [CLUSTER_FIELDS.pointCount]: agg.n };
    if (hasLevel) {
      RISK_LEVELS.forEach((level, li) => (tags[level] = agg.levels[li]));
      const top = RISK_LEVELS.findIndex((_, li) => agg.levels[li] > 0);
      if (top >= 0) tags[CLUSTER_FIELDS.highestLevel] = RISK_LEVELS[top];
    }
    features.push({ type: 1, geometry: [[px, py]], tags });
  }
  return features;
}
