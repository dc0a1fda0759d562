import type { Geometry } from 'geojson';
import type { Db } from './ports.ts';

/**
 * Computed sources: layers whose features are computed from other layers
 * (`table: null` in the registry) rather than read from a table. The server
 * registers one per computed layer at start-up (it owns the analyses that
 * compute them); tiles, the OGC API and the catalogue then serve them like
 * tables, asking this registry instead of keeping their own.
 */
export interface ComputedFeature {
  id: string | number;
  geometry: Geometry;
  /** The registry's properties of the layer. */
  properties: Record<string, unknown>;
}

export interface ComputedSource {
  /** Layer ids whose edits change this layer (tiles recompute it when one of them changes). */
  dependsOn: readonly string[];
  /** Where its features can lie: the extent of this table (for TileJSON and collection bounds). */
  extentTable: string;
  /** Every feature of the layer. */
  features(db: Db): Promise<ComputedFeature[]>;
}

const sources = new Map<string, ComputedSource>();

/** Registers the source of computed layer `layerId`; registering again replaces it. */
export function registerComputedSource(layerId: string, source: ComputedSource): void {
  sources.set(layerId, source);
}

export function computedSource(layerId: string): ComputedSource | undefined {
  return sources.get(layerId);
}

/** Every registered computed source, by layer id. */
export function computedSources(): ReadonlyMap<string, ComputedSource> {
  return sources;
}
