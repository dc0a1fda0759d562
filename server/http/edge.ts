import { ServerResponse, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { PROBLEM_TYPE, problemJson } from './errors.ts';
import type { HttpProblem } from './problem.ts';

/**
 * Hooks that run for every request before anything else in the app, the tile
 * fast path included: tiles/fast-path.ts answers cached public tiles before
 * Express routing, so Express middleware never sees those requests. Request
 * ids, security headers, CORS, size and rate limits and metrics therefore live
 * here, where no answer can escape them.
 *
 * A hook returns true when it has answered the request itself (a 413, a 429, a
 * CORS preflight); the hooks after it and the app are then skipped. Hooks are
 * synchronous and cheap: they run on every cached tile too.
 *
 * The headers hooks add are only recorded on the response until its answer is
 * known (no `setHeader`: once one header is set that way, Node merges every
 * header of a later `writeHead` list one `setHeader` at a time, which is most of
 * what a cached tile costs). They reach the answer in one of two ways:
 * - an answer given before the app (a hook's own, the tile fast path) writes its
 *   head with `writeEdgeHead`, which adds them to the answer's header list;
 * - a request that goes on into the app passes `edgeHeadersIntoApp`, the app's
 *   first middleware, which sets them with `setHeader` (routes see them and may
 *   change them, e.g. add to `Vary`) and adds the defaults when the head is written.
 */
export type EdgeHook = (req: IncomingMessage, res: ServerResponse) => boolean;

type Handle = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void;

/**
 * Wraps `app.handle` so the hooks run first. Call it after every route is
 * mounted: the tile routes install their fast path on mount, and the edge must
 * sit outside it. The app's first middleware must be `edgeHeadersIntoApp`.
 */
export function installEdge(app: object, hooks: readonly EdgeHook[]): void {
  const target = app as { handle: Handle };
  const inner = target.handle;
  target.handle = function edge(this: unknown, req, res, next) {
    for (const hook of hooks) if (hook(req, res)) return;
    inner.call(this, req, res, next);
  };
}

/** This request's own headers, `[name, value, name, value, …]`, while the request is before the app. */
const OWN = Symbol('headers an edge hook set for this request only');
/** The headers every answer carries unless it sets its own (security headers). */
const DEFAULTS = Symbol('default headers of every answer');
/** Set once the request went on into the app: hooks' headers are set on the response from then on. */
const IN_APP = Symbol('edge headers handed to the app');
/** Lower-case names of the per-request headers set on the response in the app. */
const PER_REQUEST = Symbol('names of the per-request headers set in the app');

type EdgeResponse = ServerResponse & { [OWN]?: string[]; [DEFAULTS]?: DefaultHeaders; [IN_APP]?: true; [PER_REQUEST]?: string[] };

const writeHeadOf = ServerResponse.prototype.writeHead as (this: ServerResponse, status: number, ...rest: unknown[]) => ServerResponse;

const lower = new Map<string, string>();
/** Header names are a handful of literals: lower-cased once each. */
function lowerName(name: string): string {
  let l = lower.get(name);
  if (l === undefined) {
    l = name.toLowerCase();
    if (lower.size < 1000) lower.set(name, l);
  }
  return l;
}

/** A head as the fast path writes it: the header list, and the lower-case names in it. */
interface PreparedHead {
  list: readonly string[];
  names: ReadonlySet<string>;
}

function namesOf(list: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (let i = 0; i < list.length; i += 2) names.add(lowerName(list[i]));
  return names;
}

/**
 * Headers every answer carries unless it sets one of them itself (the security
 * headers, server/http/security-headers.ts), in two sets: one for documents a
 * browser renders (HTML, SVG) and one, smaller, for everything else (tiles, JSON,
 * images), picked by the answer's Content-Type when its head is written. Made once per app.
 */
export class DefaultHeaders {
  private readonly document: HeaderSet;
  private readonly resource: HeaderSet;
  /** Prepared heads of answers given before the app, per header list (a cached tile's lists live as long as the tile). */
  private readonly heads = new WeakMap<readonly string[], PreparedHead>();
  /**
   * `writeHead` of a response in the app: the defaults join when the head is
   * written, not one `setHeader` each up front; headers a route set itself (the
   * map page's CSP) win.
   */
  readonly writeHeadInApp: ServerResponse['writeHead'];

  constructor(sets: { document: Readonly<Record<string, string>>; resource: Readonly<Record<string, string>> }) {
    const document = (this.document = headerSet(sets.document));
    const resource = (this.resource = headerSet(sets.resource));
    this.writeHeadInApp = function writeHeadWithDefaults(this: ServerResponse, status: number, ...rest: unknown[]): ServerResponse {
      const last = rest[rest.length - 1];
      const given = last !== null && typeof last === 'object' && !Array.isArray(last) ? (last as OutgoingHttpHeaders) : undefined;
      const { names, values } = isDocument(contentTypeOf(given) ?? this.getHeader('content-type')) ? document : resource;
      if (given) {
        const merged: OutgoingHttpHeaders = {};
        for (const name of names) if (!this.hasHeader(name)) merged[name] = values[name];
        rest[rest.length - 1] = Object.assign(merged, given);
      } else {
        for (const name of names) if (!this.hasHeader(name)) this.setHeader(name, values[name]);
      }
      return writeHeadOf.call(this, status, ...rest);
    } as ServerResponse['writeHead'];
  }

  /** `list` preceded by the defaults it does not name; made once per list. */
  prepared(list: readonly string[]): PreparedHead {
    let head = this.heads.get(list);
    if (!head) {
      const names = namesOf(list);
      let contentType: string | undefined;
      for (let i = 0; i < list.length; i += 2) if (lowerName(list[i]) === 'content-type') contentType = list[i + 1];
      const set = isDocument(contentType) ? this.document : this.resource;
      const out: string[] = [];
      for (const name of set.names) if (!names.has(name)) out.push(name, set.values[name]);
      head = { list: out.concat(list), names };
      this.heads.set(list, head);
    }
    return head;
  }
}

interface HeaderSet {
  names: readonly string[];
  values: Readonly<Record<string, string>>;
}

function headerSet(headers: Readonly<Record<string, string>>): HeaderSet {
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) values[lowerName(name)] = value;
  return { names: Object.keys(values), values };
}

