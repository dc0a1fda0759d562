import { getLayer } from '../../catalog/layers.ts';
import type { MapArea } from './area.ts';
import { parseLayerFeatures, type ContextUnits, type LayerFeatures, type MapFeature } from './features.ts';
import type { OverlayShapes } from './overlay.ts';
import type { Lang } from './params.ts';
import { fitBBox } from './projection.ts';
import { composeMapSvg, type ComposedMap, type MapLayout } from './svg.ts';

/**
 * Everything composing one static map takes, as plain data for a worker thread
 * (server/work/tasks.ts): layers by registry id, a table layer's features as the
 * JSON text the database wrote (server/maps/features.ts), and what the viewport
 * is fitted to rather than the viewport (it holds a function).
 */
export interface MapComposition {
  layout: MapLayout;
  area: MapArea;
  /** Pixels kept free around the area: the viewport is fitBBox(area.bbox, layout.frame, padding). */
  padding: number;
  scale: 1 | 2;
  lang: Lang;
  /** In drawing order: table layers as JSON text, computed layers as features. */
  layers: ({ layerId: string; json: string } | { layerId: string; features: MapFeature[] })[];
  context: ContextUnits[];
  overlays: OverlayShapes[];
  fontFamily: string;
  timestamp: Date;
  timeZone: string;
  clusterCell: number;
  clusterMinPoints: number;
}

export interface ComposedMapBytes {
  /** The SVG document, UTF-8: copied back from a worker as one block of memory. */
  svg: Uint8Array;
  stats: ComposedMap['stats'] & { features: number };
}

/**
 * Parses the features and composes the SVG: the part of a static map that is
 * CPU work proportional to what it shows (up to the feature cap), run on the
 * worker pool so that a large map does not hold the event loop.
 */
export function composeMap(input: MapComposition): ComposedMapBytes {
  const layers: LayerFeatures[] = input.layers.map((l) => {
    const layer = getLayer(l.layerId);
    if (!layer) throw new Error(`no layer "${l.layerId}" in the registry`);
    return { layer, features: 'json' in l ? parseLayerFeatures(l.json, layer.geometry) : l.features };
  });
  const composed = composeMapSvg({
    layout: input.layout,
    viewport: fitBBox(input.area.bbox, input.layout.frame, input.padding),
    scale: input.scale,
    lang: input.lang,
    area: input.area,
    layers,
    context: input.context,
    overlays: input.overlays,
    fontFamily: input.fontFamily,
    timestamp: input.timestamp,
    timeZone: input.timeZone,
    clusterCell: input.clusterCell,
    clusterMinPoints: input.clusterMinPoints,
  });
  return {
    svg: Buffer.from(composed.svg, 'utf8'),
    stats: { ...composed.stats, features: layers.reduce((n, l) => n + l.features.length, 0) },
  };
}
