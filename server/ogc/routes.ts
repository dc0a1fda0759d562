import { Router } from 'express';
import type { AppContext } from '../context.ts';

/** Routes under /ogc (OGC API - Features). */
export function ogcRoutes(_ctx: AppContext): Router {
  return Router();
}
