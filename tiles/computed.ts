import type { Db } from '../catalog/ports.ts';
import { coverageGapFeatures } from '../server/analysis/tile-layer.ts';
import type { SourceFeature } from './source.ts';

/**
 * Layers computed from other layers rather than read from a table (registry
 * entries with `table: null`). Both backends tile them in Node from the features
 * the computation returns; an edit to a layer they depend on recomputes them.
 */
export interface ComputedLayer {
  /** Layer ids whose edits change this layer. */
  dependsOn: readonly string[];
  /** Every feature, with the registry's properties (text ids also as `id`). */
  load(db: Db): Promise<SourceFeature[]>;
  /** Where its features can lie: the extent of this table (for TileJSON bounds). */
  extentTable: string;
}

export const COMPUTED_LAYERS: Readonly<Record<string, ComputedLayer>> = {
  // Uncovered populated areas: move when a shelter, the population or a boundary changes.
  coverage_gaps: {
    dependsOn: ['shelters', 'population', 'districts'],
    extentTable: 'districts',
    async load(db) {
      const gaps = await coverageGapFeatures(db);
      return gaps.features.map((f) => ({ id: String(f.id), properties: { id: String(f.id), ...f.properties }, geometry: f.geometry }));
    },
  },
};

export function computedLayer(id: string): ComputedLayer | undefined {
  return Object.hasOwn(COMPUTED_LAYERS, id) ? COMPUTED_LAYERS[id] : undefined;
}
