import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';
import type { EdgeHook } from './edge.ts';

/**
 * Security headers (helmet) on every answer: API, errors, static maps and the
 * tiles the fast path answers from the cache. helmet runs once at start-up
 * against a recording response; the hook then only copies the recorded list,
 * so a cached tile pays a dozen setHeader calls and nothing else.
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
  const recorded: [string, string][] = [['Content-Security-Policy', API_CSP]];
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => recorded.push([name, String(value)]),
    removeHeader: () => undefined,
  };
  middleware({} as IncomingMessage, recorder as unknown as ServerResponse, () => undefined);
  return (_req, res) => {
    for (const [name, value] of recorded) res.setHeader(name, value);
    return false;
  };
}
