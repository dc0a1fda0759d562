import express from 'express';
import type { AppContext } from './context.ts';
import { errorMiddleware, notFoundHandler } from './http/errors.ts';
import { healthRoutes } from './routes/health.ts';
import { layerRoutes } from './routes/layers.ts';

/** Builds the Express app without listening, so tests drive it with supertest. */
export function buildApp(ctx: AppContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', 'strong');
  app.set('query parser', 'simple');
  app.use(express.json({ limit: '5mb' }));

  app.use(healthRoutes(ctx));
  app.use(layerRoutes(ctx));

  app.use(notFoundHandler);
  app.use(errorMiddleware(ctx.log));
  return app;
}
