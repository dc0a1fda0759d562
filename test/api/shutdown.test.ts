import { beforeAll, describe, expect, it } from 'vitest';
import { copyTestDb } from '../setup/db.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';

/**
 * Graceful shutdown of the real server process: on SIGTERM it stops accepting,
 * lets the request in flight finish, ends live streams with a retry hint,
 * closes the database (flushing the embedded one) and exits 0.
 */
let env: Record<string, string>;
beforeAll(async () => {
  ({ env } = await copyTestDb());
});

describe('SIGTERM', () => {
  let server: RunningServer;

  it('finishes the request in flight, ends live streams with a retry hint, refuses new connections and exits 0', async () => {
    server = await startServer({ ...env, DEMO_DATA: 'false', SHUTDOWN_TIMEOUT_MS: '30000' });
    const stream = await fetch(`${server.url}/events`);
    expect(stream.status).toBe(200);
    const streamText = stream.text().catch((e: Error) => `stream failed: ${e.message}`);
    // a request that takes a moment (district load and a coverage analysis)
    const inFlight = fetch(`${server.url}/analysis/siting?district=huadu&k=3&radius=700`).then(async (r) => ({ status: r.status, body: await r.json() }));
    // a request sent after it has been answered, so the server has read the first one: it is in flight
    // (a connection whose request has not been read yet counts as idle and is closed at once)
    await new Promise((r) => setTimeout(r, 300));
    expect((await fetch(`${server.url}/layers`)).status).toBe(200);
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
