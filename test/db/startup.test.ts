import { afterAll, describe, expect, it } from 'vitest';
import { openTestDb, backend } from '../setup/db.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';

// The README's start command, for real: the server process starts on this backend and answers.
let server: RunningServer | undefined;
afterAll(async () => {
  await server?.stop();
});

describe('npm start', () => {
  it('starts, says which backend it uses, and answers /health and /layers', async () => {
    const { db, location } = await openTestDb();
    await db.close();
    const env: Record<string, string> =
      backend === 'embedded' ? { DATA_DIR: location.replace(/\/?$/, '-root'), LOG_LEVEL: 'info' } : { DATABASE_URL: location };
    if (backend === 'embedded') {
      // DATA_DIR holds the database in pgdata/; reuse the seeded copy so the test does not regenerate data.
      const fs = await import('node:fs');
      fs.mkdirSync(env.DATA_DIR, { recursive: true });
      fs.renameSync(location, `${env.DATA_DIR}/pgdata`);
    }
    server = await startServer(env);
    expect(server.log()).toContain(backend === 'embedded' ? 'embedded PostgreSQL + PostGIS' : 'database: PostgreSQL at');
    const health = await (await fetch(`${server.url}/health`)).json();
    expect(health).toMatchObject({ status: 'ok', backend });
    const layers = await (await fetch(`${server.url}/layers`)).json();
    expect(layers.layers.length).toBeGreaterThan(5);
    expect(await server.stop()).toBe(0);
    server = undefined;
  });
});
