import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import pg from 'pg';
import type { Page, Request } from 'playwright-core';
import { backend } from '../setup/db.ts';
import { createSeededCluster, createStandby, type ThrowawayCluster } from '../helpers/throwaway-pg.ts';
import { listenApp } from '../helpers/listen.ts';
import { openDb } from '../../server/db/open.ts';
import { loadConfig } from '../../server/config.ts';
import { createKey } from '../../server/auth/keys.ts';
import { ensureClientBuilt } from '../../client/build.ts';
import type { Db } from '../../server/db/types.ts';
import { launchBrowser, openMap, pagePointOf, settle, type Browser } from './harness.ts';

/**
 * The planner's own edit is never missing from what it reads next, though the
 * read replica lags and the read lands on another server: Chromium talks to a
 * load balancer that sends writes (and the live stream) to server A and every
 * other read to server B, which never hears A's change notifications. Both read
 * from a real hot standby whose replay is paused. The client sends back the
 * Consistency-Token of its write, so B answers from the primary; a reader
 * without the token gets the replica's older copy.
 */
describe.skipIf(backend !== 'postgres')('the client reads its own writes through a lagging replica', () => {
  let primary: ThrowawayCluster;
  let standby: ThrowawayCluster;
  const dbs: Db[] = [];
  const closers: (() => Promise<void>)[] = [];
  let editor: string;
  let a: string;
  let b: string;
  let front: string;
  let browser: Browser;
  let page: Page;

  const SHELTER = { lon: 113.2118128, lat: 23.3729801 }; // Huadu shelter 046
  const VIEW = `district=huadu&layers=districts,shelters&z=16&c=${SHELTER.lon},${SHELTER.lat}`;

  const onStandby = async (sql: string) => {
    const c = new pg.Client({ connectionString: standby.url('onemap') });
    await c.connect();
    try {
      return (await c.query(sql)).rows[0] as Record<string, unknown>;
    } finally {
      await c.end();
    }
  };

  beforeAll(async () => {
    const built = ensureClientBuilt();
    primary = await createSeededCluster(inject('templateDbUrl'));
    standby = await createStandby(primary);
    standby.start();
    const env = { DATABASE_URL: primary.url('onemap'), DATABASE_READ_URL: standby.url('onemap'), PG_POOL_SIZE: '4' };
    const open = async () => {
      const db = await openDb(loadConfig(env), () => {});
      dbs.push(db);
      return db;
    };
    const serve = async (db: Db) => {
      const { base, close } = await listenApp(db);
      closers.push(close);
      return base;
    };
    const dbA = await open();
    editor = (await createKey(dbA, { name: 'replica planner', role: 'editor' })).key;
    a = await serve(dbA);
    const dbB = await open();
    b = await serve({ ...dbB, listen: async () => async () => {} });
    const lb = balancer(a, b);
    closers.unshift(lb.close);
    front = await lb.base;
    await built;
    browser = await launchBrowser({ width: 1400, height: 900 });
    page = await browser.context.newPage();
    await page.addInitScript((key) => sessionStorage.setItem('onemap.apiKey', key), editor);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    for (const close of closers) await close().catch(() => {});
    for (const db of dbs) await db.close().catch(() => {});
    standby?.remove();
    primary?.remove();
  });

  async function openPopup(): Promise<void> {
    await settle(page);
    const [x, y] = await pagePointOf(page, SHELTER.lon, SHELTER.lat);
    await page.mouse.click(x, y);
    await page.waitForSelector('.popup .popup-feature[data-layer="shelters"] [data-extra="edit"]');
  }

  it('sends the Consistency-Token of its edit on the reads that follow, and shows the edit; a read without it gets the stale copy', async () => {
    await openMap(page, `${front}/?${VIEW}`);
    await onStandby('SELECT pg_wal_replay_pause()');
    try {
      await until(async () => (await onStandby('SELECT pg_get_wal_replay_pause_state() AS s')).s === 'paused');
      await openPopup();
      await page.click('.popup [data-extra="edit"]');
      await page.waitForSelector('.edit-form [data-field="address"]');
      const id = Number(/#(\d+)/.exec((await page.textContent('.edit-form h3')) ?? '')?.[1]);
      expect(id).toBeGreaterThan(0);
      const address = `副本一致性测试地址 ${Date.now()}`;
      await page.fill('.edit-form [data-field="address"]', address);
      const [patched] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'PATCH'), page.click('.edit-form button[type="submit"]')]);
      expect(patched.status()).toBe(200);
      const token = await patched.headerValue('consistency-token');
      expect(token).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
      await page.waitForSelector('[data-edit-message]');

      // Every request from here on carries it: tiles, the popup's item, the form's read.
      const sent: Promise<{ url: string; token: string | undefined }>[] = [];
      const onRequest = (r: Request) => void sent.push(r.allHeaders().then((h) => ({ url: r.url(), token: h['consistency-token'] })));
      page.on('request', onRequest);
      await page.click('[data-edit-action="cancel"]');
      await page.keyboard.press('Escape');
      await openPopup();
      await page.click('.popup [data-extra="edit"]');
      await page.waitForSelector('.edit-form [data-field="address"]');
      // B answered the form's read: from the primary, since the replica has not replayed the edit.
      expect(await page.inputValue('.edit-form [data-field="address"]')).toBe(address);
      page.off('request', onRequest);
      const item = `/ogc/collections/shelters/items/${id}`;
      const api = /^\/(ogc|tiles|analysis|risk|layers)[/?]/;
      const reads = (await Promise.all(sent)).filter((s) => s.url.startsWith(front) && api.test(s.url.slice(front.length)));
      expect(reads.some((s) => s.url.endsWith(item))).toBe(true);
      expect(reads.filter((s) => s.token !== token)).toEqual([]);

      // The replica really lags: a reader without the token gets the address from before the edit from B.
      const plain = await (await fetch(b + item)).json();
      expect(plain.properties.address).not.toBe(address);
      const withToken = await (await fetch(b + item, { headers: { 'Consistency-Token': token! } })).json();
      expect(withToken.properties.address).toBe(address);
    } finally {
      await onStandby('SELECT pg_wal_replay_resume()');
    }
  });
});

/** A load balancer on loopback: writes and the live stream to one server, every other read to another. */
function balancer(writes: string, reads: string): { base: Promise<string>; close: () => Promise<void> } {
  const server = http.createServer((req, res) => {
    const reading = (req.method === 'GET' || req.method === 'HEAD') && !(req.url ?? '').startsWith('/events');
    const target = new URL(reading ? reads : writes);
    const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.listen(0, '127.0.0.1');
  return {
    base: new Promise((resolve) => server.once('listening', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))),
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

async function until(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}
