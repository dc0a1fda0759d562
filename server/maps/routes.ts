import { Router, type Response } from 'express';
import type { AppContext } from '../context.ts';
import { readerOf, type StatementScope } from '../db/types.ts';
import { scopedDb } from '../db/scoped.ts';
import { scopeOf } from '../http/request-scope.ts';
import { currentDataVersion } from '../db/data-version.ts';
import { isConnectionError } from '../db/errors.ts';
import { badRequest, HttpProblem } from '../http/problem.ts';
import { principalOf } from '../http/principal.ts';
import { sharedIn, type SharedWork } from '../../catalog/shared-work.ts';
import { getLayer, type LayerDef } from '../../catalog/layers.ts';
import { canSeeLayer, type Principal } from '../../catalog/access.ts';
import type { ComputedSources } from '../../catalog/computed-sources.ts';
import { etagOf, ImageCache, type CachedImage } from './cache.ts';
import { mapFonts } from './fonts.ts';
import { layerSection, legendSvg } from './legend.ts';
import { mapOptions, type StaticMapOptions } from './options.ts';
import { parseLegendQuery, parseStaticMapQuery } from './params.ts';
import { CONTENT_TYPES, rasterise } from './render.ts';
import { renderStaticMap } from './static-map.ts';

/**
 * Routes under /maps: static map images and legends for reports, printed
 * briefings and alert messages, drawn from the same layer registry as the
 * tiles. Images are cached in memory with an ETag and dropped when a committed
 * edit touches what they show.
 */

/** Registry entries for the requested ids; unknown ids and layers the caller may not see are the same 404. */
function drawableLayers(ids: readonly string[], who: Principal, computed: ComputedSources): LayerDef[] {
  return ids.map((id) => {
    const layer = getLayer(id);
    if (!layer || !canSeeLayer(layer, who)) {
      throw new HttpProblem(404, 'Not found', `no layer "${id}"`, [{ name: 'layers', reason: `no layer "${id}"; GET /layers lists them` }]);
    }
    if (!layer.table && !computed.get(layer.id)) throw badRequest('layers', `"${id}" is computed and cannot be drawn on a static map`);
    return layer;
  });
}

function send(res: Response, image: CachedImage, restricted: boolean): void {
  res.set('Content-Type', image.contentType);
  res.set('ETag', image.etag);
  // Revalidate every time (a 304 is cheap); restricted layers never go into shared caches.
  res.set('Cache-Control', `${restricted ? 'private' : 'public'}, no-cache`);
  res.send(image.body);
}

export function mapRoutes(ctx: AppContext, partialOptions: Partial<StaticMapOptions> = {}): Router {
  const options = mapOptions(partialOptions);
  // Maps only read: from the replica when there is one (server/db/replica.ts).
  const reads = readerOf(ctx.db);
  const cache = new ImageCache(options.cacheBytes, options.cacheEntries);
  ctx.changes.on((change) => cache.invalidate(change));
  // Identical requests arriving together are rendered once; the drawing stops when
  // every one of them has left (SharedWork), not when the first one does.
  const inFlight = new Map<string, SharedWork<CachedImage>>();

  /** The image for `key`, made by `make` (in the scope it is handed) unless cached or being made; `scope`: the asking request's. */
  async function cached(key: string, scope: StatementScope | undefined, make: (scope: StatementScope | undefined) => Promise<CachedImage>): Promise<CachedImage> {
    const hit = cache.get(key);
    if (hit) return hit;
    const made = (shared: StatementScope | undefined) =>
      make(shared).then((image) => {
        cache.set(key, image);
        return image;
      });
    return sharedIn(inFlight, key, scope, made).wait(scope);
  }

  // The last data version seen: while the database is unavailable, images of that
  // version are still served from the cache (anything not cached answers 503).
  let lastVersion: number | null = null;
  const dataVersion = async (scope: StatementScope | undefined) => {
    try {
      lastVersion = await currentDataVersion(scopedDb(reads, scope));
    } catch (err) {
      if (lastVersion === null || !isConnectionError(err)) throw err;
    }
    return lastVersion;
  };

  const router = Router();

  router.get('/maps/static.png', async (req, res) => {
    const who = principalOf(req);
    const request = parseStaticMapQuery(req.query as Record<string, unknown>, options);
    const layers = drawableLayers(request.layers, who, ctx.computed);
    const scope = scopeOf(req);
    const key = JSON.stringify(['map', await dataVersion(scope), request]);
    const image = await cached(key, scope, async (shared) => {
      const fonts = await mapFonts(ctx.log);
      const map = await renderStaticMap(reads, request, layers, options, fonts.fontFamily, ctx, shared);
      ctx.log.debug(
        `static map ${req.originalUrl}: ${map.stats.features} features, query ${map.timings.query.toFixed(0)} ms, svg ${map.timings.compose.toFixed(0)} ms, raster ${map.timings.rasterise.toFixed(0)} ms`,
      );
      return { body: map.body, contentType: map.contentType, etag: etagOf(map.body), layers: map.layerIds, extent: map.extent };
    });
    send(res, image, layers.some((l) => l.access === 'restricted'));
  });

  router.get('/maps/legend.png', async (req, res) => {
    const who = principalOf(req);
    const request = parseLegendQuery(req.query as Record<string, unknown>);
    const layers = drawableLayers(request.layers, who, ctx.computed);
    const key = JSON.stringify(['legend', request]);
    const image = await cached(key, scopeOf(req), async (shared) => {
      const fonts = await mapFonts(ctx.log);
      const sections = layers.map((l) => layerSection(l, request.lang, l.cluster !== undefined));
      const body = await rasterise(legendSvg(sections, request.lang, request.scale, fonts.fontFamily), request.format, shared?.signal);
      return { body, contentType: CONTENT_TYPES[request.format], etag: etagOf(body), layers: new Set<string>(), extent: null };
    });
    send(res, image, layers.some((l) => l.access === 'restricted'));
  });

  return router;
}
