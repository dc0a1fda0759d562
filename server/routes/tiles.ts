import { Router } from 'express';
import type { AppContext } from '../context.ts';

/** Routes under /tiles (vector tiles and TileJSON). */
export function tileRoutes(_ctx: AppContext): Router {
  return Router();
}
