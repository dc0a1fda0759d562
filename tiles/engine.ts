import type { FeatureChange, StatementScope } from '../catalog/ports.ts';
import type { LayerDef, LayerProperty } from '../catalog/layers.ts';
import type { Principal } from '../catalog/access.ts';
import { visibleProperties } from '../catalog/access.ts';
import type { TileFilters } from './filters.ts';
import type { TileCoord } from './tile-coords.ts';

/**
 * One interface, two implementations: geojson-vt + vt-pbf in Node (works on
 * every backend) and ST_AsMVT on a real PostGIS server. Both produce the same
 * features, properties and positions for the same data; a test proves it.
 */
export interface TileEngine {
  readonly kind: 'geojson-vt' | 'postgis';
  /**
   * One encoded MVT layer named `query.layer.id` (a complete Tile message with a
   * single layer, so layers concatenate into a multi-layer tile). Zero bytes when
   * the layer has no feature in the tile.
   */
  renderLayer(query: TileQuery): Promise<Uint8Array>;
  /** A committed change to a feature: the engine's next tiles must show it. */
  featureChanged(change: FeatureChange): void;
  /** Releases what the engine holds (indexes); the database stays open. */
  close?(): Promise<void>;
}

export interface TileQuery {
  layer: LayerDef;
  tile: TileCoord;
  filters: TileFilters;
  who: Principal;
  /** The request the tile is rendered for: its statements' timeout and cancellation (none: nobody's, e.g. an export). */
  scope?: StatementScope;
}

/** Tile geometry settings shared by both engines; every key has a default in TILE_DEFAULTS. */
export interface TileGeometryOptions {
  /** Size of a tile in MVT coordinate units. */
  extent: number;
  /** Units drawn beyond each tile edge so symbols and strokes are not cut at the seams. */
  buffer: number;
  /**
   * Points a tile of a clustered layer may hold at zooms from the layer's
   * `cluster.belowZoom` on before it is clustered anyway: a 512 px tile cannot show
   * more points than this legibly, and it keeps every tile well under 500 kB.
   */
  denseTilePoints: number;
}

export const TILE_DEFAULTS: TileGeometryOptions = {
  extent: 4096,
  buffer: 64,
  denseTilePoints: 2000,
};

export const MVT_CONTENT_TYPE = 'application/vnd.mapbox-vector-tile';

/**
 * The Content-Security-Policy of every tile answer (200, 204, 304), in place of the
 * API's (server/http/security-headers.ts): a tile is binary data no browser renders,
 * so nothing may load and nothing may frame it, as OWASP's REST guidance words it.
 * The strictest value is also the shortest, and every cached tile carries it: Node
 * checks each header value character by character.
 */
export const TILE_CSP = "default-src 'none'; frame-ancestors 'none'";

/**
 * Properties a tile carries for `layer` as seen by `who`: the registry's visible
 * properties. Layers with text ids also carry `id` (MVT feature ids are integers).
 */
export function tileProperties(layer: LayerDef, who: Principal): LayerProperty[] {
  return visibleProperties(layer, who);
}

/** Text ids cannot be MVT feature ids; they travel as an `id` property instead. */
export function idIsProperty(layer: LayerDef): boolean {
  return layer.idType === 'string';
}

export const EMPTY_LAYER = new Uint8Array(0);
