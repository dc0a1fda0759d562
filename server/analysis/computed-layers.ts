import { ComputedSources } from '../../catalog/computed-sources.ts';
import type { AnalysisServices } from './service.ts';

/**
 * The computed layers of the registry and the analyses that compute them,
 * registered when the app's context is built (server/context.ts).
 */
export function computedLayers(analysis: AnalysisServices): ComputedSources {
  const sources = new ComputedSources();
  // Uncovered populated areas: move when a shelter, the population or a boundary changes.
  // The gaps of every district (or of those asked for); the analysis caches them per data version.
  sources.register('coverage_gaps', {
    dependsOn: ['shelters', 'population', 'districts'],
    extentTable: 'districts',
    features: async (within, scope) =>
      (await analysis.coverage.gapFeatures(within ?? {}, scope)).features.map((f) => ({ id: f.id!, geometry: f.geometry, properties: { ...f.properties } })),
  });
  return sources;
}
