import zlib from 'node:zlib';
import type { RequestHandler } from 'express';
import compression from 'compression';

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
 */
export type ContentEncoding = 'br' | 'gzip' | 'identity';

/** Bodies smaller than this are sent as they are: headers would eat the saving. */
export const MIN_COMPRESS_BYTES = 256;

/** Brotli quality for answers made on request: 5 is about gzip's speed at a better ratio. */
const BROTLI_ON_REQUEST = 5;

const memo = new Map<string, ContentEncoding>();

/**
 * The encoding to answer with for an Accept-Encoding header (RFC 9110 §12.5.3):
 * `br` when acceptable, else `gzip`, else identity; `q=0` refuses a coding, `*`
 * stands for codings not named. Memoised: clients send a handful of distinct headers.
 */
export function negotiateEncoding(header: string | undefined): ContentEncoding {
  if (!header) return 'identity';
  const known = memo.get(header);
  if (known) return known;
  const q = new Map<string, number>();
  for (const part of header.toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';');
    if (!name) continue;
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = qp ? Number(qp.slice(2)) : 1;
    q.set(name.trim(), Number.isFinite(value) ? value : 0);
  }
  const weight = (coding: string) => q.get(coding) ?? (coding === 'gzip' ? q.get('x-gzip') : undefined) ?? q.get('*') ?? 0;
  const br = weight('br');
  const gz = weight('gzip');
  const chosen: ContentEncoding = br > 0 && br >= gz ? 'br' : gz > 0 ? 'gzip' : 'identity';
  if (memo.size < 256) memo.set(header, chosen);
  return chosen;
}

/** `body` in `encoding` (synchronously: tiles are small, and it happens once per cached tile). */
export function encodeBody(body: Buffer, encoding: Exclude<ContentEncoding, 'identity'>): Buffer {
  if (encoding === 'gzip') return zlib.gzipSync(body, { level: 6 });
  return zlib.brotliCompressSync(body, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_ON_REQUEST, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length },
  });
}

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
