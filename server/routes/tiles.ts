import querystring from 'node:querystring';
import express from 'express';
import type { AppContext } from '../context.ts';
import { baseUrl } from '../http/base-url.ts';
import { principalOf } from '../http/principal.ts';
import { TileService, type TileServiceOptions } from '../../tiles/service.ts';
import { parseFilters, parseLayers, parseTileRequest, type ParsedTileRequest } from './tile-request.ts';
import { tileCacheKey } from '../../tiles/cache-key.ts';
import { tileJson } from '../../tiles/tilejson.ts';
import { installFastPath, sendCached, type FastPathStats, type MissHandler } from '../../tiles/fast-path.ts';
import { ANONYMOUS } from '../../catalog/access.ts';
import { filtersKey } from '../../tiles/filters.ts';
import { appHeaders, writeEdgeHead } from '../http/edge.ts';
import { enterScope, scopeOf } from '../http/request-scope.ts';
import { isConnectionError } from '../db/errors.ts';
import { TileArchiveFallback } from './tile-fallback.ts';
import type { TokenCoverage } from '../http/consistency-token.ts';

export interface TileRouteOptions extends TileServiceOptions {
  /** Use this service instead of making one (tests, benches). */
  service?: TileService;
  /** Answer public tile requests before Express routing (see tiles/fast-path.ts). Default true. */
  fastPath?: boolean;
  /**
   * Whether the cache covers what a request's Consistency-Token asks for
   * (server/http/consistency-token.ts); without it the cache answers every request.
   */
  tokenCoverage?: TokenCoverage;
}

/**
 * Routes under /tiles: `GET /tiles/{layers}/{z}/{x}/{y}.mvt` (Mapbox Vector Tile
 * 2.1, one MVT layer per requested id) and `GET /tiles/{layers}.json` (TileJSON 3.0.0).
 *
 * Returned as a sub-application so that, when mounted, it can put the cache of
 * public tiles in front of the parent app (the `mount` event hands us the parent).
 * Once mounted, the parent's `locals.tiles` is the TileService (invalidation hook,
 * cache stats) and `locals.tileFastPath` counts the answers given before Express
 * (`answered` from the cache, `rendered` misses) and can remove the hook.
 */
export function tileRoutes(ctx: AppContext, options: TileRouteOptions = {}): express.Express {
  const service = options.service ?? new TileService(ctx, options);
  const fastPath: FastPathStats & { rendered: number; uninstall?: () => void } = { answered: 0, rendered: 0 };
  const fallback = ctx.tileArchive ? new TileArchiveFallback(ctx.tileArchive) : null;
  const app = express();
  // A sub-app starts with Express defaults; keep the parent's choices for these.
  app.disable('x-powered-by');
  app.set('etag', 'strong');

  app.get('/tiles/:layers.json', async (req, res) => {
    const who = principalOf(req);
    const layers = parseLayers(req.params.layers, who, ctx.computed);
    const filters = parseFilters(req.query, layers);
    const json = tileJson({ layers, who, base: baseUrl(req, ctx.config.PUBLIC_URL), query: filtersKey(filters), bounds: await service.extent(layers, scopeOf(req)) });
    res.set('Cache-Control', `${who.canSeeRestricted ? 'private' : 'public'}, max-age=60`);
    res.json(json);
  });

  app.get('/tiles/:layers/:z/:x/:y.mvt', async (req, res) => {
    const who = principalOf(req);
    const parsed = parseTileRequest(req.params, req.query, who, ctx.computed);
    let answer;
    try {
      // A Consistency-Token naming a write this process has not heard of yet: the cached tile may predate it.
      const scope = scopeOf(req);
      const fresh = options.tokenCoverage ? !(await options.tokenCoverage.cachesCover(scope)) : false;
      answer = await service.tile({ ...parsed, who, key: tileCacheKey(parsed, who), baseHeaders: appHeaders(res), fresh, scope });
    } catch (err) {
      // The database is away: the archive's copy of an unfiltered tile, if it holds one.
      const { layers, tile, filters } = parsed;
      if (fallback && isConnectionError(err) && filtersKey(filters) === '' && fallback.holds(layers, tile)) return fallback.send(res, layers, tile);
      throw err;
    }
    sendCached(answer.entry, req, res, answer.hit, service.cache, writeEdgeHead);
  });

  // Public tile requests that missed the cache, parsed exactly as the route does.
  const renderMiss: MissHandler = (req, res, fallback) => {
    const m = TILE_PATH.exec(req.url!);
    if (!m) return false;
    let parsed: ParsedTileRequest;
    try {
      parsed = parseTileRequest({ layers: decodeURIComponent(m[1]), z: m[2], x: m[3], y: m[4] }, querystring.parse(m[5] ?? ''), ANONYMOUS, ctx.computed);
    } catch {
      return false; // the route answers with the problem
    }
    fastPath.rendered++;
    // In the request's scope: tile statement timeout, cancelled when the client leaves. A failure
    // goes on to Express with that scope, so the request's clock (the embedded backend's
    // deadline) keeps running there instead of starting again for a second rendering.
    const scope = enterScope(req, res, 'tiles');
    service
      .tile({ ...parsed, who: ANONYMOUS, key: tileCacheKey(parsed, ANONYMOUS), scope })
      .then(
        ({ entry, hit }) => sendCached(entry, req, res, hit, service.cache, writeEdgeHead),
        () => fallback(),
      )
      .catch(() => res.destroy());
    return true;
  };

  app.on('mount', (parent: express.Application) => {
    parent.locals.tiles = service;
    parent.locals.tileFastPath = fastPath;
    if (options.fastPath !== false) {
      fastPath.uninstall = installFastPath(parent as unknown as Parameters<typeof installFastPath>[0], service.cache, fastPath, renderMiss, writeEdgeHead);
    }
  });
  return app;
}

const TILE_PATH = /^\/tiles\/([^/?]+)\/([^/?]+)\/([^/?]+)\/([^/?]+)\.mvt(?:\?(.*))?$/;
