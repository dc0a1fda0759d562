import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb, backend } from '../setup/db.ts';
import { listenApp } from '../helpers/listen.ts';
import { CHANGE_CHANNEL, encodeChange } from '../../server/live/notify.ts';
import { bumpDataVersion, currentDataVersion } from '../../server/db/data-version.ts';
import type { Db, Queryable } from '../../server/db/types.ts';
import { subscribeSse, waitFor } from '../helpers/sse.ts';
import { ChangeBus, type FeatureChange } from '../../server/changes.ts';
import { WHOLE_LAYER } from '../../catalog/ports.ts';

/** Sends a change that already carries its version, inside the test's transaction, as the server's writes do. */
const notifyChange = (q: Queryable, change: FeatureChange) => q.query('SELECT pg_notify($1, $2)', [CHANGE_CHANNEL, encodeChange(change)]);

let db: Db;
let base: string;
let closeApp: () => Promise<void>;
beforeAll(async () => {
  db = await testDb();
  ({ base, close: closeApp } = await listenApp(db));
});
afterAll(async () => {
  await closeApp?.();
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

  it('numbers the events of one transaction, so a resume in the middle of them misses none', async () => {
    // A flood spot's edit and the shelters it made unusable commit as one data version.
    const v = await db.tx(async (q) => {
      const version = await bumpDataVersion(q);
      for (const id of [71, 72, 73]) await notifyChange(q, { layer: 'shelters', id, op: 'update', after: point, dataVersion: version });
      return version;
    });
    const live = subscribeSse(`${base}/events`, { 'last-event-id': String(v - 1) });
    await live.opened;
    const all = await waitFor(() => (live.events.filter((e) => e.id === v).length === 3 ? live.events.filter((e) => e.id === v) : undefined), 2000);
    live.close();
    expect(all.map((e) => [e.eventId, e.data.id])).toEqual([[String(v), 71], [`${v}.1`, 72], [`${v}.2`, 73]]);
    expect(all.every((e) => e.data.version === v)).toBe(true);

    // A client that saw only the first event of the transaction gets the other two.
    for (const [seen, rest] of [[String(v), [72, 73]], [`${v}.1`, [73]]] as const) {
      const sub = subscribeSse(`${base}/events?lastEventId=${seen}`);
      await sub.opened;
      const got = await waitFor(() => (sub.events.filter((e) => e.id === v).length === rest.length ? sub.events : undefined), 1000, `resume after ${seen}`);
      expect(got.filter((e) => e.id === v).map((e) => e.data.id)).toEqual(rest);
      sub.close();
    }
  });

  it('counts from the data version the data is at after a start, not from 0', async () => {
    const v = Number(await currentDataVersion(db));
    expect(v).toBeGreaterThan(0);
    const bus = new ChangeBus();
    const started = await listenApp(db, { changes: bus });
    try {
      const res = await fetch(`${started.base}/events`);
      const first = new TextDecoder().decode((await res.body!.getReader().read()).value);
      expect(first).toContain(`: connected, data version ${v}\n`);
      await res.body?.cancel().catch(() => {});
      // A notice without a version before any change (a resync) carries the version the data is at.
      const sub = subscribeSse(`${started.base}/events`);
      await sub.opened;
      bus.emit({ layer: 'shelters', id: WHOLE_LAYER, op: 'update', summary: { resync: true } });
      const resync = await waitFor(() => sub.events.find((e) => e.data.resync === true), 2000, 'the resync notice');
      expect(resync.eventId).toBe(String(v));
      sub.close();
    } finally {
      await started.close();
    }
  });

  it('refuses an event id it never sent, naming the header or parameter', async () => {
    for (const [headers, query, name] of [
      [{ 'last-event-id': '0x10' }, '', 'Last-Event-ID'],
      [{ 'last-event-id': '3.0' }, '', 'Last-Event-ID'],
      [{}, '?lastEventId=1.01', 'lastEventId'],
      [{}, '?lastEventId=-1', 'lastEventId'],
    ] as const) {
      const res = await fetch(`${base}/events${query}`, { headers });
      expect(res.status, `${JSON.stringify(headers)}${query}`).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      const body = await res.json();
      expect(body.param).toBe(name);
    }
  });

  it.runIf(backend === 'postgres')('survives a dropped LISTEN connection: reconnects, drops caches, streams again', async () => {
    const sub = subscribeSse(`${base}/events`);
    await sub.opened;
    // Kill the server-side session that LISTENs, as a database restart would.
    await db.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = current_database()`);
    const resync = await waitFor(() => sub.events.find((e) => e.data.resync === true), 5000, 'resync after reconnect');
    expect(resync.data.layer).toBeTruthy();
    const v = await db.tx(async (q) => {
      const version = await bumpDataVersion(q);
      await notifyChange(q, { layer: 'shelters', id: 424242, op: 'update', after: point, dataVersion: version });
      return version;
    });
    const event = await waitFor(() => sub.events.find((e) => e.data.id === 424242), 2000, 'event after reconnect');
    expect(event.id).toBe(v);
    sub.close();
  });
});
