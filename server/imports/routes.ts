import express, { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { requireRole } from '../auth/middleware.ts';
import { parseInput } from '../http/validate.ts';
import { principalOf } from '../http/principal.ts';
import { baseUrl } from '../http/base-url.ts';
import { HttpProblem, badRequest, notFound } from '../http/problem.ts';
import { sendProblem } from '../http/errors.ts';
import { getLayer } from '../../catalog/layers.ts';
import { canSeeLayer } from '../../catalog/access.ts';
import { IMPORT_CRS } from './crs.ts';
import { formatOf, type RawRow } from './parse.ts';
import { workerPool } from '../work/shared.ts';
import { outlivingScope, restartedScope, scopeOf } from '../http/request-scope.ts';
import { ClientGoneError } from '../../catalog/shared-work.ts';
import { requestDb, scopedDb } from '../db/scoped.ts';
import type { StatementScope } from '../db/types.ts';
import { tokenNow } from '../http/consistency-token.ts';

/** Longest parsing of one import file may take on a worker (the file size is bounded by IMPORT_MAX_MB). */
const IMPORT_PARSE_BUDGET_MS = 60_000;
import { newJob, runImport, type ImportReport } from './import-job.ts';
import { ImportJobs } from './job-store.ts';
import { keyInFlight, keyReused, requestKeyOf, type RequestKey } from '../http/idempotency-key.ts';
import { geometryLimits } from '../geo/geometry-input.ts';
import { illFormedAt, WELL_FORMED } from '../http/unicode.ts';
import { isUtf8 } from 'node:buffer';

const query = z
  .object({
    crs: z.enum(IMPORT_CRS, { message: `one of ${IMPORT_CRS.join(', ')}` }).default('wgs84'),
    dryRun: z.enum(['true', 'false'], { message: 'true or false' }).default('false').transform((v) => v === 'true'),
    async: z.enum(['true', 'false'], { message: 'true or false' }).default('false').transform((v) => v === 'true'),
  })
  .strict();

function sendReport(res: express.Response, report: ImportReport): void {
  if (report.status === 'rejected' || report.status === 'failed') {
    const n = new Set(report.errors.map((e) => e.row)).size;
    const problem = new HttpProblem(
      422,
      'Import rejected',
      report.status === 'failed' ? `the import failed; nothing was written` : `${n} of ${report.rows} ${report.rows === 1 ? 'row' : 'rows'} ${n === 1 ? 'is' : 'are'} invalid; nothing was imported`,
      [],
      { report },
    );
    sendProblem(res, problem);
    return;
  }
  res.status(report.dryRun ? 200 : 201).json(report);
}

/**
 * `POST /import/{layer}` (GeoJSON, CSV or XLSX; `crs=wgs84|cgcs2000|gcj02|bd09`;
 * `dryRun=true`; `async=true` → 202 and a job to poll; `Idempotency-Key` to send it again safely,
 * server/http/idempotency-key.ts) and `GET /import/jobs/{id}`.
 */
export function importRoutes({ db, config, log }: AppContext): Router {
  const router = Router();
  const jobs = new ImportJobs(db, (m) => log.warn(m));
  const body = express.raw({ type: () => true, limit: config.IMPORT_MAX_MB * 1024 * 1024 });

  router.post('/import/:layer', requireRole('editor'), body, async (req, res) => {
    const layer = getLayer(req.params.layer as string);
    if (!layer || !canSeeLayer(layer, principalOf(req))) throw notFound(`no layer ${req.params.layer}`);
    const q = parseInput(query, req.query, 'query');
    const format = formatOf(req.get('content-type'));
    if (!format) throw badRequest('Content-Type', 'application/geo+json, text/csv or application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const data = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (format !== 'xlsx' && !isUtf8(data)) throw badRequest('body', WELL_FORMED);
    const who = principalOf(req);
    const key = await requestKeyOf(req, who, ['import', layer.id, format, q.crs, q.dryRun, q.async], data, 'another import (another file, layer or options)');
    const report = newJob(layer, format, q.crs, q.dryRun);
    const requestScope = scopeOf(req);
    if (key) {
      // The same request sent again (its answer was lost): the first one's outcome, not a second import.
      const earlier = await earlierImport(jobs, report, key, requestScope);
      if (earlier) {
        res.set('Idempotent-Replayed', 'true');
        if (q.async) {
          res.status(202).location(`${baseUrl(req, config.PUBLIC_URL)}/import/jobs/${earlier.job}`).json(earlier);
          return;
        }
        if (earlier.status === 'running') throw keyInFlight();
        if (earlier.status === 'imported') await tokenNow(requestDb(db, req), res);
        sendReport(res, earlier);
        return;
      }
    }

    const job = async (scope: StatementScope | undefined) => {
      let rows: RawRow[];
      try {
        // Parsed on a worker thread (a big file takes seconds); a synchronous import is
        // dropped when its client disconnects, an asynchronous job runs on (its scope's
        // signal never fires).
        const parsed = await workerPool().run('parseImport', { layerId: layer.id, format, data }, scope?.signal, IMPORT_PARSE_BUDGET_MS);
        if ('error' in parsed) {
          report.errors.push(parsed.error);
          report.status = 'rejected';
          report.phase = 'done';
          report.finishedAt = new Date().toISOString();
          return report;
        }
        rows = parsed.rows;
      } catch (err) {
        if (err instanceof HttpProblem || err instanceof ClientGoneError) {
          report.status = 'failed';
          report.phase = 'done';
          report.finishedAt = new Date().toISOString();
          throw err;
        }
        report.errors.push({ row: 0, field: 'body', reason: `a readable ${format} file (${(err as Error).message})` });
        report.status = 'rejected';
        report.phase = 'done';
        report.finishedAt = new Date().toISOString();
        return report;
      }
      // Lone surrogates (JSON escapes, spreadsheet cells): the same 400 as every other input.
      const bad = rows.map((r) => ({ row: r.row, at: illFormedAt(r.properties) ?? illFormedAt(r.geometry, ['geometry']) })).find((r) => r.at);
      if (bad) {
        const field = bad.at!.join('.') || 'properties';
        if (!q.async) throw badRequest(`row ${bad.row}: ${field}`, WELL_FORMED);
        report.errors.push({ row: bad.row, field, reason: WELL_FORMED });
        report.status = 'rejected';
        report.phase = 'done';
        report.finishedAt = new Date().toISOString();
        return report;
      }
      // The deadline (embedded backend) counts from here: the upload and the parsing are bounded on their own.
      return runImport(scopedDb(db, restartedScope(scope)), layer, rows, who, report, geometryLimits(config), (q, finished) => jobs.finishIn(q, finished));
    };
    // An asynchronous job runs on after its 202: neither its client leaving nor the request's
    // deadline (embedded backend) cuts it off.
    const work = job(q.async ? outlivingScope(requestScope) : requestScope);
    // Saved for every process to answer polls: the job before its 202, a synchronous import's outcome before its answer.
    const saving = jobs.track(report, work, requestScope);

    if (q.async) {
      work.catch(() => {});
      await saving.saved;
      res.status(202).location(`${baseUrl(req, config.PUBLIC_URL)}/import/jobs/${report.job}`).json(report);
      return;
    }
    const done = await work.finally(() => saving.finished);
    sendReport(res, done);
  });

  router.get('/import/jobs/:id', requireRole('editor'), async (req, res) => {
    // Answered by any process: the one running the job, or from the report it saved.
    const job = await jobs.get(req.params.id as string, scopeOf(req));
    if (!job) throw notFound(`no import job ${req.params.id}`);
    // The job's rows were committed after its POST was answered: a finished job hands out the token its reader needs.
    if (job.status === 'imported') await tokenNow(requestDb(db, req), res);
    res.json(job);
  });
  return router;
}

/**
 * Takes the Idempotency-Key for the job of `report` and returns undefined, or returns the
 * report of the earlier import that holds it. A key sent with another request is a 422; a
 * key whose import failed with nothing written (its client left, the database was away, its
 * process stopped) is let go, so the request runs again.
 */
async function earlierImport(jobs: ImportJobs, report: ImportReport, key: RequestKey, scope: StatementScope | undefined): Promise<ImportReport | undefined> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const held = await jobs.claim(report, key, scope);
    if (!held) return undefined;
    if (held.fingerprint !== key.fingerprint) throw keyReused(key.what);
    const earlier = await jobs.get(held.id, scope);
    if (earlier && earlier.status !== 'failed') return earlier;
    await jobs.freeKey(held.id, scope);
  }
  throw keyInFlight();
}
