/**
 * Setup file of the postgres project (vitest.config.ts): after each test file, once its own
 * afterAll hooks have closed its databases, drops the copies it made (test/setup/db.ts).
 * Not awaited: the drops run while the worker starts the next file.
 */
import { afterAll } from 'vitest';
import { dropCopiesOfThisFile } from './db.ts';

afterAll(() => {
  void dropCopiesOfThisFile();
});
