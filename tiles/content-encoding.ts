import zlib from 'node:zlib';

/**
 * Content codings for answers the tile engine prepares itself (cached tiles are
 * compressed once per encoding). No HTTP framework here: the server's
 * compression middleware (server/http/compress.ts) shares these choices.
 */
export type ContentEncoding = 'br' | 'gzip' | 'identity';

/** Bodies smaller than this are sent as they are: headers would eat the saving. */
export const MIN_COMPRESS_BYTES = 256;

/** Brotli quality for answers made on request: 5 is about gzip's speed at a better ratio. */
export const BROTLI_ON_REQUEST = 5;

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
