import fs from 'node:fs';

/**
 * CPU time of one thread of this process, from Linux's /proc (user + system, in
 * clock ticks of 10 ms). The worker pool's budget is CPU time, not time on the
 * clock: a worker thread shares the cores with the thread serving HTTP, PostgreSQL
 * and other work (and may run at a lower priority, WORKER_NICE), so on busy
 * cores a computation takes longer without costing more, and must not be stopped
 * as "too costly" for waiting its turn. Elsewhere than Linux there is no thread
 * id to read: `undefined`, and the pool falls back to the clock.
 */
const TICK_MS = 10; // USER_HZ is 100 on Linux

/** This thread's id (the kernel's, not Node's threadId); undefined where /proc is missing. */
export function currentThreadId(): number | undefined {
  try {
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    return tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

/** CPU milliseconds the thread `tid` of this process has used; undefined once it has gone. */
export function threadCpuMs(tid: number): number | undefined {
  return readProcStat(`/proc/self/task/${tid}/stat`)?.cpuMs;
}

/**
 * A process's or a thread's /proc stat file (`/proc/<pid>/stat`, `/proc/self/task/<tid>/stat`):
 * its parent process and the CPU time it has used (user + system, ms); undefined once it has gone.
 * The benches read their servers' CPU time with it too.
 */
export function readProcStat(path: string): { ppid: number; cpuMs: number } | undefined {
  try {
    const stat = fs.readFileSync(path, 'utf8');
    // fields after the command name, which may hold spaces: ppid is the 2nd, utime and stime the 12th and 13th
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), cpuMs: (Number(fields[11]) + Number(fields[12])) * TICK_MS };
  } catch {
    return undefined;
  }
}
