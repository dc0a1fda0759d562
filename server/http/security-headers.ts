import { ServerResponse, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import helmet from 'helmet';
import type { EdgeHook } from './edge.ts';

/**
 * Security headers (helmet) on every answer: API, errors, static maps and the
 * tiles the fast path answers from the cache. helmet runs once at start-up
 * against a recording response; the hook only installs a writeHead that adds
 * the recorded list.
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
  const names = Object.keys(recorded);
  const writeHead = ServerResponse.prototype.writeHead as (this: ServerResponse, ...args: unknown[]) => ServerResponse;

  /**
   * The headers join the answer when its head is written, not one setHeader
   * each up front: a cached tile is written with one header object, and adding
   * the list to that object costs a fraction of a dozen validated setHeader
   * calls. Headers a route set itself (the map page's CSP) win.
   */
  function secureWriteHead(this: ServerResponse, status: number, ...rest: unknown[]): ServerResponse {
    const last = rest[rest.length - 1];
    if (last !== null && typeof last === 'object' && !Array.isArray(last)) {
      const given = last as OutgoingHttpHeaders;
      const merged: OutgoingHttpHeaders = {};
      for (const name of names) if (!this.hasHeader(name)) merged[name] = recorded[name];
      Object.assign(merged, given);
      rest[rest.length - 1] = merged;
    } else {
      for (const name of names) if (!this.hasHeader(name)) this.setHeader(name, recorded[name]);
    }
    return writeHead.call(this, status, ...rest);
  }

  return (_req, res) => {
    res.writeHead = secureWriteHead as ServerResponse['writeHead'];
    return false;
  };
}
