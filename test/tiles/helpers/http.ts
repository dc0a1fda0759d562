import express from 'express';
import request from 'supertest';
import type { Db } from '../../../server/db/types.ts';
import { ChangeBus } from '../../../server/changes.ts';
import { loadConfig } from '../../../server/config.ts';
import { silentLogger } from '../../../server/log.ts';
import { errorMiddleware, notFoundHandler } from '../../../server/http/errors.ts';
import { tileRoutes } from '../../../server/routes/tiles.ts';
import { TileService, type TileServiceOptions } from '../../../tiles/service.ts';
import { appContext, type AppContext } from '../../../server/context.ts';

export interface TileResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  text: string;
}

/** GET (or HEAD) with the body as bytes, whatever the content type. */
export async function fetchTile(app: express.Express, url: string, headers: Record<string, string> = {}, method: 'get' | 'head' = 'get'): Promise<TileResponse> {
  let req = request(app)[method](url);
  for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
  const r = await req.buffer(true).parse((res, cb) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => cb(null, Buffer.concat(chunks)));
  });
  const body = Buffer.isBuffer(r.body) ? r.body : Buffer.alloc(0);
  return { status: r.status, headers: r.headers as Record<string, string>, body, text: body.toString('utf8') };
}

/** Only the tile routes, with a service the test holds (to look into its cache). */
export function tileApp(db: Db, options: TileServiceOptions = {}): { app: express.Express; service: TileService; changes: ChangeBus; ctx: AppContext } {
  const changes = new ChangeBus();
  // As buildApp does: the analyses and the computed layers on them.
  const ctx: AppContext = appContext({ db, config: loadConfig({}), log: silentLogger, changes });
  const service = new TileService(ctx, options);
  const app = express();
  app.use(tileRoutes(ctx, { service }));
  app.use(notFoundHandler);
  app.use(errorMiddleware(silentLogger));
  return { app, service, changes, ctx };
}
