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

export type AppOptions = Omit<AppContext, 'changes'> & { changes?: ChangeBus };

/** Builds the Express app without listening, so tests drive it with supertest. */
export function buildApp(options: AppOptions): express.Express {
  const ctx: AppContext = { ...options, changes: options.changes ?? new ChangeBus() };
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', 'strong');
  app.set('query parser', 'simple');
  app.use(express.json({ limit: '5mb' }));

  app.use(healthRoutes(ctx));
  app.use(layerRoutes(ctx));
  app.use(tileRoutes(ctx));
  app.use(ogcRoutes(ctx));
  app.use(analysisRoutes(ctx));
  app.use(mapRoutes(ctx));

  app.use(notFoundHandler);
  app.use(errorMiddleware(ctx.log));
  return app;
}
