/**
 * Configuration every test app and test server starts with, before a test's own `env`.
 * An analysis is stopped after WORKER_TASK_BUDGET_MS (2 s by default); with several
 * test files, databases and browsers on two cores, the same analysis can take longer than
 * that, so tests allow 30 s unless they test the budget itself (test/api/pressure.test.ts).
 */
export const TEST_ENV: Readonly<Record<string, string>> = { WORKER_TASK_BUDGET_MS: '30000' };
