import { notFound } from '../http/problem.ts';
import { getLayer, type LayerDef } from '../../catalog/layers.ts';
import { canSeeLayer, visibleLayers, type Principal } from '../../catalog/access.ts';
import { isServable } from './computed.ts';
import type { ComputedSources } from '../../catalog/computed-sources.ts';

/**
 * Which registry layers are OGC collections for a caller. Restricted layers
 * answer exactly like unknown ones (404) so anonymous callers cannot tell they exist.
 */
export function collectionLayers(who: Principal, computed: ComputedSources): LayerDef[] {
  return visibleLayers(who).filter((l) => isServable(l, computed));
}

export function collectionLayer(id: string, who: Principal, computed: ComputedSources): LayerDef {
  const layer = getLayer(id);
  if (!layer || !isServable(layer, computed) || !canSeeLayer(layer, who)) {
    throw notFound(`no collection '${id}'; GET /ogc/collections lists them`);
  }
  return layer;
}

/** "中文 / English" for the single-language `title` and `description` members of OGC documents. */
export const bilingual = (t: { zh: string; en: string }) => `${t.zh} / ${t.en}`;

/**
 * GeoJSON geometry type of a layer's features: tables store points,
 * MultiLineStrings and MultiPolygons; computed polygon layers give Polygons.
 */
export function geometryTypeOf(layer: LayerDef): 'Point' | 'MultiLineString' | 'MultiPolygon' | 'Polygon' {
  if (layer.geometry === 'point') return 'Point';
  if (layer.geometry === 'line') return 'MultiLineString';
  return layer.table ? 'MultiPolygon' : 'Polygon';
}
