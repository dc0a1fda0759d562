import { registerComputedSource } from '../../catalog/computed-sources.ts';
import { coverageGapFeatures } from './tile-layer.ts';

/**
 * The computed layers of the registry and the analyses that compute them,
 * registered with the catalogue when the app is built (server/app.ts).
 */
export function registerComputedLayers(): void {
  // Uncovered populated areas: move when a shelter, the population or a boundary changes.
  // Every district's gaps; the analysis caches them per data version.
  registerComputedSource('coverage_gaps', {
    dependsOn: ['shelters', 'population', 'districts'],
    extentTable: 'districts',
    features: async (db) => (await coverageGapFeatures(db)).features.map((f) => ({ id: f.id!, geometry: f.geometry, properties: { ...f.properties } })),
  });
}
