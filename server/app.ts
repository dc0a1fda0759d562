import express from 'express';
import { appContext, type AppContext, type AppOptions } from './context.ts';
import { errorMiddleware, notFoundHandler } from './http/errors.ts';
import { edgeHeadersIntoApp, installEdge, type EdgeHook } from './http/edge.ts';
import { securityHeaders } from './http/security-headers.ts';
import { corsHook } from './http/cors.ts';
import { allowedHostsHook } from './http/allowed-hosts.ts';
import { bodyLimitHook, JSON_BODY_LIMIT_BYTES } from './http/body-limit.ts';
import { assertWellFormed, urlUnicodeHook, verifyUtf8 } from './http/unicode.ts';
import { compressResponses } from './http/compress.ts';
import { healthRoutes } from './routes/health.ts';
import { layerRoutes } from './routes/layers.ts';
import { tileRoutes } from './routes/tiles.ts';
import { ogcRoutes } from './ogc/routes.ts';
import { analysisRoutes } from './analysis/routes.ts';
import { mapRoutes } from './maps/routes.ts';
import { configureRasterGate, rasterGate } from './maps/render.ts';
import { authenticate } from './auth/middleware.ts';
import { shelterRoutes } from './shelters/routes.ts';
import { editRoutes } from './edits/routes.ts';
import { importRoutes } from './imports/routes.ts';
import { DEFAULT_LIVE_OPTIONS, liveEvents } from './live/events.ts';
import { relayChanges } from './live/notify.ts';
import { keepHazardZones } from './shelters/hazard-zone-keeper.ts';
import { AppliedVersion, joinClusterBarrier, writeBarrier } from './cluster/write-barrier.ts';
import { currentDataVersion } from './db/data-version.ts';
import { clientRoutes } from './routes/client.ts';
import { riskRoutes } from './risk/routes.ts';
import { scenarioRoutes } from './risk/scenario-routes.ts';
import { requestScope } from './http/request-scope.ts';
import { consistencyToken, TokenCoverage } from './http/consistency-token.ts';
import { configureWorkerPool, workerPool, workerPoolOptions } from './work/shared.ts';
import { requestIdHook } from './http/request-id.ts';
import { AppMetrics, metricsEndpoint } from './http/metrics.ts';
import { addressRateLimit, limitPerKey } from './http/rate-limit.ts';

export type { AppOptions };

