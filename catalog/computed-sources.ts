import type { Geometry } from 'geojson';
import type { StatementScope } from './ports.ts';

/**
 * Computed sources: layers whose features are computed from other layers
 * (`table: null` in the registry) rather than read from a table. The server
 * registers one per computed layer when it builds its context (it owns the
 * analyses that compute them); tiles, the OGC API, static maps and the catalogue
 * then serve them like tables, asking this registry instead of keeping their own.
 */
export interface ComputedFeature {
  id: string | number;
  geometry: Geometry;
  /** The registry's properties of the layer. */
  properties: Record<string, unknown>;
}

/** Where a caller needs features: a [west, south, east, north] box, or one district. A source may give more, never fewer. */
export interface ComputedScope {
  bbox?: readonly [number, number, number, number];
  district?: string;
}

export interface ComputedSource {
  /** Layer ids whose edits change this layer (tiles recompute it when one of them changes). */
  dependsOn: readonly string[];
  /** Where its features can lie: the extent of this table (for TileJSON and collection bounds). */
  extentTable: string;
  /**
   * The features of the layer: every one, or at least those `within` asks for;
   * `scope`: the request they are computed for (none: nobody's, e.g. an export).
   */
  features(within: ComputedScope | undefined, scope: StatementScope | undefined): Promise<ComputedFeature[]>;
}

/** The computed sources of one app (or export run), by layer id. */
export class ComputedSources {
  private readonly sources = new Map<string, ComputedSource>();

  /** Registers the source of computed layer `layerId`; registering again replaces it. */
  register(layerId: string, source: ComputedSource): void {
    this.sources.set(layerId, source);
  }

  get(layerId: string): ComputedSource | undefined {
    return this.sources.get(layerId);
  }

  /** Every registered computed source, by layer id. */
  all(): ReadonlyMap<string, ComputedSource> {
    return this.sources;
  }
}
