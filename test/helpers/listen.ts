import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildApp, type AppOptions } from '../../server/app.ts';
import { loadConfig } from '../../server/config.ts';
import { TEST_ENV } from './test-env.ts';
import { silentLogger } from '../../server/log.ts';
import { applyKeepAlive } from '../../server/http/keep-alive.ts';
import type { Db } from '../../server/db/types.ts';

/** The whole app on a free loopback port (for SSE and real HTTP clients), live relay ready. */
export async function listenApp(db: Db, extra: Partial<AppOptions> = {}): Promise<{ base: string; close: () => Promise<void> }> {
  const config = loadConfig(TEST_ENV);
  const app = buildApp({ db, config, log: silentLogger, ...extra });
  await app.locals.ready;
  const server: http.Server = app.listen(0, '127.0.0.1');
  applyKeepAlive(server, { keepAliveTimeoutMs: config.KEEP_ALIVE_TIMEOUT_MS }); // as server/main.ts does
  await new Promise((r) => server.once('listening', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
