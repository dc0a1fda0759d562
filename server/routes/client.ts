import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router, type RequestHandler } from 'express';
import type { AppContext } from '../context.ts';
import { HttpProblem, badRequest } from '../http/problem.ts';
import { negotiateEncoding } from '../../tiles/content-encoding.ts';

/** Where `npm run build:client` (Vite) writes the one-map client. */
export const CLIENT_DIST = fileURLToPath(new URL('../../client/dist/', import.meta.url));

/**
 * The page may talk to this server only: no CDN, no online base map, no web fonts.
 * The browser enforces it, so a stray third-party URL fails loudly in development.
 */
export const CLIENT_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  // OpenLayers positions overlays and controls with inline style attributes.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'self'",
].join('; ');

export interface ClientRouteOptions {
  /** Directory holding the built client (index.html and assets/). */
  dir: string;
}

/**
 * `GET /` serves the one map (planner mode; `?mode=wall` for command-centre walls).
 * Built assets carry content hashes in their names and are cached for a year;
 * index.html is revalidated on every load so a rebuilt client is picked up at once.
 * Mounted last, just before the 404 handler: it never shadows an API route.
 */
export function clientRoutes(_ctx: AppContext, options: ClientRouteOptions = { dir: CLIENT_DIST }): Router {
  const router = Router();
  const index = path.join(options.dir, 'index.html');
  router.use(refuseTraversal);

  router.get(['/', '/index.html'], (_req, res, next) => {
    if (!fs.existsSync(index)) {
      next(new HttpProblem(503, 'Client not built', 'the map client has not been built: run `npm run build:client` (npm start does it when needed)'));
      return;
    }
    res.set({
      'Cache-Control': 'no-cache',
      'Content-Security-Policy': CLIENT_CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'same-origin',
    });
    res.sendFile(index, { cacheControl: false });
  });

  router.use('/assets', precompressed(path.join(options.dir, 'assets')));
  router.use(
    '/assets',
    express.static(path.join(options.dir, 'assets'), {
      index: false,
      immutable: true,
      maxAge: '365d',
      setHeaders: (res) => res.set('X-Content-Type-Options', 'nosniff'),
    }),
  );
  // Other files at the top of dist/ (the icon): short cache, no directory listings.
  router.use(express.static(options.dir, { index: false, maxAge: '1h', redirect: false }));
  return router;
}

/**
 * express.static decodes the path and then normalises it under its root, so
 * `/assets/..%2Findex.html` climbed out of assets/ and the root handler served
 * index.html (without its CSP). The client has flat names only: a path with an
 * encoded separator, a backslash or a `.`/`..` segment is refused outright.
 */
const refuseTraversal: RequestHandler = (req, _res, next) => {
  const raw = req.path;
  if (/%2f|%5c|\\/i.test(raw)) return next(badRequest('path', 'encoded separators (%2F, %5C) and backslashes are not allowed'));
  let segments: string[];
  try {
    segments = raw.split('/').map((s) => decodeURIComponent(s));
  } catch {
    return next(badRequest('path', 'not a valid percent-encoded path'));
  }
  if (segments.some((s) => s === '.' || s === '..')) return next(badRequest('path', '"." and ".." segments are not allowed'));
  next();
};

/**
 * Serves `name.br` / `name.gz`, written next to each asset at build time
 * (client/build.ts), to clients that accept that encoding; other requests fall
 * through to the plain files. Each encoding has its own ETag (send derives it from
 * the compressed file).
 */
function precompressed(dir: string): RequestHandler {
  const exists = new Map<string, boolean>();
  const has = (file: string) => {
    let known = exists.get(file);
    if (known === undefined) exists.set(file, (known = fs.existsSync(file)));
    return known;
  };
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const name = req.path.slice(1);
    // Built assets are flat, hashed names; anything else is for express.static to refuse.
    if (!/^[\w.-]+$/.test(name) || name.startsWith('.')) return next();
    res.vary('Accept-Encoding');
    const encoding = negotiateEncoding(req.headers['accept-encoding']);
    if (encoding === 'identity') return next();
    const file = path.join(dir, `${name}.${encoding === 'br' ? 'br' : 'gz'}`);
    if (!has(file)) return next();
    res.type(path.extname(name));
    res.set({ 'Content-Encoding': encoding, 'X-Content-Type-Options': 'nosniff' });
    res.sendFile(file, { maxAge: '365d', immutable: true }, (err) => err && next(err));
  };
}
