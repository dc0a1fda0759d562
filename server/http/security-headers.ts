import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';
import { DefaultHeaders, useDefaultHeaders, type EdgeHook } from './edge.ts';

/**
 * Security headers (helmet) on every answer: API, errors, static maps and the
 * tiles the fast path answers from the cache. helmet runs once at start-up
 * against a recording response; the hook only names the recorded list as the
 * response's defaults, which join its head when it is written (server/http/edge.ts).
 *
 * The CSP here suits JSON, images and the small `?f=html` pages (inline style
 * only); the map page sets its own, wider CSP (server/routes/client.ts).
 */
export const API_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'self'";

export function securityHeaders(options: { crossOrigin: boolean }): EdgeHook {
  const middleware = helmet({
    contentSecurityPolicy: false,
    // Browsers of other origins may only embed our answers when CORS is on.
    crossOriginResourcePolicy: { policy: options.crossOrigin ? 'cross-origin' : 'same-origin' },
  });
  const recorded: Record<string, string> = { 'content-security-policy': API_CSP };
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => (recorded[name.toLowerCase()] = String(value)),
    removeHeader: () => undefined,
  };
  middleware({} as IncomingMessage, recorder as unknown as ServerResponse, () => undefined);
  const defaults = new DefaultHeaders(recorded);

  return (_req, res) => {
    useDefaultHeaders(res, defaults);
    return false;
  };
}
