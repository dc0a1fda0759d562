import type { LayerDef } from '../../catalog/layers.ts';
import type { ComputedSources } from '../../catalog/computed-sources.ts';
import type { StatementScope } from '../../catalog/ports.ts';
import { toWkt } from './wkt.ts';

/**
 * Layers without a table (`table: null` in the registry) are served from their
 * computed source (catalog/computed-sources.ts). The OGC API hands the computed
 * rows to the database as one JSON parameter (sql.ts), so filters, sorting,
 * paging, CRS and output work exactly as for table layers.
 */

/** Whether the OGC API can serve `layer`: it has a table or a computed source. */
export function isServable(layer: LayerDef, computed: ComputedSources): boolean {
  return layer.table !== null || computed.get(layer.id) !== undefined;
}

/** The computed layer's rows as JSON text: `[{ id, wkt, properties }]`, computed for the request of `scope`. */
export async function computedRows(computed: ComputedSources, layer: LayerDef, scope: StatementScope | undefined): Promise<string> {
  const source = computed.get(layer.id);
  if (!source) throw new Error(`no computed source for layer ${layer.id}`);
  const features = await source.features(undefined, scope);
  return JSON.stringify(features.map((f) => ({ id: f.id, wkt: toWkt(f.geometry), properties: f.properties })));
}
