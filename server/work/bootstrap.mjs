// Entry of every worker thread. `npm start` runs the bundle (server/build.ts), whose
// worker module is plain JavaScript. Run from the TypeScript sources (tests that build
// an app in-process, `tsx server/main.ts`), the worker module is TypeScript, and a worker
// does not inherit the main thread's loader (nor, under vitest, have one at all), so
// register tsx here first, then load it.
import fs from 'node:fs';
import os from 'node:os';
import { workerData } from 'node:worker_threads';

// Lower this thread's CPU priority first, so that loading the modules already
// yields to the thread serving HTTP. On Linux the nice value belongs to a thread
// (setpriority with a thread id); /proc/thread-self names this thread's id.
// Raising one's own nice value needs no privilege. Elsewhere the thread keeps
// the process's priority.
if (workerData.nice > 0 && process.platform === 'linux') {
  try {
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    if (tid > 0) os.setPriority(tid, workerData.nice);
  } catch {
    // no /proc or not permitted: run at the usual priority
  }
}

if (workerData.entry.endsWith('.ts')) (await import('tsx/esm/api')).register();
await import(workerData.entry);
