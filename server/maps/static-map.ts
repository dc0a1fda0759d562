import type { Db } from '../db/types.ts';
import type { LayerDef } from '../../catalog/layers.ts';
import { resolveArea } from './area.ts';
import { loadContextUnits, loadLayerFeatures } from './features.ts';
import type { StaticMapOptions } from './options.ts';
import type { BBox, StaticMapRequest } from './params.ts';
import { GAPS_LAYER_ID, loadOverlay } from './overlay.ts';
import { fitBBox } from './projection.ts';
import { CONTENT_TYPES, rasterise } from './render.ts';
import { composeMapSvg, layoutFor, type ComposedMap } from './svg.ts';

/**
 * One static map from a parsed request: resolve the area, fit it into the map
 * frame (Web Mercator), read the features, compose the SVG, rasterise it.
 * Layers must already be checked against the caller's permissions.
 */
export interface RenderedMap {
  body: Buffer;
  contentType: string;
  /** lon/lat extent of the map frame (for cache invalidation). */
  extent: BBox;
  /** Every layer whose features the image shows, administrative outlines included. */
  layerIds: Set<string>;
  stats: ComposedMap['stats'] & { features: number };
  /** Milliseconds spent reading the database, composing the SVG and rasterising it. */
  timings: { query: number; compose: number; rasterise: number };
}

/** Pixels kept free around an administrative area inside the frame. */
const AREA_PADDING = 14;

export async function renderStaticMap(
  db: Db,
  request: StaticMapRequest,
  layers: readonly LayerDef[],
  options: StaticMapOptions,
  fontFamily: string,
): Promise<RenderedMap> {
  const t0 = performance.now();
  const area = await resolveArea(db, request.area);
  const layout = layoutFor(request.width, request.height);
  const viewport = fitBBox(area.bbox, layout.frame, area.outline ? AREA_PADDING : 0);
  // Unit maps read features inside the unit's outline; bbox maps everything in the frame.
  const featureExtent = area.outline ? area.bbox : viewport.extent;
  const layerFeatures = await loadLayerFeatures(db, layers.filter((l) => l.table !== null), area, featureExtent, options.maxFeatures);
  const context = await loadContextUnits(db, area, viewport.extent);
  // The computed registry layer coverage_gaps is the gaps overlay under its layer id.
  const overlayKinds = [...new Set([...(layers.some((l) => l.id === GAPS_LAYER_ID) ? (['gaps'] as const) : []), ...(request.overlay ? [request.overlay] : [])])];
  const overlays = [];
  for (const kind of overlayKinds) overlays.push(await loadOverlay(db, kind, area, viewport.extent));
  const t1 = performance.now();

  const composed = composeMapSvg({
    layout,
    viewport,
    scale: request.scale,
    lang: request.lang,
    area,
    layers: layerFeatures,
    context,
    overlays,
    fontFamily,
    timestamp: options.now(),
    timeZone: options.timeZone,
    clusterCell: options.clusterCell,
    clusterMinPoints: options.clusterMinPoints,
  });
  const t2 = performance.now();
  const body = await rasterise(composed.svg, request.format);
  const t3 = performance.now();

  const layerIds = new Set(layers.map((l) => l.id));
  if (area.unitLayer) layerIds.add(area.unitLayer);
  for (const c of context) layerIds.add(c.layer);
  // The analysis behind an overlay reads shelters, population cells and unit outlines.
  if (overlays.length > 0) for (const id of ['shelters', 'population', 'districts', 'streets', 'communities']) layerIds.add(id);
  return {
    body,
    contentType: CONTENT_TYPES[request.format],
    extent: viewport.extent,
    layerIds,
    stats: { ...composed.stats, features: layerFeatures.reduce((n, l) => n + l.features.length, 0) },
    timings: { query: t1 - t0, compose: t2 - t1, rasterise: t3 - t2 },
  };
}
