import type { Request } from 'express';
import { baseUrl } from '../http/base-url.ts';

/**
 * Absolute links for the OGC API. GDAL 3.6 and QGIS resolve relative links
 * wrongly, and they follow `rel=next` only when it is absolute, so every href
 * here starts with the scheme and host (or PUBLIC_URL).
 */
export interface Link {
  href: string;
  rel: string;
  type?: string;
  title?: string;
  templated?: boolean;
}

export const MEDIA = {
  json: 'application/json',
  geojson: 'application/geo+json',
  csv: 'text/csv',
  html: 'text/html',
  openapi: 'application/vnd.oai.openapi+json;version=3.0',
  schema: 'application/schema+json',
  mvt: 'application/vnd.mapbox-vector-tile',
} as const;

/** Base of the OGC API: `https://host/ogc`. */
export function ogcBase(req: Request, publicUrl?: string): string {
  return `${baseUrl(req, publicUrl)}/ogc`;
}

// Keep commas, colons and slashes readable in links (bbox, sortby, datetime, crs URIs).
const encode = (s: string) => encodeURIComponent(s).replace(/%2C/gi, ',').replace(/%3A/gi, ':').replace(/%2F/gi, '/');

/** The request's query as ordered pairs, exactly as sent (decoded). */
export function queryPairs(req: Request): [string, string][] {
  const raw = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '';
  return [...new URLSearchParams(raw)];
}

/**
 * `url` with the request's query parameters, `changes` applied in place (a
 * value of null removes the parameter; new ones are appended). Every other
 * parameter is kept as sent, so `next`/`prev` links repeat the same query.
 */
export function withQuery(url: string, pairs: readonly [string, string][], changes: Record<string, string | null> = {}): string {
  const out: [string, string][] = [];
  const done = new Set<string>();
  for (const [k, v] of pairs) {
    if (k in changes) {
      if (done.has(k)) continue;
      done.add(k);
      const nv = changes[k];
      if (nv !== null) out.push([k, nv]);
    } else {
      out.push([k, v]);
    }
  }
  for (const [k, v] of Object.entries(changes)) if (!done.has(k) && v !== null) out.push([k, v]);
  return out.length ? `${url}?${out.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&')}` : url;
}

/** RFC 8288 `Link` header value for links that have a type (used for CSV paging too). */
export function linkHeader(links: readonly Link[]): string {
  return links.map((l) => `<${l.href}>; rel="${l.rel}"${l.type ? `; type="${l.type}"` : ''}`).join(', ');
}
