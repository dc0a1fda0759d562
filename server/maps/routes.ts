import { Router } from 'express';
import type { AppContext } from '../context.ts';

/** Routes under /maps (static map images and legends). */
export function mapRoutes(_ctx: AppContext): Router {
  return Router();
}
