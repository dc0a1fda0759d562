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

interface Connections {
  /** Answers not yet finished. */
  inFlight: Set<http.ServerResponse>;
  /** Open connections. */
  sockets: Set<Socket>;
  /** Open connections that have not sent a request yet. */
  fresh: Set<Socket>;
}

/** Per server, for closeKeepAliveOnShutdown. */
const tracked = new WeakMap<http.Server, Connections>();

export function applyKeepAlive(server: http.Server, { keepAliveTimeoutMs }: KeepAliveSettings): void {
  const c: Connections = { inFlight: new Set(), sockets: new Set(), fresh: new Set() };
  tracked.set(server, c);
  server.on('connection', (socket: Socket) => {
    c.sockets.add(socket);
    c.fresh.add(socket);
    socket.once('close', () => {
      c.sockets.delete(socket);
      c.fresh.delete(socket);
    });
  });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    c.fresh.delete(req.socket as Socket);
    c.inFlight.add(res);
    res.once('close', () => c.inFlight.delete(res));
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
  const c = tracked.get(server);
  for (const res of c?.inFlight ?? []) if (!res.headersSent) res.setHeader('Connection', 'close');
  // Before the app's own listener, so an answer written at once says it too.
  server.prependListener('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.setHeader('Connection', 'close');
  });
  server.keepAliveTimeout = 1;
  if (!c) {
    server.closeIdleConnections();
    return;
  }
  const busy = new Set([...c.inFlight].map((res) => res.socket));
  for (const socket of c.sockets) {
    if (busy.has(socket)) continue;
    if (!c.fresh.has(socket)) {
      socket.destroy();
      continue;
    }
    const timer = setTimeout(() => {
      if (c.fresh.has(socket)) socket.destroy();
    }, firstRequestGraceMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }
}