/** The Content-Type of a `writeHead` headers object, whatever the case of its name. */
function contentTypeOf(headers: OutgoingHttpHeaders | undefined): unknown {
  if (!headers) return undefined;
  for (const name of Object.keys(headers)) if (lowerName(name) === 'content-type') return headers[name];
  return undefined;
}

/** An answer a browser renders as a page (its own origin, frames, links), not data it hands to a script. */
function isDocument(contentType: unknown): boolean {
  if (typeof contentType !== 'string') return false;
  const t = contentType.trimStart().toLowerCase();
  return t.startsWith('text/html') || t.startsWith('application/xhtml') || t.startsWith('image/svg') || t.startsWith('text/xml') || t.startsWith('application/xml');
}

/** Edge hook helper: every answer to this request carries `defaults` (unless it sets its own). */
export function useDefaultHeaders(res: ServerResponse, defaults: DefaultHeaders): void {
  (res as EdgeResponse)[DEFAULTS] = defaults;
}

/**
 * Sets a header that depends on this request (request id, CORS answers one
 * origin, rate-limit quota), and remembers it: answers cached for replay to
 * other callers (tiles) are built from `appHeaders`, which leaves such headers out.
 */
export function setRequestHeader(res: ServerResponse, name: string, value: string): void {
  const r = res as EdgeResponse;
  if (r[IN_APP]) {
    res.setHeader(name, value);
    (r[PER_REQUEST] ??= []).push(lowerName(name));
    return;
  }
  const own = r[OWN];
  if (own) own.push(name, value);
  else r[OWN] = [name, value];
}

/**
 * Express middleware, the app's first: the request goes on into the app, so the
 * headers the hooks recorded are set on the response (routes may read and change
 * them), and the defaults join its head when it is written.
 */
export function edgeHeadersIntoApp(_req: IncomingMessage, res: ServerResponse, next: () => void): void {
  enterApp(res as EdgeResponse);
  next();
}

function enterApp(r: EdgeResponse): void {
  if (r[IN_APP]) return;
  r[IN_APP] = true;
  const own = r[OWN];
  if (own) {
    r[OWN] = undefined;
    for (let i = 0; i < own.length; i += 2) setRequestHeader(r, own[i], own[i + 1]);
  }
  const defaults = r[DEFAULTS];
  if (defaults) r.writeHead = defaults.writeHeadInApp;
}

/** The headers set so far, without the per-request ones of the edge. */
export function appHeaders(res: ServerResponse): OutgoingHttpHeaders {
  const headers = res.getHeaders();
  for (const name of (res as EdgeResponse)[PER_REQUEST] ?? []) delete headers[name];
  return headers;
}

/**
 * Writes the head of an answer with the edge's headers: `list` (`[name, value,
 * …]`, the answer's own headers, which win), the defaults and this request's
 * headers. Before the app that is one `writeHead` of a ready list (the lists of a
 * cached tile are prepared once); in the app, the response's own `writeHead`.
 */
export function writeEdgeHead(res: ServerResponse, status: number, list: readonly string[]): void {
  const r = res as EdgeResponse;
  if (r[IN_APP]) {
    res.writeHead(status, list as string[]);
    return;
  }
  const defaults = r[DEFAULTS];
  const own = r[OWN];
  if (!own) {
    writeHeadOf.call(res, status, defaults ? defaults.prepared(list).list : list);
    return;
  }
  const head = defaults ? defaults.prepared(list) : { list, names: namesOf(list) };
  const out = head.list.slice();
  for (let i = 0; i < own.length; i += 2) if (!head.names.has(lowerName(own[i]))) out.push(own[i], own[i + 1]);
  writeHeadOf.call(res, status, out);
}

/** Answers with a problem+json from a hook (before Express: no res.status/res.type here). */
export function answerProblem(req: IncomingMessage, res: ServerResponse, problem: HttpProblem, extraHeaders: readonly string[] = []): true {
  const body = problemJson(problem, req.url);
  writeEdgeHead(res, problem.status, [...extraHeaders, 'Content-Type', PROBLEM_TYPE, 'Content-Length', String(Buffer.byteLength(body))]);
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}
