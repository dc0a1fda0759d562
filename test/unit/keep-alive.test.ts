import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { applyKeepAlive, closeKeepAliveOnShutdown } from '../../server/http/keep-alive.ts';
import { loadConfig } from '../../server/config.ts';

/**
 * A keep-alive client (a Node agent, a proxy) may reuse an idle connection at
 * any time; the server must not be the side that closes it after Node's 5 s
 * default, or a request sent at that moment is reset.
 */
let server: http.Server | undefined;
let agent: http.Agent | undefined;
afterEach(async () => {
  agent?.destroy();
  server?.closeAllConnections();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
});

function get(port: number): Promise<{ status: number; keepAlive: string | undefined }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, keepAlive: res.headers['keep-alive'] as string | undefined }));
      })
      .on('error', reject);
  });
}

describe('keep-alive connections', () => {
  it('keeps an idle connection past Node’s 5 s default, so a client reusing it is answered on the same connection', async () => {
    const config = loadConfig({});
    server = http.createServer((_req, res) => res.end('ok'));
    applyKeepAlive(server, { keepAliveTimeoutMs: config.KEEP_ALIVE_TIMEOUT_MS });
    let connections = 0;
    let closedByServer = 0;
    server.on('connection', (socket) => {
      connections++;
      socket.on('close', () => closedByServer++);
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

    const first = await get(port);
    expect(first.status).toBe(200);
    expect(first.keepAlive).toBe(`timeout=${Math.floor(config.KEEP_ALIVE_TIMEOUT_MS / 1000)}`);
    await new Promise((r) => setTimeout(r, 5600)); // idle for longer than Node's default
    expect(closedByServer).toBe(0);
    expect((await get(port)).status).toBe(200);
    expect(connections).toBe(1);
  }, 15_000);

  it('waits for the next request’s headers longer than it keeps the connection idle, within the request timeout', () => {
    const s = http.createServer();
    applyKeepAlive(s, { keepAliveTimeoutMs: 65_000 });
    expect(s.keepAliveTimeout).toBe(65_000);
    expect(s.headersTimeout).toBeGreaterThan(s.keepAliveTimeout);
    expect(s.requestTimeout === 0 || s.requestTimeout >= s.headersTimeout).toBe(true);
    // longer than the idle timeout of the proxies and load balancers it usually sits behind (60 s)
    expect(loadConfig({}).KEEP_ALIVE_TIMEOUT_MS).toBeGreaterThan(60_000);
  });

  it('on shutdown, answers the request in flight and then closes its connection instead of keeping it for the timeout', async () => {
    server = http.createServer((_req, res) => setTimeout(() => res.end('ok'), 300));
    applyKeepAlive(server, { keepAliveTimeoutMs: 65_000 });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    agent = new http.Agent({ keepAlive: true });
    const answer = get(port);
    await new Promise((r) => setTimeout(r, 100)); // the request is being served
    const started = performance.now();
    closeKeepAliveOnShutdown(server);
    const closed = new Promise<number>((r) => server!.close(() => r(performance.now() - started)));
    expect((await answer).status).toBe(200);
    const ms = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(Infinity), 5000))]);
    expect(ms).toBeLessThan(3000);
    server = undefined;
  }, 15_000);

  it('on shutdown, a connection opened before it whose request comes after is still answered, then closed', async () => {
    server = http.createServer((_req, res) => res.end('ok'));
    applyKeepAlive(server, { keepAliveTimeoutMs: 65_000 });
    const accepted = new Promise<void>((r) => server!.once('connection', () => r()));
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (d) => (received += d.toString()));
    const ended = new Promise<void>((r) => socket.once('close', () => r()));
    await accepted; // the server holds the connection; no request on it yet
    closeKeepAliveOnShutdown(server);
    const closed = new Promise<void>((r) => server!.close(() => r()));
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await ended;
    expect(received).toMatch(/^HTTP\/1\.1 200/);
    expect(received).toMatch(/\r\nConnection: close\r\n/i);
    await closed;
    server = undefined;
  }, 15_000);

  it('on shutdown, a connection that never sends a request is closed after the grace, and one idle after its answer at once', async () => {
    server = http.createServer((_req, res) => res.end('ok'));
    applyKeepAlive(server, { keepAliveTimeoutMs: 65_000 });
    let accepted = 0;
    const bothAccepted = new Promise<void>((r) => server!.on('connection', () => ++accepted === 2 && r()));
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    expect((await get(port)).status).toBe(200); // its connection is now idle, kept by the agent
    const silent = net.connect(port, '127.0.0.1');
    silent.on('error', () => {});
    await bothAccepted;
    const order: string[] = [];
    const idleSocket = Object.values(agent.freeSockets).flat()[0]!;
    const idleClosed = new Promise<void>((r) => idleSocket.once('close', () => (order.push('idle'), r())));
    const silentClosed = new Promise<void>((r) => silent.once('close', () => (order.push('silent'), r())));
    closeKeepAliveOnShutdown(server, 2000);
    const closed = new Promise<void>((r) => server!.close(() => r()));
    await idleClosed;
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['idle']); // the silent one is still given its grace
    await silentClosed;
    await closed;
    expect(order).toEqual(['idle', 'silent']);
    server = undefined;
  }, 15_000);
});
