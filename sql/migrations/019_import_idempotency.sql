-- Idempotency-Key on imports (server/http/idempotency-key.ts, server/imports/routes.ts). A client that lost the answer
-- to an import (a dropped link, a proxy's timeout) sends the same request again with the
-- same key and gets the first request's outcome, instead of importing the rows twice. The
-- key belongs to the API key that sent it (requested_by) and lives as long as the job's
-- report (seven days); fingerprint tells the same request from another one sent with the
-- same key.
ALTER TABLE import_jobs ADD COLUMN idempotency_key text;
ALTER TABLE import_jobs ADD COLUMN requested_by text;
ALTER TABLE import_jobs ADD COLUMN fingerprint text;
CREATE UNIQUE INDEX import_jobs_idempotency ON import_jobs (requested_by, idempotency_key) WHERE idempotency_key IS NOT NULL;
