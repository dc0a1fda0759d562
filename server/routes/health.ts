import { Router } from 'express';
import type { AppContext } from '../context.ts';
import { migrationLevel } from '../db/migrate.ts';
import { LAYERS } from '../../tiles/layers.ts';

/** `/health`: liveness plus what an operator checks first — backend, PostGIS, schema level, counts. */
export function healthRoutes({ db }: AppContext): Router {
  const router = Router();
  const tables = [...new Set(LAYERS.map((l) => l.table).filter((t): t is string => t !== null))];
  // Table names come from the registry, never from the request.
  const countSql = `SELECT ${tables.map((t) => `(SELECT count(*)::int FROM ${t}) AS ${t}`).join(', ')}`;

  router.get('/health', async (_req, res) => {
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

  router.get('/ready', async (_req, res) => {
    await db.query('SELECT 1');
    res.json({ status: 'ready' });
  });
  return router;
}
