-- Import jobs' reports (server/imports/job-store.ts), so that GET /import/jobs/{id} is
-- answered by every server process (WORKERS>1, several hosts behind a balancer), not only
-- by the one running the job. Kept seven days.
CREATE TABLE import_jobs (
  id text PRIMARY KEY,
  report jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX import_jobs_updated_at ON import_jobs (updated_at);
