import type http from 'node:http';
import type { Socket } from 'node:net';

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

/**
 * How long, on shutdown, a connection that has not sent its first request yet
 * may still send it. A client opens a connection in order to send a request at
 * once, so such a request is usually already on its way (or in the socket,
 * unread); closing the connection would lose it, and clients retry a failed
 * request on their own only when it went out on a reused connection.
 */
export const FIRST_REQUEST_GRACE_MS = 2000;

/**
 * The answer a connection is on or gave last, kept on the socket itself: a
 * connection with none has not sent a request yet. Nothing is tracked per
 * request beyond this one property (no set of answers, no listener per answer):
 * a cached tile costs tens of microseconds of CPU, and a `Set` of answers in
 * flight with a `once('close')` closure each added about 2 µs to every one
 * (41.3 against 39.5 µs per cached tile, the server pinned to one core, 2026-12-06).
 */
const ANSWER = Symbol('the answer this connection is on, or gave last');
type TrackedSocket = Socket & { [ANSWER]?: http.ServerResponse };

/** Open connections, per server, for closeKeepAliveOnShutdown. */
const tracked = new WeakMap<http.Server, Set<TrackedSocket>>();

export function applyKeepAlive(server: http.Server, { keepAliveTimeoutMs }: KeepAliveSettings): void {
  const sockets = new Set<TrackedSocket>();
  tracked.set(server, sockets);
  server.on('connection', (socket: TrackedSocket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    (req.socket as TrackedSocket)[ANSWER] = res;
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
 * sends another request on it. Connections idle between requests are closed at
 * once; a connection that has not sent its first request yet gets
 * FIRST_REQUEST_GRACE_MS to send it (Node's closeIdleConnections() would
 * close it too, losing a request that was already on its way).
 */
export function closeKeepAliveOnShutdown(server: http.Server, firstRequestGraceMs = FIRST_REQUEST_GRACE_MS): void {
  const sockets = tracked.get(server);
  // Before the app's own listener, so an answer written at once says it too.
  server.prependListener('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.setHeader('Connection', 'close');
  });
  server.keepAliveTimeout = 1;
  if (!sockets) {
    server.closeIdleConnections();
    return;
  }
  for (const socket of sockets) {
    const res = socket[ANSWER];
    // Busy: its answer is not finished; it closes right after it (Connection: close).
    if (res && !res.writableFinished && !res.destroyed) {
      if (!res.headersSent) res.setHeader('Connection', 'close');
      continue;
    }
    // Idle between requests.
    if (res) {
      socket.destroy();
      continue;
    }
    const timer = setTimeout(() => {
      if (!socket[ANSWER]) socket.destroy();
    }, firstRequestGraceMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }
}
