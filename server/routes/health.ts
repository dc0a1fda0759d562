import { Router } from 'express';
import type { AppContext } from '../context.ts';
import { TileArchiveFallback } from './tile-fallback.ts';
import { migrationLevel } from '../db/migrate.ts';
import { LAYERS } from '../../catalog/layers.ts';
import { canSeeLayer } from '../../catalog/access.ts';
import { DB_RETRY_AFTER_S } from '../http/errors.ts';
import { isStatementTimeout } from '../db/errors.ts';
import { principalOf } from '../http/principal.ts';
import { requestDb } from '../db/scoped.ts';

/** `/health`: liveness plus what an operator checks first — backend, PostGIS, schema level; `/health/counts`; `/ready`. */
export function healthRoutes({ db, tileArchive }: AppContext): Router {
  const archive = tileArchive ? new TileArchiveFallback(tileArchive) : null;
  const router = Router();
  const tables = [...new Set(LAYERS.map((l) => l.table).filter((t): t is string => t !== null))];
  // Table names come from the registry, never from the request.
  const countSql = `SELECT ${tables.map((t) => `(SELECT count(*)::int FROM ${t}) AS ${t}`).join(', ')}`;

  /**
   * Liveness: the process answers even while the database is away (readiness is /ready).
   * A probe asks this every few seconds, so it reads no feature table: counting them all
   * took ~115 ms and grows with the data. The counts are at /health/counts.
   */
  router.get('/health', async (req, res) => {
    // With the request's time limit: a database too busy to answer in time is reported, not waited for.
    const q = requestDb(db, req);
    const dbDown = await q.query('SELECT 1').then(
      () => null,
      (err: Error) => err,
    );
    if (dbDown) {
      // A statement refused at the request's time limit means the database is there but busy
      // (on the embedded backend: its one connection was taken for longer than the limit).
      res.json({ status: 'ok', backend: db.backend, database: isStatementTimeout(dbDown) ? 'busy' : 'unavailable' });
      return;
    }
    const [postgis, level, version] = await Promise.all([
      q.query<{ v: string }>('SELECT postgis_lib_version() AS v'),
      migrationLevel(q),
      q.query<{ version: number }>('SELECT version FROM data_version'),
    ]);
    res.json({
      status: 'ok',
      backend: db.backend,
      postgis: postgis.rows[0].v,
      migrationLevel: level,
      dataVersion: version.rows[0]?.version ?? null,
    });
  });

  // Row counts for an operator; a database error goes to the error middleware (503 while it is away).
  router.get('/health/counts', async (req, res) => {
    const counts = await requestDb(db, req).query<Record<string, number>>(countSql);
    res.json(visibleCounts(counts.rows[0], principalOf(req)));
  });

  /**
   * Counts of the tables a caller may see; a table behind a restricted layer is listed in
   * `restricted` instead (its count alone would say when and where enterprises are added).
   */
  function visibleCounts(all: Record<string, number>, who: ReturnType<typeof principalOf>) {
    const hidden = new Set(LAYERS.filter((l) => l.table !== null && !canSeeLayer(l, who)).map((l) => l.table!));
    // a table also behind a public layer stays countable
    for (const l of LAYERS) if (l.table !== null && canSeeLayer(l, who)) hidden.delete(l.table);
    const counts = Object.fromEntries(Object.entries(all).filter(([t]) => !hidden.has(t)));
    return { counts, restricted: [...hidden].sort() };
  }

  // A replica that is down does not make the server unready: its reads go to the primary.
  const replica = () => (db.read ? { replica: db.read.status().up ? 'up' : 'down' } : {});

  // Readiness for a load balancer: 503 JSON naming why while the database cannot be used.
  router.get('/ready', async (req, res) => {
    try {
      await requestDb(db, req).query('SELECT 1');
    } catch (err) {
      res
        .status(503)
        .set('Retry-After', String(DB_RETRY_AFTER_S))
        .json({ status: 'not ready', reason: `database ${isStatementTimeout(err) ? 'busy' : 'unavailable'}: ${(err as Error).message}`, ...replica(), ...(archive ? { tiles_from_archive: archive.describe() } : {}) });
      return;
    }
    res.json({ status: 'ready', ...replica() });
  });
  return router;
}
