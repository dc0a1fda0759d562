// Entry of every worker thread. The server is TypeScript run through tsx, and
// a worker does not inherit the main thread's loader (nor, under vitest, have
// one at all), so register tsx here, then load the TypeScript worker module.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
