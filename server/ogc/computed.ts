import type { FeatureCollection } from 'geojson';
import type { Db } from '../db/types.ts';
import type { LayerDef } from '../../catalog/layers.ts';
import { coverageGapFeatures } from '../analysis/tile-layer.ts';
import { toWkt } from './wkt.ts';

/**
 * Layers without a table (`table: null` in the registry) whose features are
 * computed in Node: each has a provider here. The OGC API hands the computed
 * rows to the database as one JSON parameter (sql.ts), so filters, sorting,
 * paging, CRS and output work exactly as for table layers.
 */
const PROVIDERS: Record<string, (db: Db) => Promise<FeatureCollection>> = {
  // Every district's gaps; the analysis caches them per data version.
  coverage_gaps: (db) => coverageGapFeatures(db),
};

/** Whether the OGC API can serve `layer`: it has a table or a provider. */
export function isServable(layer: LayerDef): boolean {
  return layer.table !== null || layer.id in PROVIDERS;
}

/** The computed layer's rows as JSON text: `[{ id, wkt, properties }]`. */
export async function computedRows(db: Db, layer: LayerDef): Promise<string> {
  const provider = PROVIDERS[layer.id];
  if (!provider) throw new Error(`no provider for computed layer ${layer.id}`);
  const fc = await provider(db);
  return JSON.stringify(fc.features.map((f) => ({ id: f.id, wkt: toWkt(f.geometry), properties: f.properties ?? {} })));
}
