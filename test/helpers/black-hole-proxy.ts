import net from 'node:net';

/**
 * A TCP proxy in front of a server that can go silent the way a dead link does: `freeze()`
 * stops carrying bytes either way without closing anything (no FIN, no RST, as when a switch
 * fails or the server loses power), and connections made meanwhile are accepted and never
 * answered. `thaw()` drops what froze, as a dead link's connections end at last, and carries
 * new ones again.
 */
export interface BlackHoleProxy {
  url: string;
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
}

export async function blackHoleProxy(target: string): Promise<BlackHoleProxy> {
  const { hostname, port } = new URL(target);
  let frozen = false;
  const open = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    open.add(s);
    s.on('close', () => open.delete(s));
    s.on('error', () => s.destroy());
  };
  const server = net.createServer((client) => {
    track(client);
    if (frozen) return; // accepted, never answered
    const upstream = net.connect(Number(port), hostname);
    track(upstream);
    // Bytes cross only while not frozen: a frozen link neither delivers nor closes.
    client.on('data', (d) => void (frozen || upstream.write(d)));
    upstream.on('data', (d) => void (frozen || client.write(d)));
    client.on('end', () => frozen || upstream.end());
    upstream.on('end', () => frozen || client.end());
    client.on('close', () => frozen || upstream.destroy());
    upstream.on('close', () => frozen || client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return {
    url,
    freeze: () => void (frozen = true),
    thaw() {
      for (const s of open) s.destroy();
      frozen = false;
    },
    async close() {
      for (const s of open) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
