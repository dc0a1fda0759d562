import { afterAll, describe, expect, it } from 'vitest';
import { copyTestDb, backend } from '../setup/db.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import { loadConfig } from '../../server/config.ts';
import { metricValue } from '../helpers/metrics.ts';

// The README's start command, for real: the server process starts on this backend and answers.
let server: RunningServer | undefined;
afterAll(async () => {
  await server?.stop();
});

describe('npm start', { timeout: 120_000 }, () => {
  it('starts, says which backend it uses, and answers /health and /layers; its analysis workers start with it', async () => {
    // A copy of the seeded database, so the server does not generate the demo data again.
    const { env } = await copyTestDb();
    // WORKER_WARM_START as in production (startServer turns it off for the other test servers).
    server = await startServer({ ...env, LOG_LEVEL: 'info', WORKER_WARM_START: String(loadConfig({}).WORKER_WARM_START) });
    expect(server.log()).toContain(backend === 'embedded' ? 'embedded PostgreSQL + PostGIS' : 'database: PostgreSQL at');
    const health = await (await fetch(`${server.url}/health`)).json();
    expect(health).toMatchObject({ status: 'ok', backend });
    const layers = await (await fetch(`${server.url}/layers`)).json();
    expect(layers.layers.length).toBeGreaterThan(5);
    // The workers load their modules in the background: every one of them, before any analysis.
    const gauge = async (name: string) => metricValue(await (await fetch(`${server!.url}/metrics`)).text(), name);
    const size = await gauge('onemap_worker_pool_size');
    expect(size).toBeGreaterThan(0);
    await expect.poll(() => gauge('onemap_worker_pool_loaded'), { timeout: 60_000, interval: 250 }).toBe(size);
    expect(await gauge('onemap_worker_tasks_completed_total')).toBe(0);
    expect(await server.stop()).toBe(0);
    server = undefined;
  });

  it.skipIf(backend !== 'postgres')('starts with its read replica down, says so, and reads from the primary', async () => {
    const { env } = await copyTestDb();
    // Nothing listens on port 1: the replica connection is refused.
    server = await startServer({ ...env, DATABASE_READ_URL: 'postgres://postgres@127.0.0.1:1/onemap' });
    expect(server.log()).toMatch(/read replica down: reads go to the primary/);
    expect(await (await fetch(`${server.url}/ready`)).json()).toEqual({ status: 'ready', replica: 'down' });
    expect((await fetch(`${server.url}/ogc/collections/shelters/items?limit=1`)).status).toBe(200);
    expect(await server.stop()).toBe(0);
    server = undefined;
  });
});
