import express from 'express';
import type { AppContext } from './context.ts';
import { ChangeBus } from './changes.ts';
import { errorMiddleware, notFoundHandler } from './http/errors.ts';
import { healthRoutes } from './routes/health.ts';
import { layerRoutes } from './routes/layers.ts';
import { tileRoutes } from './routes/tiles.ts';
import { ogcRoutes } from './ogc/routes.ts';
import { analysisRoutes } from './analysis/routes.ts';
import { mapRoutes } from './maps/routes.ts';
import { authenticate } from './auth/middleware.ts';
import { liveEvents } from './live/events.ts';
import { relayChanges } from './live/notify.ts';
import { clientRoutes } from './routes/client.ts';

export type AppOptions = Omit<AppContext, 'changes'> & { changes?: ChangeBus };

/** Builds the Express app without listening, so tests drive it with supertest. */
export function buildApp(options: AppOptions): express.Express {
  const ctx: AppContext = { ...options, changes: options.changes ?? new ChangeBus() };
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', 'strong');
  app.set('query parser', 'simple');
  app.use(express.json({ limit: '5mb' }));
  app.use(authenticate(ctx.db));

  // Committed changes arrive as database notifications and fan out to caches and live maps.
  const live = liveEvents(ctx.changes);
  const relay = relayChanges(ctx.db, ctx.changes, ctx.log);
  relay.catch((err) => ctx.log.error(`live updates are off: cannot LISTEN (${(err as Error).message})`));
  app.locals.ready = relay.then(() => undefined);
  app.locals.live = live;
  app.use(live.router);
  app.use(healthRoutes(ctx));
  app.use(layerRoutes(ctx));
  app.use(tileRoutes(ctx));
  app.use(ogcRoutes(ctx));
  app.use(analysisRoutes(ctx));
  app.use(mapRoutes(ctx));

  app.use(clientRoutes(ctx));
  app.use(notFoundHandler);
  app.use(errorMiddleware(ctx.log));
  return app;
}
