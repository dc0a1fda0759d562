/**
 * Configuration every test app and test server starts with, before a test's own `env`.
 * With several test files, databases and browsers on two cores, work takes longer than
 * on a served machine, so tests allow 30 s where production allows less, unless they test
 * the limit itself:
 * - an analysis is stopped after WORKER_TASK_BUDGET_MS (2 s by default; test/api/pressure.test.ts);
 * - a request's statements are bound by STATEMENT_TIMEOUT_*_MS (5–15 s by default), which on the
 *   embedded backend count the time spent waiting for its one connection
 *   (test/db/timeouts.test.ts, test/db/deadline.test.ts).
 * Tests load their fixtures in plain SQL after building their app, so the hazard-zone
 * recomputation that follows such writes would run in the background against the test's own
 * writes: it is off unless a test turns it on (test/api/hazard-zones-follow-sql.test.ts).
 */
export const TEST_ENV: Readonly<Record<string, string>> = {
  WORKER_TASK_BUDGET_MS: '30000',
  STATEMENT_TIMEOUT_TILES_MS: '30000',
  STATEMENT_TIMEOUT_ITEMS_MS: '30000',
  STATEMENT_TIMEOUT_ANALYSES_MS: '30000',
  HAZARD_ZONES_FOLLOW_SQL: 'false',
};
