import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../context.ts';
import { parseInput } from '../http/validate.ts';
import { principalOf } from '../http/principal.ts';
import { requireRole } from '../auth/middleware.ts';
import { parseQuery } from '../analysis/params.ts';
import { readerOf } from '../db/types.ts';
import { requestDb } from '../db/scoped.ts';
import { scopeOf } from '../http/request-scope.ts';
import { geometryLimits } from '../geo/geometry-input.ts';
import { checkRiskOptions } from './grading.ts';
import { riskOptions, type RiskOptions } from './options.ts';
import { exposureQuery, noQuery, scenarioBody, scenarioRunParam } from './params.ts';
import { exposureReport } from './analyses.ts';
import { endScenario, runScenario, scenarioOptions, scenarioWrites } from './scenario-run.ts';

/** Runs a role check inside a handler (for requests that need it only sometimes). */
const checkRole = (role: 'editor', req: Request, res: Response) =>
  new Promise<void>((resolve, reject) => requireRole(role)(req, res, (err?: unknown) => (err ? reject(err) : resolve())));

/**
 * The exposure and scenario analyses (/analysis/exposure, /analysis/scenario),
 * which sit on top of the shelter coverage analysis and the risk layers.
 */
export function scenarioRoutes(ctx: AppContext, options: RiskOptions = riskOptions()): Router {
  checkRiskOptions(options);
  const { db } = ctx;
  const router = Router();
  const { analysis } = ctx;

  router.get('/analysis/exposure', async (req, res) => {
    const q = parseQuery(exposureQuery, req.query);
    // Read from the replica when there is one (server/db/replica.ts), in the request's scope.
    res.json(await exposureReport(readerOf(requestDb(db, req)), analysis, q.district, principalOf(req), options, scopeOf(req)));
  });

  router.get('/analysis/scenario/options', (req, res) => {
    parseQuery(noQuery, req.query);
    res.json(scenarioOptions(options));
  });

  router.post('/analysis/scenario', async (req, res) => {
    const body = parseInput(scenarioBody, req.body ?? {}, 'body');
    if (scenarioWrites(body)) await checkRole('editor', req, res);
    res.json(await runScenario(requestDb(db, req), analysis, body, principalOf(req), options, geometryLimits(ctx.config), scopeOf(req)));
  });

  router.delete('/analysis/scenario/:id', requireRole('editor'), async (req, res) => {
    const { id } = parseInput(scenarioRunParam, req.params, 'path');
    res.json(await endScenario(requestDb(db, req), id, principalOf(req)));
  });

  return router;
}
