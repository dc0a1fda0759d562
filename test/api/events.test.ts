import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { openTestDb } from '../setup/db.ts';
import { buildApp } from '../../server/app.ts';
import { loadConfig } from '../../server/config.ts';
import { silentLogger } from '../../server/log.ts';
import { notifyChange } from '../../server/live/notify.ts';
import { bumpDataVersion } from '../../server/db/data-version.ts';
import type { Db } from '../../server/db/types.ts';
import { subscribeSse, waitFor } from '../helpers/sse.ts';

let db: Db;
let server: http.Server;
let base: string;
beforeAll(async () => {
  db = (await openTestDb()).db;
  const app = buildApp({ db, config: loadConfig({}), log: silentLogger });
  await app.locals.ready;
  server = app.listen(0);
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await db?.close();
});

const point = { type: 'Point' as const, coordinates: [113.22, 23.4] };

describe('GET /events', () => {
  it('streams a committed change within 1 s, and never a rolled-back one', async () => {
    const sub = subscribeSse(`${base}/events`);
    const res = await sub.opened;
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);

    await db
      .tx(async (q) => {
        const v = await bumpDataVersion(q);
        await notifyChange(q, { layer: 'risk_points', id: 999001, op: 'insert', after: point, dataVersion: v });
        throw new Error('roll back');
      })
      .catch(() => {});
    const started = Date.now();
    const version = await db.tx(async (q) => {
      const v = await bumpDataVersion(q);
      await notifyChange(q, { layer: 'risk_points', id: 999002, op: 'insert', after: point, dataVersion: v, summary: { level: 'red' } });
      return v;
    });
    const event = await waitFor(() => sub.events.find((e) => e.data.id === 999002), 1000);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(event.id).toBe(version);
    expect(event.data).toMatchObject({ type: 'feature', op: 'insert', layer: 'risk_points', level: 'red', geometry: point, bbox: [113.22, 23.4, 113.22, 23.4] });
    expect(sub.events.some((e) => e.data.id === 999001)).toBe(false);
    sub.close();
  });

  it('resumes after Last-Event-ID and hides restricted layers from anonymous callers', async () => {
    const v1 = await db.tx(async (q) => {
      const v = await bumpDataVersion(q);
      await notifyChange(q, { layer: 'shelters', id: 1, op: 'update', after: point, dataVersion: v });
      return v;
    });
    const v2 = await db.tx(async (q) => {
      const v = await bumpDataVersion(q);
      await notifyChange(q, { layer: 'hazard_sources', id: 2, op: 'update', after: point, dataVersion: v });
      return v;
    });
    const v3 = await db.tx(async (q) => {
      const v = await bumpDataVersion(q);
      await notifyChange(q, { layer: 'shelters', id: 3, op: 'update', after: point, dataVersion: v });
      return v;
    });
    await new Promise((r) => setTimeout(r, 200));
    const sub = subscribeSse(`${base}/events`, { 'last-event-id': String(v1) });
    await sub.opened;
    const got = await waitFor(() => (sub.events.some((e) => e.id === v3) ? sub.events : undefined), 1000);
    expect(got.map((e) => e.id)).toEqual([v3]);
    expect(got.some((e) => e.id === v2)).toBe(false);
    sub.close();
  });
});
