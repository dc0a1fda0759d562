import type { IncomingMessage } from 'node:http';

/**
 * The client's address for per-address limits and logs. Behind `hops` trusted
 * reverse proxies (TRUST_PROXY) it is read from X-Forwarded-For, counting from
 * the right: each proxy appends the address it received the request from, so
 * only the last `hops` entries were written by machines we trust and anything
 * further left may be forged by the client. Without proxies (hops = 0) the
 * header is ignored.
 */
export function clientAddress(req: IncomingMessage, hops: number): string {
  const socket = req.socket.remoteAddress ?? 'unknown';
  if (hops === 0) return socket;
  const header = req.headers['x-forwarded-for'];
  if (!header) return socket;
  const list = (Array.isArray(header) ? header.join(',') : header).split(',');
  // addresses[0] is the socket peer (hop 0), then the header from right to left.
  const index = Math.min(hops, list.length) - 1;
  const candidate = list[list.length - 1 - index].trim();
  return candidate || socket;
}

/**
 * The unit a per-address limit counts: an IPv4 address as is (IPv4-mapped IPv6
 * unwrapped), an IPv6 address by its /64 prefix, because one subscriber
 * usually holds a whole /64 and could otherwise rotate through it.
 */
export function addressBucket(address: string): string {
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  if (!address.includes(':')) return address;
  const [head, tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = address.includes('::') && tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return groups
    .slice(0, 4)
    .map((g) => (g.replace(/^0+/, '') || '0').toLowerCase())
    .join(':') + '::/64';
}

/** True for a loopback peer (the same machine). */
export function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
