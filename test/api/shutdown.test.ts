import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { backend, openTestDb } from '../setup/db.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';

/**
 * Graceful shutdown of the real server process: on SIGTERM it stops accepting,
 * lets the request in flight finish, ends live streams with a retry hint,
 * closes the database (flushing the embedded one) and exits 0.
 */
let env: Record<string, string>;
let cleanup = async () => {};
beforeAll(async () => {
  if (backend === 'postgres') {
    const { db, location } = await openTestDb();
    await db.close();
    env = { DATABASE_URL: location };
  } else {
    const dir = path.join(inject('scratchDir'), `shutdown-${process.pid}`);
    fs.cpSync(inject('templateDir'), path.join(dir, 'pgdata'), { recursive: true });
    env = { DATA_DIR: dir };
    cleanup = async () => fs.rmSync(dir, { recursive: true, force: true });
  }
});
afterAll(async () => cleanup());

describe('SIGTERM', () => {
  let server: RunningServer;

  it('finishes the request in flight, ends live streams with a retry hint, refuses new connections and exits 0', async () => {
    server = await startServer({ ...env, DEMO_DATA: 'false', SHUTDOWN_TIMEOUT_MS: '30000' });
    const stream = await fetch(`${server.url}/events`);
    expect(stream.status).toBe(200);
    const streamText = stream.text();
    // a request that takes a moment (district load and a coverage analysis)
    const inFlight = fetch(`${server.url}/analysis/siting?district=huadu&k=3&radius=700`).then(async (r) => ({ status: r.status, body: await r.json() }));
    await new Promise((r) => setTimeout(r, 300));
    const exit = server.stop();
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.body.sites).toHaveLength(3);
    const text = await streamText;
    expect(text).toMatch(/retry: \d+\n: server shutting down/);
    expect(await exit).toBe(0);
    await expect(fetch(`${server.url}/health`)).rejects.toThrow();
    expect(server.log()).toMatch(/shutdown complete/);
  }, 180_000);
});
