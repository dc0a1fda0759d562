import os from 'node:os';
import { HttpProblem } from './problem.ts';
import { answerProblem, type EdgeHook } from './edge.ts';

/**
 * Without PUBLIC_URL, absolute links (OGC, TileJSON tile URLs, Location) are
 * built from the request's Host header, and several of those answers are
 * publicly cacheable: `Host: evil.invalid` would put links to evil.invalid
 * into a shared cache. So the server answers only to the host names it is
 * known by (ALLOWED_HOSTS; by default the localhost names and the bound HOST,
 * or every address of this machine when bound to all interfaces) and refuses
 * any other with 421 Misdirected Request. With PUBLIC_URL set, links never
 * come from Host and no check is needed.
 */
const WILDCARD_BINDS = new Set(['0.0.0.0', '::', '[::]']);

/** The default list: localhost names plus HOST (or every local address and the machine name for 0.0.0.0/::). */
export function defaultAllowedHosts(bind: string): string[] {
  const hosts = ['localhost', '127.0.0.1', '[::1]'];
  if (!WILDCARD_BINDS.has(bind)) hosts.push(bind.includes(':') && !bind.startsWith('[') ? `[${bind}]` : bind);
  else {
    hosts.push(os.hostname());
    for (const list of Object.values(os.networkInterfaces())) {
      for (const a of list ?? []) hosts.push(a.family === 'IPv6' ? `[${a.address.replace(/%.*$/, '')}]` : a.address);
    }
  }
  return [...new Set(hosts.map((h) => h.toLowerCase()))];
}

/** The host name of a Host header value, without the port; IPv6 keeps its brackets. */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.indexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}

/** null when every Host is fine (PUBLIC_URL set, or ALLOWED_HOSTS=*). */
export function allowedHostsHook(config: { PUBLIC_URL?: string; ALLOWED_HOSTS?: string[]; HOST: string }): EdgeHook | null {
  if (config.PUBLIC_URL) return null;
  const list = config.ALLOWED_HOSTS ?? defaultAllowedHosts(config.HOST);
  if (list.includes('*')) return null;
  const allowed = new Set(list);
  // The Host value last found allowed: nearly every request names the server the same
  // way, and comparing the value costs less than taking its name apart on every answer
  // (a cached tile's answer included).
  let lastAllowed: string | undefined;
  return (req, res) => {
    const host = req.headers.host;
    // HTTP/1.0 without Host: links fall back to localhost, nothing to poison.
    if (host === undefined || host === lastAllowed) return false;
    if (allowed.has(hostName(host))) {
      lastAllowed = host;
      return false;
    }
    const reason = `one of ${list.join(', ')} (or set PUBLIC_URL or ALLOWED_HOSTS)`;
    return answerProblem(req, res, new HttpProblem(421, 'Misdirected request', `Host ${hostName(host)} is not a name of this server`, [{ name: 'Host', reason }]));
  };
}
