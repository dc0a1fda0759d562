import { parentPort } from 'node:worker_threads';
import { HttpProblem } from '../http/problem.ts';
import { TASKS, type TaskName } from './tasks.ts';
import { currentThreadId } from './thread-cpu.ts';

/** One worker thread of the pool: runs one task at a time and answers with its value or its error. */
const port = parentPort!;
port.on('message', async (m: { task: TaskName; input: unknown }) => {
  try {
    const value = await (TASKS[m.task] as (input: unknown) => unknown)(m.input);
    port.postMessage({ ok: true, value });
  } catch (err) {
    const e = err as Error;
    const status = err instanceof HttpProblem && err.status < 500 ? err.status : undefined;
    port.postMessage({ ok: false, error: { message: e?.message ?? String(err), status, param: err instanceof HttpProblem ? err.param : undefined } });
  }
});
// Ready, with the kernel's id of this thread: the pool reads its CPU time to apply the budget.
port.postMessage({ ready: true, tid: currentThreadId() });
