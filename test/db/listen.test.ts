import { describe, expect, it } from 'vitest';
import { backend, copyTestDb } from '../setup/db.ts';
import { openPostgres } from '../../server/db/postgres.ts';

// A LISTEN holds a pool connection of its own. It must be released exactly once
// whichever comes first — its stop, the pool's close, or its connection dying —
// or pg throws "Release called on client which has already been released".
describe.runIf(backend === 'postgres')('a LISTEN connection', () => {
  it('stopped after the database was closed is not released twice', async () => {
    const { location } = await copyTestDb();
    const db = await openPostgres({ connectionString: location, max: 2 });
    const stop = await db.listen('onemap_test_listen', () => {});
    await db.close();
    await expect(stop()).resolves.toBeUndefined();
    await expect(stop()).resolves.toBeUndefined();
  });

  it('being made while the database closes is stopped by the close, which ends', async () => {
    // An app starts its LISTEN without waiting for it (server/app.ts); a close that came
    // before the connection was made left that connection held and the pool's end waiting for it.
    const { location } = await copyTestDb();
    // No probe: the pool has no idle connection, so the LISTEN's is still being made at the close.
    const db = await openPostgres({ connectionString: location, max: 2, probe: false });
    const listening = db.listen('onemap_test_listen', () => {});
    const closed = db.close().then(() => 'closed');
    const within = new Promise((r) => setTimeout(() => r('still waiting after 10 s'), 10_000).unref());
    expect(await Promise.race([closed, within])).toBe('closed');
    // the LISTEN itself either ends stopped or fails on the closed pool; it does not stay open
    await listening.then((stop) => stop(), () => {});
  });

  it('hears notifications until stopped, and the pool is whole afterwards', async () => {
    const { location } = await copyTestDb();
    const db = await openPostgres({ connectionString: location, max: 2 });
    const heard: string[] = [];
    const stop = await db.listen('onemap_test_listen', (p) => heard.push(p));
    await db.query(`SELECT pg_notify('onemap_test_listen', 'one')`);
    await expect.poll(() => heard).toEqual(['one']);
    await stop();
    await stop();
    await db.query(`SELECT pg_notify('onemap_test_listen', 'two')`);
    await new Promise((r) => setTimeout(r, 200));
    expect(heard).toEqual(['one']);
    // Both pool slots are usable: the LISTEN's slot was given back once.
    await Promise.all([db.query('SELECT pg_sleep(0.05)'), db.query('SELECT pg_sleep(0.05)')]);
    await db.close();
  });
});
