import type http from 'node:http';

/**
 * Idle keep-alive connections must be closed by the client or proxy, never by
 * this server while the other side may be reusing them. Node's default
 * keep-alive timeout is 5 s, shorter than the idle timeout of common clients
 * and proxies (nginx upstream keepalive 60 s, cloud load balancers 60 s, Node
 * agents with no limit): a client that sends on a connection at the moment
 * the server closes it gets a reset (ECONNRESET, "socket hang up") instead of
 * an answer — a network error for a request the server never saw.
 *
 * Rules (Node's own): the server keeps an idle connection longer than any
 * client in front of it (`keepAliveTimeout` > 60 s), and waits for the
 * headers of the next request longer still (`headersTimeout` >
 * `keepAliveTimeout`, otherwise the headers timer can close a connection the
 * keep-alive timer still holds open), both within `requestTimeout`.
 * The `Keep-Alive: timeout=…` header Node sends tells clients that read it
 * (undici, browsers) when to stop reusing a connection.
 */
export interface KeepAliveSettings {
  /** How long an idle connection is kept open, ms. */
  keepAliveTimeoutMs: number;
}

/** Slack between the keep-alive and headers timers, ms. */
const HEADERS_SLACK_MS = 1000;

/** Answers not yet finished, per server, for closeKeepAliveOnShutdown. */
const inFlight = new WeakMap<http.Server, Set<http.ServerResponse>>();

export function applyKeepAlive(server: http.Server, { keepAliveTimeoutMs }: KeepAliveSettings): void {
  const open = new Set<http.ServerResponse>();
  inFlight.set(server, open);
  server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    open.add(res);
    res.once('close', () => open.delete(res));
  });
  server.keepAliveTimeout = keepAliveTimeoutMs;
  server.headersTimeout = keepAliveTimeoutMs + HEADERS_SLACK_MS;
  // requestTimeout bounds a whole request (headers and body); it must not undercut the headers timer.
  if (server.requestTimeout > 0 && server.requestTimeout < server.headersTimeout) server.requestTimeout = server.headersTimeout;
}

/**
 * On shutdown: `server.close()` waits for every connection to end, and a
 * keep-alive connection whose last request has just been answered would stay
 * open for the whole keep-alive timeout. From now on every answer says
 * `Connection: close` (requests in flight and any still arriving on open
 * connections), so each connection closes right after its answer and no client
 * sends another request on it; connections idle right now are closed at once.
 */
export function closeKeepAliveOnShutdown(server: http.Server): void {
  for (const res of inFlight.get(server) ?? []) if (!res.headersSent) res.setHeader('Connection', 'close');
  server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    if (!res.headersSent) res.setHeader('Connection', 'close');
  });
  server.keepAliveTimeout = 1;
  server.closeIdleConnections();
}
