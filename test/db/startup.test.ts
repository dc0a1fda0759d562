import { afterAll, describe, expect, it } from 'vitest';
import { copyTestDb, backend } from '../setup/db.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';

// The README's start command, for real: the server process starts on this backend and answers.
let server: RunningServer | undefined;
afterAll(async () => {
  await server?.stop();
});

describe('npm start', { timeout: 120_000 }, () => {
  it('starts, says which backend it uses, and answers /health and /layers', async () => {
    // A copy of the seeded database, so the server does not generate the demo data again.
    const { env } = await copyTestDb();
    server = await startServer({ ...env, LOG_LEVEL: 'info' });
    expect(server.log()).toContain(backend === 'embedded' ? 'embedded PostgreSQL + PostGIS' : 'database: PostgreSQL at');
    const health = await (await fetch(`${server.url}/health`)).json();
    expect(health).toMatchObject({ status: 'ok', backend });
    const layers = await (await fetch(`${server.url}/layers`)).json();
    expect(layers.layers.length).toBeGreaterThan(5);
    expect(await server.stop()).toBe(0);
    server = undefined;
  });
});
