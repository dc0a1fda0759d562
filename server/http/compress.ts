import zlib from 'node:zlib';
import type { RequestHandler } from 'express';
import compression from 'compression';
import { BROTLI_ON_REQUEST, MIN_COMPRESS_BYTES } from '../../tiles/content-encoding.ts';

/**
 * Response compression, chosen by the request's Accept-Encoding: brotli where the
 * client asks for it, else gzip, else none.
 *
 * - Vector tiles compress themselves (tiles/service.ts): once per cached tile and
 *   encoding, kept in the cache entry, so a hit costs no compression at all.
 * - GeoJSON pages, CSV, JSON and HTML go through `compressResponses()` (the
 *   `compression` middleware, limited to text types: never event streams, never tiles).
 * - The client's built assets are compressed at build time (client/build.ts) and
 *   served as files (server/routes/client.ts).
 * The codings and their negotiation live in tiles/content-encoding.ts.
 */

const COMPRESSIBLE = /^(application\/(json|geo\+json|problem\+json|schema\+json|vnd\.oai\.openapi\+json|xml|javascript)|text\/(csv|html|plain|css|javascript|xml))\b/;

/** The middleware for everything but tiles and static assets: text types only, gzip or brotli. */
export function compressResponses(): RequestHandler {
  return compression({
    threshold: MIN_COMPRESS_BYTES,
    brotli: { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_ON_REQUEST } },
    // Event streams must not be buffered; tiles and prebuilt assets carry their own encoding.
    filter: (_req, res) => COMPRESSIBLE.test(String(res.getHeader('Content-Type') ?? '')),
  });
}
