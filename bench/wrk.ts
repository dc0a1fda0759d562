/**
 * wrk (C, Debian package `wrk`) as a load generator for the benches: it takes
 * far less CPU per request than autocannon, which runs in Node on the same two
 * cores as the servers, so it is the stricter measure of a fast server.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A wrk Lua script cycling through `paths`. The requests are formatted once, not
 * once per request: wrk shares the cores with the servers, and formatting each
 * request in Lua cost it ~30 instead of ~24 µs of CPU per request.
 */
export function wrkScript(paths: readonly string[]): string {
  return `local paths = { ${paths.map((p) => `"${p}"`).join(', ')} }\nlocal reqs = {}\ninit = function()\n  for k, p in ipairs(paths) do reqs[k] = wrk.format("GET", p) end\nend\nlocal i = 0\nrequest = function()\n  i = (i % #reqs) + 1\n  return reqs[i]\nend\n`;
}

/** Whether wrk is installed (`wrk --version` exits 1 after printing its version). */
export async function hasWrk(): Promise<boolean> {
  return run('wrk', ['--version']).then(
    () => true,
    (err: NodeJS.ErrnoException) => err.code !== 'ENOENT',
  );
}

/**
 * Requests/s of wrk, one thread, `connections` connections cycling over `paths` for `seconds`.
 * `cpu`: wrk runs on that CPU only (taskset). Throws on non-2xx answers.
 */
export async function wrkRate(port: number, paths: readonly string[], connections: number, seconds: number, cpu?: number): Promise<number> {
  const script = path.join(os.tmpdir(), `onemap-bench-wrk-${process.pid}-${port}.lua`);
  fs.writeFileSync(script, wrkScript(paths));
  try {
    const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '30s', '-s', script, `http://127.0.0.1:${port}`];
    const { stdout } = await (cpu === undefined ? run('wrk', args, { maxBuffer: 1 << 20 }) : run('taskset', ['-c', String(cpu), 'wrk', ...args], { maxBuffer: 1 << 20 }));
    const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
    const bad = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
    if (!rps) throw new Error(`wrk printed no rate:\n${stdout}`);
    if (bad) throw new Error(`wrk: ${bad[1]} non-2xx answers on port ${port}`);
    return Number(rps[1]);
  } finally {
    fs.rmSync(script, { force: true });
  }
}

/**
 * Whether processes can be pinned to CPUs here: `taskset` (util-linux) is installed and the
 * machine has at least two CPUs, one for the server and one for the load generator.
 */
export async function canPin(): Promise<boolean> {
  if (os.availableParallelism() < 2) return false;
  return run('taskset', ['-p', String(process.pid)]).then(
    () => true,
    () => false,
  );
}

/** Pins every thread of process `pid` to `cpus` (a taskset list, e.g. "0" or "0-1"). */
export async function pinProcess(pid: number, cpus: string): Promise<void> {
  await run('taskset', ['-a', '-p', '-c', cpus, String(pid)]);
}
