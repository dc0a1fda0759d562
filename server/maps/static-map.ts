import type { Db, StatementScope } from '../db/types.ts';
import { scopedDb } from '../db/scoped.ts';
import type { LayerDef } from '../../catalog/layers.ts';
import type { ComputedSources } from '../../catalog/computed-sources.ts';
import type { TableFacts, TableFactsOnce } from '../../catalog/table-facts.ts';
import type { AnalysisServices } from '../analysis/service.ts';
import { resolveArea } from './area.ts';
import { HttpProblem } from '../http/problem.ts';
import { workerPool } from '../work/shared.ts';
import type { ComposedMapBytes, MapComposition } from './compose.ts';
import { loadComputedFeatures, loadContextUnits, loadLayerFeatureTexts } from './features.ts';
import type { StaticMapOptions } from './options.ts';
import type { BBox, StaticMapRequest } from './params.ts';
import { loadOverlay } from './overlay.ts';
import { fitBBox } from './projection.ts';
import { CONTENT_TYPES, rasterise } from './render.ts';
import { layoutFor, type ComposedMap } from './svg.ts';

/**
 * One static map from a parsed request: resolve the area, fit it into the map
 * frame (Web Mercator), read the features, compose the SVG, rasterise it.
 * Layers must already be checked against the caller's permissions.
 *
 * Composing is CPU work proportional to the features shown (up to
 * `maxFeatures`): it runs on the worker pool, which parses the features from the
 * JSON text the database wrote, so the main thread neither parses nor composes.
 * Rasterising runs on libuv's threads (sharp).
 */
export interface RenderedMap {
  body: Buffer;
  contentType: string;
  /** lon/lat extent of the map frame (for cache invalidation). */
  extent: BBox;
  /** Every layer whose features the image shows, administrative outlines included. */
  layerIds: Set<string>;
  stats: ComposedMap['stats'] & { features: number };
  /** Milliseconds spent reading the database, composing the SVG (on a worker) and rasterising it. */
  timings: { query: number; compose: number; rasterise: number };
}

/** What a map draws besides tables: the computed layers and the analyses behind the overlays. */
export interface MapSources {
  computed: ComputedSources;
  analysis: AnalysisServices;
  /** The tables' facts (soft delete, the `synthetic` and style columns), read once for the app. */
  tableFacts: TableFactsOnce;
}

/** Pixels kept free around an administrative area inside the frame. */
const AREA_PADDING = 14;

/** The map of `request`, read from `reads` (the read side) in `scope`. */
export async function renderStaticMap(
  reads: Db,
  request: StaticMapRequest,
  layers: readonly LayerDef[],
  options: StaticMapOptions,
  fontFamily: string,
  sources: MapSources,
  /**
   * The drawing's scope (none: nobody's, e.g. a benchmark): the analyses behind computed layers and
   * overlays run in it, and its signal fires when nobody waits for the map any more (its clients left): the drawing stops.
   */
  scope?: StatementScope,
): Promise<RenderedMap> {
  const t0 = performance.now();
  const db = scopedDb(reads, scope);
  const signal = scope?.signal;
  const area = await resolveArea(db, request.area);
  const layout = layoutFor(request.width, request.height);
  const padding = area.outline ? AREA_PADDING : 0;
  const viewport = fitBBox(area.bbox, layout.frame, padding);
  // Unit maps read features inside the unit's outline; bbox maps everything in the frame.
  const featureExtent = area.outline ? area.bbox : viewport.extent;
  const fromTables = await loadLayerFeatureTexts(db, await sources.tableFacts(scope), layers.filter((l) => l.table !== null), area, featureExtent, options.maxFeatures);
  const computed = await loadComputedFeatures(sources.computed, layers.filter((l) => l.table === null), area, viewport.extent, scope);
  // In the order asked for: it is the drawing and legend order.
  const drawn = layers.flatMap((l): MapComposition['layers'] => [
    ...fromTables.filter((t) => t.layer === l).map((t) => ({ layerId: l.id, json: t.json })),
    ...computed.filter((c) => c.layer === l).map((c) => ({ layerId: l.id, features: c.features })),
  ]);
  const context = await loadContextUnits(db, area, viewport.extent);
  const overlays = request.overlay ? [await loadOverlay(db, sources.analysis, request.overlay, area, viewport.extent, scope)] : [];
  const t1 = performance.now();

  const composed = await composeOnWorker(
    {
      layout,
      area,
      padding,
      scale: request.scale,
      lang: request.lang,
      layers: drawn,
      context,
      overlays,
      fontFamily,
      timestamp: options.now(),
      timeZone: options.timeZone,
      clusterCell: options.clusterCell,
      clusterMinPoints: options.clusterMinPoints,
    },
    signal,
  );
  const t2 = performance.now();
  // The same budget as a worker's task, in whole seconds (libvips counts seconds).
  const body = await rasterise(composed.svg, request.format, signal, Math.max(1, Math.ceil(workerPool().options.taskBudgetMs / 1000)));
  const t3 = performance.now();

  const layerIds = new Set(layers.map((l) => l.id));
  // A computed layer changes with the layers it is computed from.
  for (const l of layers) for (const id of sources.computed.get(l.id)?.dependsOn ?? []) layerIds.add(id);
  if (area.unitLayer) layerIds.add(area.unitLayer);
  for (const c of context) layerIds.add(c.layer);
  // The analysis behind an overlay reads shelters, population cells and unit outlines.
  if (overlays.length > 0) for (const id of ['shelters', 'population', 'districts', 'streets', 'communities']) layerIds.add(id);
  return {
    body,
    contentType: CONTENT_TYPES[request.format],
    extent: viewport.extent,
    layerIds,
    stats: composed.stats,
    timings: { query: t1 - t0, compose: t2 - t1, rasterise: t3 - t2 },
  };
}

/**
 * Composes on the worker pool: a full pool answers 503 with Retry-After, a map
 * that takes longer than the task budget 422. Identical concurrent requests share
 * one drawing (routes.ts, SharedWork), whose signal fires only when the last of
 * their clients has left: then the task leaves the queue, or its worker is stopped.
 */
async function composeOnWorker(composition: MapComposition, signal: AbortSignal | undefined): Promise<ComposedMapBytes> {
  try {
    return await workerPool().run('composeMap', composition, signal);
  } catch (err) {
    if (err instanceof HttpProblem && err.status === 422 && err.title === 'Request too costly') {
      throw new HttpProblem(
        422,
        'Request too costly',
        `drawing the map needs more than the ${workerPool().options.taskBudgetMs} ms allowed per request; choose a smaller area, fewer layers or fewer pixels`,
      );
    }
    throw err;
  }
}
