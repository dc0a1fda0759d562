/**
 * Starts the one-map server: parse config, open the database (embedded unless
 * DATABASE_URL is set), migrate, load the demo data on first start, listen.
 * Every start-up failure is one line on stderr and a non-zero exit — no stack traces.
 */
import cluster from 'node:cluster';
import { loadConfig, ConfigError } from './config.ts';
import { runPrimary } from './cluster/primary.ts';
import { openArchive } from '../tiles/archive/archive-reader.ts';
import { openDb } from './db/open.ts';
import { prepareDatabase } from './db/prepare.ts';
import { buildApp } from './app.ts';
import { createLogger } from './log.ts';
import type { Db } from './db/types.ts';
import { closeWorkerPool, workerPool } from './work/shared.ts';
import { applyKeepAlive, closeKeepAliveOnShutdown } from './http/keep-alive.ts';

/** What a live map is told to wait before reconnecting when this server stops. */
const SSE_RETRY_AFTER_SHUTDOWN_MS = 3000;

function fail(message: string, code: number): never {
  process.stderr.write(`onemap: ${message}\n`);
  process.exit(code);
}

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, 2);
    throw err;
  }
  const log = createLogger(config.LOG_LEVEL);

  let db: Db;
  try {
    db = await openDb(config, (m) => log.info(m));
  } catch (err) {
    fail(`cannot open the database: ${(err as Error).message || String(err)}`, 1);
  }
  try {
    const { migrationLevel, loadedDemo } = await prepareDatabase(db, { demoData: config.DEMO_DATA, log: (m) => log.info(m) });
    log.info(`schema at migration ${migrationLevel}${loadedDemo ? '; demo data loaded' : ''}`);
  } catch (err) {
    await db.close().catch(() => {});
    fail(`cannot prepare the database: ${(err as Error).message}`, 1);
  }

  if (cluster.isPrimary && config.workers > 1) {
    // Migrations and demo data ran once above; the workers find them done.
    await db.close();
    runPrimary({ workers: config.workers, log });
    return;
  }

  let tileArchive;
  if (config.TILES_ARCHIVE) {
    try {
      tileArchive = await openArchive(config.TILES_ARCHIVE);
    } catch (err) {
      await db.close().catch(() => {});
      fail(`invalid TILES_ARCHIVE=${JSON.stringify(config.TILES_ARCHIVE)}: ${(err as Error).message}`, 2);
    }
    log.info(`tiles archive ${config.TILES_ARCHIVE} of ${tileArchive.json.exported_at ?? 'unknown date'} answers while the database is away`);
  }
  const app = buildApp({ db, config, log, tileArchive });
  // Load the workers' modules now rather than on the first analysis (WORKER_WARM_START).
  if (config.WORKER_WARM_START) workerPool().warm().catch((err) => log.warn(`analysis workers failed to start: ${(err as Error).message}`));
  const server = app.listen(config.PORT, config.HOST);
  applyKeepAlive(server, { keepAliveTimeoutMs: config.KEEP_ALIVE_TIMEOUT_MS });
  server.on('error', (err: NodeJS.ErrnoException) => {
    fail(`cannot listen on ${config.HOST}:${config.PORT}: ${err.code ?? err.message}`, 1);
  });
  server.on('listening', () => {
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.PORT;
    log.info(`one map listening on http://${config.HOST}:${port} (${db.backend} database)`);
  });

  // Graceful shutdown: stop accepting, let in-flight requests finish (up to
  // SHUTDOWN_TIMEOUT_MS), end live streams with a retry hint so maps reconnect
  // to the next instance, stop the workers, close the pool / flush the embedded
  // database, exit 0.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: shutting down; finishing requests in flight (at most ${config.SHUTDOWN_TIMEOUT_MS} ms)`);
    (app.locals.live as { close(retryMs?: number): void } | undefined)?.close(SSE_RETRY_AFTER_SHUTDOWN_MS);
    const force = setTimeout(() => {
      log.warn('shutdown: requests still running after the timeout; closing their connections');
      server.closeAllConnections();
    }, config.SHUTDOWN_TIMEOUT_MS);
    force.unref();
    closeKeepAliveOnShutdown(server);
    server.close(async () => {
      clearTimeout(force);
      await closeWorkerPool().catch(() => {});
      await db.close().catch((err) => log.error(`closing the database failed: ${(err as Error).message}`));
      log.info('shutdown complete');
      process.exit(0);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err) => fail(`start-up failed: ${(err as Error).message || String(err)}`, 1));
