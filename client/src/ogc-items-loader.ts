import type Feature from 'ol/Feature.js';
import type { FeatureLoader } from 'ol/featureloader.js';
import type FeatureFormat from 'ol/format/Feature.js';
import type { Extent } from 'ol/extent.js';
import type { Geometry } from 'ol/geom.js';
import type Projection from 'ol/proj/Projection.js';
import { fetchOk } from './api.ts';

/**
 * Loads a map layer's features from the OGC API items path when the server
 * serves no vector tiles (map.ts, "features" mode). The request goes through
 * fetchOk like every other request of the client, so it carries the API key
 * (restricted layers answer 404 without it) and the furthest Consistency-Token
 * (a planner's own edit is not missing behind a lagging replica). A failed load
 * hands its extent to `failed`, so the source asks for it again next time.
 */
export function ogcItemsLoader(
  urlOf: (extent: Extent, projection: Projection) => string,
  format: Pick<FeatureFormat<Feature<Geometry>>, 'readFeatures'>,
  failed: (extent: Extent) => void,
): FeatureLoader<Feature<Geometry>> {
  return async (extent, _resolution, projection) => {
    try {
      const res = await fetchOk(urlOf(extent, projection), { headers: { Accept: 'application/geo+json' } });
      return format.readFeatures(await res.json(), { featureProjection: projection });
    } catch (err) {
      failed(extent);
      throw err;
    }
  };
}
