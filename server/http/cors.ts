import type { IncomingMessage } from 'node:http';
import { HttpProblem } from './problem.ts';
import { answerProblem, setRequestHeader, writeEdgeHead, type EdgeHook } from './edge.ts';

/**
 * CORS for the reads other web applications may embed: tiles, OGC API, the
 * layer catalogue, analyses and risk reads. Off unless CORS_ORIGINS is set.
 *
 * Only anonymous reads cross origins: a preflight asking to send
 * `Authorization` is refused, so no page of another origin can edit with a
 * planner's key. With a list of origins the answer names the caller's origin
 * and carries `Vary: Origin`, so shared caches keep answers per origin.
 */
const SCOPES = [/^\/tiles\//, /^\/ogc(\/|$|\?)/, /^\/layers(\/|$|\?)/, /^\/analysis\//, /^\/risk\//];
const READ = ['GET', 'HEAD'];
/** POST analyses (area summary, nearest-shelter batches, what-if scenarios) read too. */
const POST_READS = /^\/analysis\//;
const ALLOWED_REQUEST_HEADERS = ['content-type', 'if-none-match', 'if-modified-since', 'accept', 'accept-language'];
const EXPOSED = 'ETag, Content-Crs, Link, Location, Retry-After';
const MAX_AGE = '600';

const inScope = (url: string) => SCOPES.some((re) => re.test(url));
const methodsFor = (url: string) => (POST_READS.test(url) ? [...READ, 'POST'] : READ);

export function corsHook(origins: readonly string[]): EdgeHook {
  const any = origins.length === 1 && origins[0] === '*';
  const allowed = new Set(origins.map((o) => o.toLowerCase()));
  const allowOrigin = (origin: string | undefined) => (origin === undefined ? undefined : any ? '*' : allowed.has(origin.toLowerCase()) ? origin : undefined);
  const problem = (name: string, reason: string) => new HttpProblem(403, 'Cross-origin request refused', `${name}: ${reason}`, [{ name, reason }]);

  return (req: IncomingMessage, res) => {
    const url = req.url ?? '/';
    if (!inScope(url)) return false;
    const origin = req.headers.origin;
    if (!any) setRequestHeader(res, 'Vary', 'Origin');
    const granted = allowOrigin(origin);
    const preflight = req.method === 'OPTIONS' && origin !== undefined && req.headers['access-control-request-method'] !== undefined;
    if (!preflight) {
      if (granted) {
        setRequestHeader(res, 'Access-Control-Allow-Origin', granted);
        setRequestHeader(res, 'Access-Control-Expose-Headers', EXPOSED);
      }
      return false;
    }
    const vary = any ? [] : ['Vary', 'Origin'];
    if (!granted) return answerProblem(req, res, problem('Origin', `one of ${origins.join(', ')}`), vary);
    const methods = methodsFor(url);
    const method = String(req.headers['access-control-request-method']).toUpperCase();
    if (!methods.includes(method)) return answerProblem(req, res, problem('Access-Control-Request-Method', `one of ${methods.join(', ')} (cross-origin reads only)`), vary);
    const asked = String(req.headers['access-control-request-headers'] ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean);
    const refused = asked.find((h) => !ALLOWED_REQUEST_HEADERS.includes(h));
    if (refused) return answerProblem(req, res, problem('Access-Control-Request-Headers', `only ${ALLOWED_REQUEST_HEADERS.join(', ')}; not ${refused} (no API keys across origins)`), vary);
    writeEdgeHead(res, 204, [
      ...vary,
      'Access-Control-Allow-Origin', granted,
      'Access-Control-Allow-Methods', methods.join(', '),
      'Access-Control-Allow-Headers', ALLOWED_REQUEST_HEADERS.join(', '),
      'Access-Control-Max-Age', MAX_AGE,
    ]);
    res.end();
    return true;
  };
}
