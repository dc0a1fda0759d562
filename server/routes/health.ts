import { Router } from 'express';
import type { AppContext } from '../context.ts';
import { migrationLevel } from '../db/migrate.ts';
import { LAYERS } from '../../tiles/layers.ts';
import { DB_RETRY_AFTER_S } from '../http/errors.ts';

/** `/health`: liveness plus what an operator checks first — backend, PostGIS, schema level, counts. */
export function healthRoutes({ db }: AppContext): Router {
  const router = Router();
  const tables = [...new Set(LAYERS.map((l) => l.table).filter((t): t is string => t !== null))];
  // Table names come from the registry, never from the request.
  const countSql = `SELECT ${tables.map((t) => `(SELECT count(*)::int FROM ${t}) AS ${t}`).join(', ')}`;

  router.get('/health', async (_req, res) => {
    // Liveness: the process answers even while the database is away (readiness is /ready).
    const dbDown = await db.query('SELECT 1').then(
      () => null,
      (err: Error) => err,
    );
    if (dbDown) {
      res.json({ status: 'ok', backend: db.backend, database: 'unavailable' });
      return;
    }
    const [postgis, level, counts, version] = await Promise.all([
      db.query<{ v: string }>('SELECT postgis_lib_version() AS v'),
      migrationLevel(db),
      db.query<Record<string, number>>(countSql),
      db.query<{ version: number }>('SELECT version FROM data_version'),
    ]);
    res.json({
      status: 'ok',
      backend: db.backend,
      postgis: postgis.rows[0].v,
      migrationLevel: level,
      dataVersion: version.rows[0]?.version ?? null,
      counts: counts.rows[0],
    });
  });

  // Readiness for a load balancer: 503 JSON naming why while the database cannot be used.
  router.get('/ready', async (_req, res) => {
    try {
      await db.query('SELECT 1');
    } catch (err) {
      res.status(503).set('Retry-After', String(DB_RETRY_AFTER_S)).json({ status: 'not ready', reason: `database unavailable: ${(err as Error).message}` });
      return;
    }
    res.json({ status: 'ready' });
  });
  return router;
}
