import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureServerBuilt, SERVER_BUNDLE } from '../../server/build.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * V8 flags of the processes tests start (servers, command-line scripts, the seeding).
 * They live seconds to a minute. By default V8 recompiles the hot WebAssembly of the
 * embedded database (PGlite) with its optimising compiler on background threads: a
 * third of the CPU of an embedded server in a browser suite (5.9–6.0 s instead of
 * 8.5–9.4 s to start and serve two map loads), which the process ends before earning
 * back. The baseline compiler's code does the same, only slower to run. The apps the
 * test workers build in-process keep V8's default tiering.
 */
const SHORT_LIVED_NODE_FLAGS = ['--liftoff-only'];

/**
 * Node's arguments to run a TypeScript script with tsx's loader rather than the tsx command:
 * the command is a node process of its own that starts the script in a second one and relays
 * signals to it, about 0.15 s of CPU more per start (docs/testing.md). Signals reach the
 * script itself. For command-line scripts and the seeding of the test databases.
 */
export function tsxArgs(script: string, args: readonly string[]): string[] {
  return [...SHORT_LIVED_NODE_FLAGS, '--import', 'tsx', script, ...args];
}

function startTsx(script: string, args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, tsxArgs(script, args), spawnOptions(env));
}

const spawnOptions = (env: Record<string, string>) => ({
  cwd: ROOT,
  env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
  stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'],
  // Own process group: a SIGKILL must also reach what the script started (cluster workers).
  detached: true,
});

/**
 * The server runs as `npm start` runs it, with SHORT_LIVED_NODE_FLAGS: the bundle of
 * server/build.ts, built here first when it is missing or older than its sources (once
 * per test worker; concurrent builds are safe). A process loads it in about a third of
 * the CPU the TypeScript sources cost through tsx (docs/testing.md, Timings).
 */
let built: Promise<unknown> | undefined;
async function startServerProcess(env: Record<string, string>): Promise<ChildProcess> {
  await (built ??= ensureServerBuilt());
  return spawn(process.execPath, [...SHORT_LIVED_NODE_FLAGS, '--enable-source-maps', SERVER_BUNDLE], spawnOptions(env));
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    child.kill(signal);
  }
}

/** Runs the real start command until it exits (for start-up failures). */
export async function runServerToExit(env: Record<string, string>, timeoutMs = 60_000): Promise<{ code: number | null; stderr: string }> {
  const child = await startServerProcess(env);
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      killGroup(child, 'SIGKILL');
      reject(new Error(`server did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command-line script of the project (`server/auth/cli.ts`, …) to its exit.
 * Asynchronous on purpose: a blocking spawnSync would stop this worker's event loop,
 * and an embedded database or server living in the worker could not answer meanwhile.
 */
export function runCli(script: string, args: string[], env: Record<string, string>, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = startTsx(script, args, env);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      killGroup(child, 'SIGKILL');
      reject(new Error(`${script} ${args.join(' ')} did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface RunningServer {
  url: string;
  log: () => string;
  stop(): Promise<number | null>;
}

/** Starts the real server on a free port and resolves once it listens. */
export async function startServer(env: Record<string, string>, timeoutMs = 120_000): Promise<RunningServer> {
  // One process unless a test asks for more (WORKERS defaults to one per CPU on PostgreSQL),
  // its analysis workers started on the first analysis (most test servers never run one; two
  // workers loading their modules cost a process about 2 s of CPU). test/db/startup.test.ts and
  // the browser suites' servers (test/browser/harness.ts) start them as production does.
  const child = await startServerProcess({ PORT: '0', LOG_LEVEL: 'info', WORKERS: '1', WORKER_WARM_START: 'false', ...env });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      killGroup(child, 'SIGKILL');
      reject(new Error(`server did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      output += d;
      const m = output.match(/listening on (http:\/\/[\d.]+:\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1],
          log: () => output,
          stop: () =>
            new Promise((res) => {
              if (child.exitCode !== null) return res(child.exitCode);
              child.on('exit', (code) => res(code));
              // The server's own shutdown; its exit code 0 = clean.
              child.kill('SIGTERM');
            }),
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output}`));
    });
  });
}
