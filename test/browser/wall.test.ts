import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../server/db/postgres.ts';
import type { Page } from 'playwright-core';
import {
  countColours,
  fetchFeatures,
  hexToRgb,
  launchBrowser,
  matchScreenshot,
  openMap,
  pagePointOf,
  startOneMap,
  waitForUrl,
  watchPage,
  type Browser,
  type OneMapServer,
  type PageWatch,
} from './harness.ts';
import { blackHoleProxy } from '../helpers/black-hole-proxy.ts';

// Wall mode in Chromium: unattended, live from /events, surviving a server restart.
let server: OneMapServer;
let browser: Browser;
let page: Page;
let watch: PageWatch;
let red: [number, number, number];
/** A spot inside Pingshan (an existing point nudged a few metres) to create features at. */
let spot: [number, number];

beforeAll(async () => {
  // Heartbeats every second: the last test cuts a wall's link without a word and waits for three to go missing.
  server = await startOneMap({ LIVE_HEARTBEAT_S: '1' });
  browser = await launchBrowser({ width: 1600, height: 900 });
  page = await browser.context.newPage();
  watch = watchPage(page, server.url);
  const layers = (await (await fetch(`${server.url}/layers`)).json()).layers as { id: string; style: { by?: { colors: Record<string, string> } } }[];
  red = hexToRgb(layers.find((l) => l.id === 'risk_points')!.style.by!.colors.red);
  const [near] = (await fetchFeatures(server.url, 'risk_points', { district_id: 'pingshan', level: 'blue', limit: '1' })).features;
  spot = [near.geometry.coordinates[0] + 0.0004, near.geometry.coordinates[1] + 0.0003];
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

let createdId = 0;

async function createRedPoint(name: string, at: [number, number]): Promise<number> {
  const res = await fetch(`${server.url}/ogc/collections/risk_points/items`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${server.editorKey}`, 'Content-Type': 'application/geo+json' },
    body: JSON.stringify({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: at },
      properties: { name_zh: name, district_id: 'pingshan', level: 'red', category: 'fire', responsible_unit: '坪山区应急管理局' },
    }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  createdId = (await res.json()).id as number;
  return createdId;
}

async function liveStatus(): Promise<string | undefined> {
  return page.evaluate(() => document.body.dataset.live);
}

/** Records, in the page, when the first frame after each live event was drawn (by feature name). */
async function recordFrames(): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { drawnAt: Record<string, number> };
    w.drawnAt = {};
    window.onemap!.live.onEvent((e) => {
      const name = String(e.name_zh ?? '');
      window.onemap!.map.once('postrender', () => (w.drawnAt[name] ??= Date.now()));
    });
  });
}

/**
 * Milliseconds from sending the request until the wall drew the frame holding
 * the new red point (timed in the page, so screenshot latency does not count);
 * then checks the point really is on screen in red and named in the ticker.
 */
async function timeToShow(name: string, at: [number, number]): Promise<number> {
  // The key's first use pays for its deliberately slow hash: an editor's earlier requests already did.
  await fetch(`${server.url}/ogc/collections/risk_points/items?limit=1`, { headers: { Authorization: `Bearer ${server.editorKey}` } });
  const started = Date.now();
  await createRedPoint(name, at);
  const drawn = await page.waitForFunction((n) => (window as unknown as { drawnAt: Record<string, number> }).drawnAt[n], name, { timeout: 10_000 });
  const ms = Number(await drawn.jsonValue()) - started;
  await page.waitForFunction((n) => document.getElementById('ticker')!.textContent!.includes(n), name, { timeout: 5000 });
  const [x, y] = await pagePointOf(page, at[0], at[1]);
  const pixels = await countColours(await page.screenshot({ clip: { x: x - 4, y: y - 4, width: 9, height: 9 } }), { red });
  if (pixels.red <= 20) {
    await page.screenshot({ path: `${os.tmpdir()}/onemap-wall-missing-point.png` });
    throw new Error(`the new red point is not on the map at ${x},${y} (screenshot in ${os.tmpdir()})`);
  }
  return ms;
}

describe('wall mode', () => {
  it('shows the district full screen in the dark theme, live, with a clock and no controls', async () => {
    await openMap(page, `${server.url}/?mode=wall&district=pingshan&z=13&c=${spot[0]},${spot[1]}`);
    await page.waitForFunction(() => document.body.dataset.live === 'open', null, { timeout: 10_000 });
    await recordFrames();
    expect(await page.evaluate(() => document.body.classList.contains('theme-dark'))).toBe(true);
    expect(await page.textContent('#app-title')).toContain('坪山区');
    expect(await page.locator('.ol-zoom').isVisible()).toBe(false);
    expect(await page.locator('input, select, button').count()).toBe(0);
    expect(await page.textContent('#clock')).toMatch(/\d\d:\d\d:\d\d/);
    // The clock and the stream's status are the only things that change by themselves.
    await page.addStyleTag({ content: '#clock { visibility: hidden }' });
    await matchScreenshot('wall-pingshan', await page.screenshot());
  });

  it('shows a red point created through the API within 2 s, flashing, and names it in the ticker', async () => {
    const ms = await timeToShow('测试新增重大风险点甲', spot);
    expect(ms).toBeLessThan(2000);
    expect(await page.evaluate(() => window.onemap!.live.flasher.active)).toBeGreaterThan(0);
    expect(await page.textContent('#ticker')).toContain('重大风险');
  });

  it('takes a deleted point off the map within 2 s', async () => {
    const started = Date.now();
    const res = await fetch(`${server.url}/ogc/collections/risk_points/items/${createdId}`, { method: 'DELETE', headers: { Authorization: `Bearer ${server.editorKey}`, 'If-Match': '*' } });
    expect(res.status).toBe(204);
    const [x, y] = await pagePointOf(page, spot[0], spot[1]);
    for (;;) {
      const pixels = await countColours(await page.screenshot({ clip: { x: x - 1, y: y - 1, width: 3, height: 3 } }), { red });
      if (pixels.red === 0) break;
      expect(Date.now() - started, 'the deleted point is still drawn').toBeLessThan(2000);
      await page.waitForTimeout(50);
    }
    expect(await page.textContent('#ticker')).toContain('删除');
  });

  it('moves a shelter occupancy bar when people check in', async () => {
    const [shelter] = (await fetchFeatures(server.url, 'shelters', { district_id: 'pingshan', sortby: '-capacity', limit: '1' })).features;
    const capacity = Number(shelter.properties.capacity);
    const people = Math.max(1, Math.round(capacity * 0.4));
    const res = await fetch(`${server.url}/shelters/${shelter.id}/checkins`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${server.editorKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ people }),
    });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
    const width = await page.waitForFunction(
      (id) => {
        const bar = document.querySelector<HTMLElement>(`[data-shelter-id="${id}"] .bar i`);
        return bar && parseFloat(bar.style.width) > 30 ? bar.style.width : null;
      },
      String(shelter.id),
      { timeout: 2000 },
    );
    expect(parseFloat((await width.jsonValue())!)).toBeCloseTo((100 * people) / capacity, 0);
    expect(await page.textContent('.wall-occupancy .totals')).toContain(people.toLocaleString('zh-CN'));
  });

  it('draws a shelter crossed once a hazard makes it unusable, and plain again when the hazard is gone', async () => {
    // An open, empty shelter with no other shelter and no active hazard within 1 km, seen close up on a second wall.
    const all = (await fetchFeatures(server.url, 'shelters', { district_id: 'pingshan', limit: '1000' })).features;
    const hazards = [
      ...(await fetchFeatures(server.url, 'geohazard_sites', { district_id: 'pingshan', status: 'active', limit: '1000' })).features,
      ...(await fetchFeatures(server.url, 'flood_points', { district_id: 'pingshan', status: 'active', limit: '1000' })).features,
    ];
    const apart = (a: { geometry: { coordinates: [number, number] } }, b: typeof a) =>
      Math.hypot((a.geometry.coordinates[0] - b.geometry.coordinates[0]) * 102_000, (a.geometry.coordinates[1] - b.geometry.coordinates[1]) * 110_800) > 1000;
    const shelter = all.find(
      (s) => s.properties.status === 'open' && s.properties.usable === true && Number(s.properties.occupancy) === 0 && all.every((o) => o === s || apart(s, o)) && hazards.every((h) => apart(s, h)),
    );
    expect(shelter, 'an open, empty, lone shelter in Pingshan, far from every active hazard').toBeDefined();
    const [lon, lat] = shelter!.geometry.coordinates;
    const close = await browser.context.newPage();
    try {
      await openMap(close, `${server.url}/?mode=wall&district=pingshan&z=16&c=${lon},${lat}`);
      await close.waitForFunction(() => document.body.dataset.live === 'open', null, { timeout: 10_000 });
      const [x, y] = await pagePointOf(close, lon, lat);
      const crossColour = { cross: hexToRgb('#d73027') };
      const crossPixels = async () => (await countColours(await close.screenshot({ clip: { x: x - 20, y: y - 20, width: 41, height: 41 } }), crossColour)).cross;
      /** Screenshots until `done` holds (the change travels: edit, NOTIFY, event, fetch, redraw). */
      const until = async (done: (n: number) => boolean, what: string) => {
        const deadline = Date.now() + 15_000;
        for (let n = await crossPixels(); !done(n); n = await crossPixels()) {
          if (Date.now() > deadline) {
            await close.screenshot({ path: `${os.tmpdir()}/onemap-wall-cross.png` });
            throw new Error(`${what}: ${n} cross-coloured pixels at ${x},${y} (screenshot in ${os.tmpdir()})`);
          }
          await close.waitForTimeout(100);
        }
      };
      const plain = await crossPixels();
      expect(plain).toBeLessThanOrEqual(2);

      // A geohazard site 150 m north: the shelter lies in its 200 m zone (68 px away at z16, off the probe).
      const created = await fetch(`${server.url}/ogc/collections/geohazard_sites/items`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${server.editorKey}`, 'Content-Type': 'application/geo+json' },
        body: JSON.stringify({
          type: 'Feature',
          geometry: { type: 'Point', coordinates: [lon, lat + 150 / 110_800] },
          properties: { name_zh: '测试墙面滑坡', district_id: 'pingshan', kind: 'landslide', scale: 'small' },
        }),
      });
      expect(created.status, await created.clone().text()).toBe(201);
      const site = (await created.json()).id as number;
      const stored = (await (await fetch(`${server.url}/ogc/collections/shelters/items/${shelter!.id}`)).json()).properties;
      expect(stored).toMatchObject({ usable: false, unusable_reason: 'hazard_zone' });
      await until((n) => n >= plain + 12, 'the unusable shelter is not drawn crossed');

      const gone = await fetch(`${server.url}/ogc/collections/geohazard_sites/items/${site}`, { method: 'DELETE', headers: { Authorization: `Bearer ${server.editorKey}`, 'If-Match': '*' } });
      expect(gone.status).toBe(204);
      await until((n) => n <= plain + 2, 'the shelter is still drawn crossed after the hazard was deleted');
    } finally {
      await close.close();
    }
  });

  it('says in the ticker that a layer written in plain SQL was reloaded, naming no feature', async () => {
    // psql or an ETL job on the server's database: announced at COMMIT as a change of the whole layer
    const db = await openPostgres({ connectionString: server.databaseUrl!, max: 1 });
    try {
      await db.query("UPDATE flood_points SET name_zh = name_zh WHERE district_id = 'pingshan'");
    } finally {
      await db.close();
    }
    const item = await page.waitForFunction(() => document.querySelector<HTMLElement>('#ticker li[data-layer="flood_points"][data-id="resync"]')?.textContent, null, { timeout: 5000 });
    const text = String(await item.jsonValue());
    expect(text).toContain('整层重新载入');
    expect(text).not.toContain('#resync');
  });

  it('puts the layers one version reloaded on one line of the ticker', async () => {
    const top = await page.evaluate(async () => {
      const live = window.onemap!.live;
      for (const layer of ['risk_points', 'shelters', 'flood_points']) {
        live.handle({ type: 'feature', op: 'update', layer, id: 'resync', resync: true, version: 2e9, bbox: null, at: new Date().toISOString() });
      }
      await new Promise((r) => requestAnimationFrame(r));
      const items = [...document.querySelectorAll<HTMLElement>('#ticker li')];
      return { first: items[0].dataset.layer, lines: items.filter((li) => li.dataset.layer!.split(' ').includes('shelters') && li.dataset.id === 'resync').length };
    });
    expect(top).toEqual({ first: 'risk_points shelters flood_points', lines: 1 });
  });

  it('rotates through the districts by itself when asked to (rotate=seconds)', async () => {
    const rotating = await browser.context.newPage();
    await openMap(rotating, `${server.url}/?mode=wall&rotate=5`);
    const first = await rotating.textContent('#app-title');
    await rotating.waitForFunction((t) => document.getElementById('app-title')!.textContent !== t, first, { timeout: 8000 });
    expect(await rotating.textContent('#app-title')).toMatch(/ · .+区$/);
    expect((await waitForUrl(rotating, (q) => q.has('district'))).get('district')).toMatch(/^[a-z]+$/);
    await rotating.close();
  });

  it('has asked nothing of other origins and logged no errors while the server was up', () => {
    expect(watch.foreign).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
    expect(watch.consoleErrors).toEqual([]);
  });

  it('recovers by itself after the server restarts, without a reload, and shows the next change within 2 s', async () => {
    // Same page throughout (a marker survives), and the status must go through 'reconnecting' back to 'open'.
    await page.evaluate(() => {
      const w = window as unknown as { marker: number; liveLog: string[] };
      w.marker = 42;
      w.liveLog = [];
      new MutationObserver(() => w.liveLog.push(document.body.dataset.live ?? '')).observe(document.body, { attributes: true, attributeFilter: ['data-live'] });
    });
    await server.restart();
    await page.waitForFunction(
      () => {
        const log = (window as unknown as { liveLog: string[] }).liveLog;
        return log.includes('reconnecting') && log[log.length - 1] === 'open';
      },
      null,
      { timeout: 30_000 },
    );
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42); // same page, not reloaded
    expect(await liveStatus()).toBe('open');
    const ms = await timeToShow('测试重启后新增风险点乙', [spot[0] - 0.0008, spot[1] - 0.0006]);
    expect(ms).toBeLessThan(2000);
  });

  it('keeps memory bounded however many events arrive: lists and overlays hold a fixed number of items', async () => {
    const sizes = await page.evaluate(async ([lon, lat]) => {
      const live = window.onemap!.live;
      let version = 1e9;
      const burst = (n: number) => {
        for (let i = 0; i < n; i++) {
          version++;
          live.handle({
            type: i % 5 === 0 ? 'occupancy' : 'feature',
            op: i % 7 === 0 ? 'update' : 'insert',
            layer: i % 5 === 0 ? 'shelters' : 'risk_points',
            id: 1e6 + (version % 50_000),
            version,
            bbox: null,
            geometry: { type: 'Point', coordinates: [lon + 0.5 + ((i % 100) - 50) * 1e-4, lat + ((i % 37) - 18) * 1e-4] },
            level: ['red', 'orange', 'yellow', 'blue'][i % 4],
            name_zh: `压力测试${i}`,
            occupancy: i % 1000,
            capacity: 1000,
            at: new Date().toISOString(),
          });
        }
      };
      const heap = () => {
        window.gc?.();
        return (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0;
      };
      burst(20_000);
      await new Promise((r) => setTimeout(r, 300));
      const before = heap();
      burst(20_000);
      await new Promise((r) => setTimeout(r, 300));
      const after = heap();
      return {
        growthBytes: after - before,
        store: live.store.size,
        flashes: live.flasher.active,
        ticker: document.querySelectorAll('#ticker li').length,
        bars: document.querySelectorAll('.wall-occupancy li').length,
      };
    }, spot);
    expect(sizes.store.features).toBeLessThanOrEqual(500);
    expect(sizes.store.shelters).toBeLessThanOrEqual(5000);
    expect(sizes.flashes).toBeLessThanOrEqual(32);
    expect(sizes.ticker).toBeLessThanOrEqual(12);
    expect(sizes.bars).toBeLessThanOrEqual(8);
    // Another 20,000 events leave the heap where it was (a few MB of garbage-collector slack at most).
    expect(sizes.growthBytes).toBeLessThan(4 * 1024 * 1024);
  });

  it('notices a link that died without a word: shows it reconnecting and the server unreachable, and is live again once the link is back', async () => {
    const link = await blackHoleProxy(server.url);
    const wall = await browser.context.newPage();
    const status = () => wall.evaluate(() => document.getElementById('live-status')!.dataset.status);
    try {
      await openMap(wall, `${link.url}/?mode=wall`);
      await wall.waitForFunction(() => document.getElementById('live-status')!.dataset.status === 'open', null, { timeout: 10_000 });
      link.freeze();
      const cut = Date.now();
      // Three heartbeats of a second missed, then the watchdog's next look.
      await wall.waitForFunction(() => document.getElementById('live-status')!.dataset.status === 'reconnecting', null, { timeout: 10_000 });
      expect(Date.now() - cut).toBeLessThan(6_000);
      // /ready gets no answer over the dead link either: after its 5 s, the wall says so.
      await wall.waitForFunction(
        () => {
          const notice = document.getElementById('offline-copy')!;
          return !notice.hidden && notice.textContent!.includes('无法连接服务器');
        },
        null,
        { timeout: 15_000 },
      );
      link.thaw();
      await wall.waitForFunction(
        () => document.getElementById('live-status')!.dataset.status === 'open' && document.getElementById('offline-copy')!.hidden,
        null,
        { timeout: 30_000 },
      );
      expect(await status()).toBe('open');
    } finally {
      await wall.close();
      await link.close();
    }
  });
});
