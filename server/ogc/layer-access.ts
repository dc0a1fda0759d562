import { notFound } from '../http/problem.ts';
import { canSeeLayer, getLayer, visibleLayers, type LayerDef, type Principal } from '../../tiles/layers.ts';

/**
 * Which registry layers are OGC collections for a caller. Restricted layers
 * answer exactly like unknown ones (404) so anonymous callers cannot tell they exist.
 */
export function collectionLayers(who: Principal): LayerDef[] {
  return visibleLayers(who).filter((l) => l.table !== null);
}

export function collectionLayer(id: string, who: Principal): LayerDef {
  const layer = getLayer(id);
  if (!layer || layer.table === null || !canSeeLayer(layer, who)) {
    throw notFound(`no collection '${id}'; GET /ogc/collections lists them`);
  }
  return layer;
}

/** "中文 / English" for the single-language `title` and `description` members of OGC documents. */
export const bilingual = (t: { zh: string; en: string }) => `${t.zh} / ${t.en}`;
