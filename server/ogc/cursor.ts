import { createHash } from 'node:crypto';
import { badRequest } from '../http/problem.ts';
import type { ItemsFilter, SortKey } from './sql.ts';

/**
 * Keyset cursors of `next` links. A cursor holds the sort key values of the
 * last feature of a page, a hash of the filter and sort order it belongs to,
 * and the position of the next page (for `prev` links and numbering). It is
 * opaque to clients (base64url JSON); the server only trusts it after checking
 * its shape and that it belongs to the request's filter and order. Pages
 * reached by cursor cost what the first page costs (an index range scan, no
 * OFFSET), and stay consistent while others edit.
 */
export interface Cursor {
  /** Sort key values of the last row before the page, as text (null for NULL), ending with the id. */
  after: (string | null)[];
  /** Number of matching features before the page when the cursor was made. */
  position: number;
}

/** Identifies a filter and sort order; a cursor from another query is refused. */
export function queryHash(filter: ItemsFilter, sort: readonly SortKey[]): string {
  const canonical = JSON.stringify({
    bbox: filter.bbox ?? null,
    datetime: filter.datetime ? [filter.datetime.property.name, filter.datetime.interval] : null,
    properties: filter.properties.map((f) => [f.property.name, f.values]),
    search: filter.search ? [filter.search.terms, filter.search.columns] : null,
    cql: filter.cql?.node ?? null,
    sort: sort.map((k) => [k.name, k.descending]),
  });
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 12);
}

export function encodeCursor(cursor: Cursor, hash: string): string {
  return Buffer.from(JSON.stringify({ k: cursor.after, h: hash, o: cursor.position })).toString('base64url');
}

const REASON = 'not a cursor of this query: cursors come from the next links of the same filter and sortby; start again without cursor';

/** Decodes and checks a cursor for a query with `keyCount` sort keys and `hash`. Throws a 400 naming `cursor`. */
export function decodeCursor(token: string, hash: string, keyCount: number): Cursor {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw badRequest('cursor', REASON);
  }
  const v = value as { k?: unknown; h?: unknown; o?: unknown };
  const ok =
    typeof value === 'object' &&
    value !== null &&
    Array.isArray(v.k) &&
    v.k.length === keyCount &&
    v.k.every((x) => x === null || (typeof x === 'string' && x.length <= 1000)) &&
    v.k[v.k.length - 1] !== null &&
    v.h === hash &&
    Number.isSafeInteger(v.o) &&
    (v.o as number) >= 0;
  if (!ok) throw badRequest('cursor', REASON);
  return { after: v.k as (string | null)[], position: v.o as number };
}
