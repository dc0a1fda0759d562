import fs from 'node:fs';
import { Router } from 'express';
import type { AppContext } from '../context.ts';
import { principalOf } from '../http/principal.ts';
import { readerOf } from '../db/types.ts';
import { collectionRoutes } from './collections.ts';
import { itemRoutes } from './items.ts';
import { landingRoutes } from './landing.ts';
import { MEDIA, ogcBase } from './links.ts';
import { openApiDocument, openApiHtml } from './openapi.ts';
import { F_API, parseQuery } from './params.ts';

const VERSION = (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * Routes under /ogc: OGC API – Features Part 1 (core, GeoJSON, OpenAPI 3.0)
 * and Part 2 (CRS), read-only. Writes (Part 4) will add POST/PUT/PATCH/DELETE
 * on the same item paths, reusing layer-access.ts and sql.ts.
 */
export function ogcRoutes(ctx: AppContext): Router {
  const router = Router();
  // Read-only: from the replica when there is one (server/db/replica.ts).
  const reads: AppContext = { ...ctx, db: readerOf(ctx.db) };
  const landing = landingRoutes(reads);
  const collections = collectionRoutes(reads);
  const items = itemRoutes(reads);

  router.get('/ogc', landing.landing);
  router.get('/ogc/conformance', landing.conformance);
  router.get('/ogc/api', (req, res) => {
    const q = parseQuery([F_API], req.query as Record<string, unknown>);
    const doc = openApiDocument(principalOf(req), ctx.computed, { ogcUrl: ogcBase(req, ctx.config.PUBLIC_URL), version: VERSION });
    if (q.f === 'html') res.type('text/html; charset=utf-8').send(openApiHtml(doc));
    else res.type(MEDIA.openapi).send(JSON.stringify(doc));
  });
  router.get('/ogc/collections', collections.list);
  router.get('/ogc/collections/:collectionId', collections.one);
  router.get('/ogc/collections/:collectionId/queryables', collections.queryables);
  router.get('/ogc/collections/:collectionId/items', items.items);
  router.get('/ogc/collections/:collectionId/items/:featureId', items.item);
  return router;
}
