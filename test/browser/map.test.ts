import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import {
  countColours,
  fetchFeatures,
  hexToRgb,
  launchBrowser,
  mapClip,
  matchScreenshot,
  openMap,
  pagePointOf,
  settle,
  startOneMap,
  waitForUrl,
  watchPage,
  type Browser,
  type OneMapServer,
  type PageWatch,
  type Rgb,
} from './harness.ts';

// The planner's map in real Chromium against the real server with the demo data.
let server: OneMapServer;
let browser: Browser;
let page: Page;
let watch: PageWatch;
let catalogue: { id: string; title: { zh: string; en: string }; style: { by?: { property: string; colors: Record<string, string> } } }[];
let riskColours: Record<string, Rgb>;

beforeAll(async () => {
  server = await startOneMap();
  browser = await launchBrowser();
  page = await browser.context.newPage();
  watch = watchPage(page, server.url);
  catalogue = (await (await fetch(`${server.url}/layers`)).json()).layers;
  const risk = catalogue.find((l) => l.id === 'risk_points')!;
  riskColours = Object.fromEntries(Object.entries(risk.style.by!.colors).map(([level, hex]) => [level, hexToRgb(hex)]));
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function riskPixels(): Promise<Record<string, number>> {
  return countColours(await page.screenshot({ clip: await mapClip(page) }), riskColours);
}

describe('the one map in Chromium', () => {
  it('draws tiles: each of the four risk colours appears where the demo data has points, and goes when the layer is switched off', async () => {
    await openMap(page, `${server.url}/?district=pingshan`);
    expect(watch.requests.some((u) => /\/tiles\/risk_points\/\d+\/\d+\/\d+\.mvt$/.test(u))).toBe(true);
    const before = await riskPixels();
    for (const level of ['red', 'orange', 'yellow', 'blue']) expect(before[level], `${level} pixels`).toBeGreaterThan(15);

    await page.click('input[data-layer-toggle="risk_points"]');
    await settle(page);
    const after = await riskPixels();
    for (const level of ['red', 'orange', 'yellow', 'blue']) expect(after[level], `${level} pixels with the layer off`).toBeLessThan(Math.max(5, before[level] * 0.1));
    await waitForUrl(page, (q) => q.get('layers') !== null && !q.get('layers')!.split(',').includes('risk_points'));

    await page.click('input[data-layer-toggle="risk_points"]');
    await settle(page);
    expect((await riskPixels()).red).toBeGreaterThan(15);
  });

  it('lists every registry layer in the legend, in Chinese and after the toggle in English', async () => {
    const ids = await page.$$eval('[data-legend-layer]', (els) => els.map((e) => (e as HTMLElement).dataset.legendLayer));
    expect(ids).toEqual(catalogue.map((l) => l.id));
    const legend = (await page.textContent('#layers-panel')) ?? '';
    for (const l of catalogue) expect(legend).toContain(l.title.zh);
    expect(legend).toContain('重大风险');
    expect(legend).toContain('合成数据');

    await page.click('#lang-toggle');
    const english = (await page.textContent('#layers-panel')) ?? '';
    for (const l of catalogue) expect(english).toContain(l.title.en);
    expect(english).toContain('Major risk');
    await waitForUrl(page, (q) => q.get('lang') === 'en');
    await page.click('#lang-toggle');
    expect(await page.textContent('#app-title')).toBe('应急管理一张图');
  });

  it('opens a popup with the name and fields of a clicked point, in either language', async () => {
    const [red] = (await fetchFeatures(server.url, 'risk_points', { level: 'red', district_id: 'pingshan', limit: '1' })).features;
    const [lon, lat] = red.geometry.coordinates;
    await openMap(page, `${server.url}/?c=${lon},${lat}&z=16`);
    const [x, y] = await pagePointOf(page, lon, lat);
    // The point itself is drawn there, in its level's colour.
    const spot = await countColours(await page.screenshot({ clip: { x: x - 4, y: y - 4, width: 9, height: 9 } }), { red: riskColours.red });
    expect(spot.red).toBeGreaterThan(20);

    await page.mouse.click(x, y);
    const popup = page.locator('.popup');
    await popup.waitFor({ state: 'visible' });
    const text = (await popup.textContent()) ?? '';
    expect(text).toContain(String(red.properties.name_zh));
    expect(text).toContain('重大风险');
    expect(text).toContain('风险点与危险源');
    expect(text).toContain('此要素为合成的演示数据');

    await page.click('#lang-toggle');
    const english = (await popup.textContent()) ?? '';
    expect(english).toContain('Major risk');
    expect(english).toContain('Risk level');
    expect(english).toContain('synthetic');
    await page.click('#lang-toggle');
  });

  it('keeps the view in the URL, so a reload shows the same district, zoom, centre and layers', async () => {
    await openMap(page, `${server.url}/?district=huadu&layers=districts,streets,shelters`);
    const q = await waitForUrl(page, (p) => p.has('z'));
    const shared = page.url();
    expect(q.get('district')).toBe('huadu');
    expect(q.get('layers')).toBe('districts,streets,shelters');
    const zoom = Number(q.get('z'));

    await openMap(page, shared);
    expect(await page.$eval('#district', (s) => (s as HTMLSelectElement).value)).toBe('huadu');
    expect(await page.evaluate(() => window.onemap!.map.getView().getZoom())).toBeCloseTo(zoom, 1);
    expect(await page.evaluate(() => [window.onemap!.isOn('shelters'), window.onemap!.isOn('risk_points')])).toEqual([true, false]);
    expect(await page.isChecked('input[data-layer-toggle="risk_points"]')).toBe(false);
  });

  it('looks as expected: planner view of Pingshan', async () => {
    await openMap(page, `${server.url}/?district=pingshan`);
    await page.waitForSelector('[data-metric="covered_pct"]');
    await settle(page);
    const result = await matchScreenshot('planner-pingshan', await page.screenshot());
    expect(result.differing).toBeLessThan(0.02);
  });

  it('asked nothing of any other origin and logged no errors', () => {
    expect(watch.foreign).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
    expect(watch.consoleErrors).toEqual([]);
  });

  it('falls back to the OGC API when the server has no tile endpoint, and still draws every risk colour', async () => {
    const fallback = await browser.context.newPage();
    await fallback.route('**/tiles/**', (route) =>
      route.fulfill({ status: 404, contentType: 'application/problem+json', body: JSON.stringify({ title: 'Not found', status: 404, detail: 'no route for GET /tiles' }) }),
    );
    const items: string[] = [];
    fallback.on('request', (r) => r.url().includes('/ogc/collections/risk_points/items?') && items.push(r.url()));
    await openMap(fallback, `${server.url}/?district=pingshan`);
    expect(await fallback.textContent('#notice')).toContain('矢量瓦片服务不可用');
    expect(items.length).toBeGreaterThan(0);
    const pixels = await countColours(await fallback.screenshot({ clip: await mapClip(fallback) }), riskColours);
    for (const level of ['red', 'orange', 'yellow', 'blue']) expect(pixels[level], `${level} pixels`).toBeGreaterThan(15);
    await fallback.close();
  });

  it('shows the restricted hazardous-chemical layer only to someone who enters an API key, and forgets it on sign-out', async () => {
    const keyed = await browser.context.newPage();
    const tileAuth: (string | undefined)[] = [];
    keyed.on('request', (r) => r.url().includes('/tiles/hazard_sources/') && tileAuth.push(r.headers().authorization));
    await openMap(keyed, `${server.url}/?district=jianghai`);
    expect(await keyed.locator('[data-legend-layer="hazard_sources"]').count()).toBe(0);

    await keyed.click('.key-box summary');
    await keyed.fill('#key-input', server.editorKey);
    await Promise.all([keyed.waitForEvent('load'), keyed.click('#key-form button[type="submit"]')]);
    await keyed.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 60_000 });
    await settle(keyed);
    expect(await keyed.locator('[data-legend-layer="hazard_sources"]').count()).toBe(1);
    expect(tileAuth.length).toBeGreaterThan(0);
    expect(tileAuth.every((h) => h === `Bearer ${server.editorKey}`)).toBe(true);
    expect(keyed.url()).not.toContain(server.editorKey);

    await keyed.click('.key-box summary');
    await Promise.all([keyed.waitForEvent('load'), keyed.click('#key-forget')]);
    await keyed.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 60_000 });
    expect(await keyed.locator('[data-legend-layer="hazard_sources"]').count()).toBe(0);
    await keyed.close();
  });
});
