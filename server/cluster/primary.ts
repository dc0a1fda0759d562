import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../log.ts';
import type { BarrierMessage } from './write-barrier.ts';

/**
 * The primary of `WORKERS=N`: forks N server processes that share the listening
 * port (node:cluster hands connections out in turn), replaces a worker that
 * dies, relays write barriers (cluster/write-barrier.ts) and on SIGTERM/SIGINT
 * asks every worker to shut down gracefully. It opens no database and serves
 * nothing itself; caches stay coherent because every worker LISTENs for the
 * database's change notifications.
 */
export interface PrimaryOptions {
  workers: number;
  log: Logger;
  /** How long workers get to finish in-flight requests on shutdown. */
  shutdownMs?: number;
}

interface Barrier {
  from: Worker;
  id: number;
  waiting: Set<number>;
  ok: boolean;
}

export function runPrimary({ workers, log, shutdownMs = 15_000 }: PrimaryOptions): void {
  let stopping = false;
  const recentCrashes: number[] = [];
  const barriers = new Map<string, Barrier>();
  let nextCheck = 1;

  const fork = () => {
    const w = cluster.fork();
    w.on('message', (m: BarrierMessage) => onMessage(w, m));
    w.on('error', (err) => log.warn(`server process ${w.process.pid}: ${err.message}`));
    return w;
  };

  // A worker killed a moment ago can still count as connected: the message then fails
  // with EPIPE. Without a callback that failure is an 'error' event, which would end
  // the primary and every worker with it. The worker's 'exit' releases what it held up.
  const send = (w: Worker, m: BarrierMessage) => {
    w.send(m, (err: Error | null) => {
      if (err) log.debug(`barrier message to server process ${w.process.pid} not sent: ${err.message}`);
    });
  };

  // A write in one worker waits until every worker has applied its data version.
  const onMessage = (from: Worker, m: BarrierMessage) => {
    if (m?.type === 'onemap:barrier') {
      const live = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && w.isConnected());
      const check = nextCheck++;
      const b: Barrier = { from, id: m.id, waiting: new Set(live.map((w) => w.id)), ok: true };
      barriers.set(String(check), b);
      for (const w of live) send(w, { type: 'onemap:barrier-check', id: check, version: m.version });
      if (b.waiting.size === 0) finish(String(check));
    } else if (m?.type === 'onemap:barrier-ack') {
      const b = barriers.get(String(m.id));
      if (!b) return;
      b.ok &&= m.ok;
      b.waiting.delete(from.id);
      if (b.waiting.size === 0) finish(String(m.id));
    }
  };

  const finish = (key: string) => {
    const b = barriers.get(key)!;
    barriers.delete(key);
    if (b.from.isConnected()) send(b.from, { type: 'onemap:barrier-done', id: b.id, ok: b.ok });
  };

  cluster.on('exit', (worker, code, signal) => {
    // A worker that died can no longer hold up a barrier.
    for (const [key, b] of barriers) {
      if (b.waiting.delete(worker.id) && b.waiting.size === 0) finish(key);
    }
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        log.info('all server processes stopped');
        process.exit(0);
      }
      return;
    }
    const now = Date.now();
    recentCrashes.push(now);
    while (recentCrashes.length && recentCrashes[0] < now - 60_000) recentCrashes.shift();
    log.error(`server process ${worker.process.pid} exited (${signal ?? `code ${code}`}); starting a replacement`);
    // Back off when processes keep dying (a bad deployment), instead of forking in a tight loop.
    const delay = recentCrashes.length > workers * 3 ? 5_000 : 0;
    setTimeout(() => {
      if (!stopping) fork();
    }, delay).unref();
  });

  cluster.on('online', (w) => log.info(`server process ${w.process.pid} started (${Object.keys(cluster.workers ?? {}).length}/${workers})`));

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: stopping ${workers} server processes`);
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    setTimeout(() => {
      log.warn('server processes did not stop in time; killing them');
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
      process.exit(1);
    }, shutdownMs + 5_000).unref();
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  log.info(`starting ${workers} server processes`);
  for (let i = 0; i < workers; i++) fork();
}
