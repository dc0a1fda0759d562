import type { Db, Queryable, StatementScope } from '../db/types.ts';
import type { ImportReport } from './import-job.ts';
import type { RequestKey } from '../http/idempotency-key.ts';
import { outlivingScope } from '../http/request-scope.ts';
import { scopedDb } from '../db/scoped.ts';

/**
 * Import jobs' reports in the database (table import_jobs), so that any server
 * process answers `GET /import/jobs/{id}`: with WORKERS>1, or several hosts
 * behind a balancer, a client's poll seldom reaches the process running its job.
 *
 * The process running a job keeps the live report in memory and answers from
 * it; it writes the report when the job starts, every second while it runs
 * (progress, and the sign that it still runs) and when it ends. An import's
 * final report is written in the import's own transaction, so the table says
 * "imported" exactly when the rows are there. A job whose report has not been
 * written for STALE_AFTER_MS ran in a process that stopped (crashed, killed):
 * it is answered as failed, and nothing of it was written, since its
 * transaction never committed.
 */
export const SAVE_EVERY_MS = 1000;
export const STALE_AFTER_MS = 30_000;
const KEEP_DAYS = 7;
// Reports are nobody's request: a client leaving must not cancel their writes.
const NEVER = new AbortController().signal;

const UPSERT = `INSERT INTO import_jobs (id, report, updated_at) VALUES ($1, $2::jsonb, now())
  ON CONFLICT (id) DO UPDATE SET report = EXCLUDED.report, updated_at = now()`;
// Progress never overwrites a finished report (the import's transaction may have written it meanwhile).
const PROGRESS = `UPDATE import_jobs SET report = $2::jsonb, updated_at = now() WHERE id = $1 AND report->>'status' = 'running'`;

const CLAIM = `INSERT INTO import_jobs (id, report, updated_at, idempotency_key, requested_by, fingerprint) VALUES ($1, $2::jsonb, now(), $3, $4, $5)
  ON CONFLICT (requested_by, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING id`;

export class ImportJobs {
  /** Jobs this process runs, until their final report is written. */
  private readonly running = new Map<string, ImportReport>();

  constructor(
    private readonly db: Db,
    private readonly onError: (message: string) => void,
    private readonly saveEveryMs = SAVE_EVERY_MS,
  ) {}

  /**
   * Follows a job this process runs until `work` settles. `saved` resolves once
   * the job's first report is written (answer its 202 after it, so a poll on any
   * process finds the job), `finished` once its final report is. `scope`: that of the
   * request that started the job.
   */
  track(report: ImportReport, work: Promise<unknown>, scope: StatementScope | undefined): { saved: Promise<void>; finished: Promise<void> } {
    // The progress and final writes come after the request's time is up, for a long job.
    const db = scopedDb(this.db, outlivingScope(scope));
    this.running.set(report.job, report);
    const saved = this.write(db, UPSERT, report);
    // One write at a time per job, in order.
    let chain: Promise<void> = saved.then(() =>
      db.query(`DELETE FROM import_jobs WHERE updated_at < now() - interval '${KEEP_DAYS} days'`, [], { signal: NEVER }).then(
        () => undefined,
        () => undefined,
      ),
    );
    const timer = setInterval(() => {
      chain = chain.then(() => this.write(db, PROGRESS, report));
    }, this.saveEveryMs);
    timer.unref();
    const finished = new Promise<void>((resolve) => {
      const done = () => {
        clearInterval(timer);
        chain = chain.then(() => this.write(db, UPSERT, report)).finally(() => {
          this.running.delete(report.job);
          resolve();
        });
      };
      work.then(done, done);
    });
    return { saved, finished };
  }

  /**
   * Takes `key` for the job of `report` (written as its first report) and returns
   * undefined; or, when an earlier job holds the key, returns that job's id and
   * what its request was.
   */
  async claim(report: ImportReport, key: RequestKey, scope: StatementScope | undefined): Promise<{ id: string; fingerprint: string } | undefined> {
    const db = scopedDb(this.db, scope);
    // Twice at most: the holder may be deleted (expired) between the two statements.
    for (let attempt = 0; attempt < 2; attempt++) {
      const claimed = await db.query(CLAIM, [report.job, JSON.stringify(report), key.key, key.by, key.fingerprint]);
      if (claimed.rows.length) return undefined;
      const held = await db.query<{ id: string; fingerprint: string }>('SELECT id, fingerprint FROM import_jobs WHERE requested_by = $1 AND idempotency_key = $2', [key.by, key.key]);
      if (held.rows[0]) return held.rows[0];
    }
    throw new Error('the Idempotency-Key could be neither taken nor read');
  }

  /** Lets the key of job `id` go (it failed with nothing written: the same request may run again); its report stays. */
  async freeKey(id: string, scope: StatementScope | undefined): Promise<void> {
    await scopedDb(this.db, scope).query('UPDATE import_jobs SET idempotency_key = NULL WHERE id = $1', [id]);
  }

  /** The final report, written by the transaction that imports the rows. */
  async finishIn(q: Queryable, report: ImportReport): Promise<void> {
    await q.query(UPSERT, [report.job, JSON.stringify(report)]);
  }

  /** The job's report: live when this process runs it, else as last written (read in `scope`, the poll's). */
  async get(id: string, scope: StatementScope | undefined): Promise<ImportReport | undefined> {
    const live = this.running.get(id);
    if (live) return live;
    const r = await scopedDb(this.db, scope).query<{ report: ImportReport | string; age_ms: number }>(
      'SELECT report, (extract(epoch FROM now() - updated_at) * 1000)::float8 AS age_ms FROM import_jobs WHERE id = $1',
      [id],
    );
    const row = r.rows[0];
    if (!row) return undefined;
    const report = typeof row.report === 'string' ? (JSON.parse(row.report) as ImportReport) : row.report;
    if (report.status !== 'running' || row.age_ms <= STALE_AFTER_MS) return report;
    return {
      ...report,
      status: 'failed',
      phase: 'done',
      imported: 0,
      ids: [],
      sheltersFlagged: [],
      errors: [...report.errors, { row: 0, field: 'body', reason: 'the server process running the import stopped before it finished; nothing was written' }],
    };
  }

  private write(db: Db, sql: string, report: ImportReport): Promise<void> {
    return db.query(sql, [report.job, JSON.stringify(report)], { signal: NEVER }).then(
      () => undefined,
      (err: Error) => this.onError(`import job ${report.job}: its report was not saved (${err.message})`),
    );
  }
}
