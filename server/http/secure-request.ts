import type { IncomingMessage } from 'node:http';

/**
 * Whether the request reached the server over HTTPS: on a TLS socket of its own,
 * or, behind trusted reverse proxies (TRUST_PROXY > 0), with X-Forwarded-Proto
 * saying `https`. Read as Express reads it for `req.protocol` (the first value of
 * a list), so links and headers agree on the scheme. Without trusted proxies the
 * header is ignored: a client could send it.
 */
export function isSecureRequest(req: IncomingMessage, trustProxy: number): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted === true) return true;
  if (trustProxy === 0) return false;
  const header = req.headers['x-forwarded-proto'];
  if (typeof header !== 'string') return false;
  const comma = header.indexOf(',');
  return (comma < 0 ? header : header.slice(0, comma)).trim().toLowerCase() === 'https';
}