/** Builds the Express app without listening, so tests drive it with supertest. */
export function buildApp(options: AppOptions): express.Express {
  // Built once: the analyses with their caches, and the computed layers (coverage_gaps) on them.
  const ctx: AppContext = appContext(options);
  const app = express();
  app.locals.analysis = ctx.analysis;
  app.disable('x-powered-by');
  app.set('etag', 'strong');
  app.set('query parser', 'simple');
  app.set('trust proxy', ctx.config.TRUST_PROXY);
  // First: the headers of the edge hooks (request id, CORS, rate limit) and the security
  // headers join every answer of the app (server/http/edge.ts; the hooks run before Express).
  app.use(edgeHeadersIntoApp);
  // GeoJSON and merge-patch bodies are JSON too (QGIS sends application/geo+json).
  // Imports read their own (much larger) bodies.
  const json = express.json({ limit: JSON_BODY_LIMIT_BYTES, verify: verifyUtf8, type: ['application/json', 'application/geo+json', 'application/merge-patch+json'] });
  app.use((req, res, next) => (req.path.startsWith('/import/') ? next() : json(req, res, next)));
  app.use((req, _res, next) => {
    assertWellFormed(req.body); // lone surrogates ("\ud800") are refused before any route sees them
    next();
  });
  // gzip/brotli by Accept-Encoding for JSON, GeoJSON, CSV, HTML (tiles and built assets carry their own).
  app.use(compressResponses());
  // From here on, statement timeouts, the embedded backend's deadline and cancellation follow
  // the request (server/http/request-scope.ts): from before the API key is looked up, so the
  // request's time counts from its arrival (its JSON body read) and its key lookup is bounded too.
  app.use(requestScope);
  app.use(authenticate(ctx.db, { trustProxy: ctx.config.TRUST_PROXY }));
  app.use(limitPerKey(ctx.config.RATE_LIMIT_KEY_PER_MIN));
  // … and so does what its reads must see of earlier writes (server/http/consistency-token.ts).
  app.use(consistencyToken(ctx.db));
  configureWorkerPool(workerPoolOptions(ctx.config));
  configureRasterGate({ concurrency: ctx.config.MAP_RASTER_CONCURRENCY, maxQueue: ctx.config.MAP_RASTER_QUEUE_MAX });

  // Committed changes arrive as database notifications and fan out to caches and live maps.
  const live = liveEvents(ctx.changes, { ...DEFAULT_LIVE_OPTIONS, heartbeatSeconds: ctx.config.LIVE_HEARTBEAT_S });
  const relay = relayChanges(ctx.db, ctx.changes, ctx.log, ctx.config.FAULT_NOTIFY_DELAY_MS, (up) => live.database(up));
  relay.catch((err) => ctx.log.error(`live updates are off: cannot LISTEN (${(err as Error).message})`));
  // The version the data is at once this process listens: no change is missed in between. The live
  // stream counts from it, and the write barrier starts at it (below).
  const listeningAt = relay.then(() => currentDataVersion(ctx.db));
  app.locals.ready = relay.then(() => listeningAt.then((v) => live.startFrom(Number(v)), () => undefined));
  app.locals.live = live;
  // Hazards or shelters written in plain SQL (an ETL job, psql), also while no process ran: shelters' hazard-zone flags follow.
  if (ctx.config.HAZARD_ZONES_FOLLOW_SQL) app.locals.hazardZones = keepHazardZones(ctx.db, ctx.changes, ctx.log, relay);
  app.use(live.router);
  // A write answers once every process of this server shows it (server/cluster/write-barrier.ts).
  const applied = new AppliedVersion();
  app.use(writeBarrier(applied, (v) => ctx.log.warn(`a write was answered before every server process applied data version ${v}`)));
  app.use(healthRoutes(ctx));
  app.use(layerRoutes(ctx));
  app.use(tileRoutes(ctx, { cacheBytes: ctx.config.TILE_CACHE_MB * 1024 * 1024, tokenCoverage: new TokenCoverage(ctx.db, applied) }));
  app.use(editRoutes(ctx));
  app.use(ogcRoutes(ctx));
  app.use(analysisRoutes(ctx));
  app.use(mapRoutes(ctx, { maxSize: ctx.config.MAP_MAX_SIZE }));
  app.use(shelterRoutes(ctx));
  app.use(importRoutes(ctx));
  app.use(riskRoutes(ctx));
  app.use(scenarioRoutes(ctx));

  app.use(clientRoutes(ctx));
  applied.follow(ctx.changes);
  joinClusterBarrier(applied);
  listeningAt.then((v) => applied.advance(v)).catch(() => applied.off());

  app.use(notFoundHandler);
  app.use(errorMiddleware(ctx.log));

  // Hooks in front of everything, the tile fast path included (server/http/edge.ts).
  const { config } = ctx;
  const metrics = new AppMetrics(
    {
      tileCache: () => app.locals.tiles?.cache.stats(),
      fastPathAnswered: () => app.locals.tileFastPath?.answered,
      dbPool: ctx.db.poolStats && (() => ctx.db.poolStats!()),
      replica: ctx.db.read && (() => ctx.db.read!.status()),
      liveClients: () => live.clientCount(),
      workerPool: () => workerPool().stats(),
      rasterGate: () => rasterGate().stats(),
      hazardZones: () => app.locals.hazardZones,
    },
    ctx.log,
  );
  app.locals.metrics = metrics;
  // Request id and metrics first, so every answer (refusals by later hooks too) has an id and is counted.
  const edge: EdgeHook[] = [requestIdHook, metrics.hook, securityHeaders({ crossOrigin: config.CORS_ORIGINS !== undefined, trustProxy: config.TRUST_PROXY })];
  if (config.CORS_ORIGINS) edge.push(corsHook(config.CORS_ORIGINS));
  const hosts = allowedHostsHook(config);
  if (hosts) edge.push(hosts);
  edge.push(metricsEndpoint(metrics, config.METRICS_TOKEN, config.TRUST_PROXY));
  const perAddress = addressRateLimit(config.RATE_LIMIT_PER_MIN, config.TRUST_PROXY);
  if (perAddress) edge.push(perAddress);
  edge.push(bodyLimitHook(config.IMPORT_MAX_MB), urlUnicodeHook);
  installEdge(app, edge);
  return app;
}
