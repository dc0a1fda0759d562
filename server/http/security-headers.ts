import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';
import { DefaultHeaders, useDefaultHeaders, type EdgeHook } from './edge.ts';
import { isSecureRequest } from './secure-request.ts';

/**
 * Security headers (helmet) on every answer: API, errors, static maps and the
 * tiles the fast path answers from the cache. helmet runs once at start-up
 * against a recording response; the hook only names the recorded list as the
 * response's defaults, which join its head when it is written (server/http/edge.ts).
 *
 * Documents a browser renders (HTML, SVG, XML) get helmet's whole set. Every
 * other answer (tiles, JSON, images, problems) gets the ones that protect a
 * resource — CSP (no scripts, no framing), nosniff, Cross-Origin-Resource-Policy,
 * Referrer-Policy, HSTS — as OWASP's REST security guidance lists them; the
 * rest (COOP, Origin-Agent-Cluster, X-Frame-Options, X-DNS-Prefetch-Control,
 * X-Download-Options, X-Permitted-Cross-Domain-Policies, X-XSS-Protection) are
 * read by browsers only on documents, and seven headers on every cached tile
 * are a measurable part of what it costs to send.
 *
 * Strict-Transport-Security goes only with answers sent over HTTPS (our own TLS,
 * or a trusted proxy's X-Forwarded-Proto): RFC 6797 §7.2 says a host MUST NOT send
 * it over plain HTTP, where a browser ignores it anyway (§8.1).
 *
 * The CSP here suits JSON, images and the small `?f=html` pages (inline style
 * only); the map page sets its own, wider CSP (server/routes/client.ts), tiles
 * their own, stricter one (tiles/engine.ts TILE_CSP).
 */
export const API_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'self'";

/** The headers of helmet's set that also protect answers that are not documents. */
export const RESOURCE_HEADERS = ['content-security-policy', 'x-content-type-options', 'cross-origin-resource-policy', 'referrer-policy', 'strict-transport-security'] as const;

const HSTS = 'strict-transport-security';

export function securityHeaders(options: { crossOrigin: boolean; trustProxy: number }): EdgeHook {
  const middleware = helmet({
    contentSecurityPolicy: false,
    // Browsers of other origins may only embed our answers when CORS is on.
    crossOriginResourcePolicy: { policy: options.crossOrigin ? 'cross-origin' : 'same-origin' },
  });
  const document: Record<string, string> = { 'content-security-policy': API_CSP };
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => (document[name.toLowerCase()] = String(value)),
    removeHeader: () => undefined,
  };
  middleware({} as IncomingMessage, recorder as unknown as ServerResponse, () => undefined);
  const resource = Object.fromEntries(RESOURCE_HEADERS.map((name) => [name, document[name]]));
  const secure = new DefaultHeaders({ document, resource });
  const plain = new DefaultHeaders({ document: without(document, HSTS), resource: without(resource, HSTS) });
  const { trustProxy } = options;

  return (req, res) => {
    useDefaultHeaders(res, isSecureRequest(req, trustProxy) ? secure : plain);
    return false;
  };
}

function without(headers: Record<string, string>, name: string): Record<string, string> {
  const rest = { ...headers };
  delete rest[name];
  return rest;
}
