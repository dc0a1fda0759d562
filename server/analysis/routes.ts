import { Router } from 'express';
import type { AppContext } from '../context.ts';

/** Routes under /analysis (shelter coverage and capacity). */
export function analysisRoutes(_ctx: AppContext): Router {
  return Router();
}
