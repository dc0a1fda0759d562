import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, startOneMap, watchPage, type Browser, type OneMapServer, type PageWatch } from './harness.ts';

declare global {
  interface Window {
    /** Set by client/src/ogc-page.ts once the map has its features. */
    ogcPage?: { features: number; ready: boolean };
  }
}

// The OGC API's HTML pages in real Chromium against the real server: a planner browses without QGIS.
let server: OneMapServer;
let browser: Browser;
let page: Page;
let watch: PageWatch;

beforeAll(async () => {
  server = await startOneMap();
  browser = await launchBrowser();
  page = await browser.context.newPage();
  watch = watchPage(page, server.url);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('OGC API pages in a browser', () => {
  it('navigates landing → collections → collection → items, in Chinese (the browser locale)', async () => {
    await page.goto(`${server.url}/ogc`);
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    await page.click('ul.links a >> nth=0');
    await page.waitForSelector('table.collections');
    await page.click('a[href*="/collections/risk_points?"]');
    await page.waitForSelector('ul.links');
    await page.click('a[href*="/collections/risk_points/items?"]');
    await page.waitForSelector('table.items');
    expect(await page.title()).toContain('风险点');
  });

  it('the items page draws its features on an OpenLayers map, shows a row for each, and pages on', async () => {
    await page.goto(`${server.url}/ogc/collections/risk_points/items?limit=20&lang=en`);
    await page.waitForFunction(() => window.ogcPage?.ready === true, null, { timeout: 60_000 });
    const drawn = await page.evaluate(() => window.ogcPage!.features);
    expect(drawn).toBe(20);
    expect(await page.locator('table.items tbody tr').count()).toBe(20);
    // the map canvas has painted something
    expect(await page.locator('#ogc-map canvas').count()).toBeGreaterThan(0);
    const firstId = await page.locator('table.items tbody tr >> nth=0').getAttribute('data-id');
    await page.click('a[rel="next"] >> nth=0');
    await page.waitForFunction(() => window.ogcPage?.ready === true, null, { timeout: 60_000 });
    expect(page.url()).toMatch(/cursor=/);
    expect(await page.locator('table.items tbody tr >> nth=0').getAttribute('data-id')).not.toBe(firstId);
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
  });

  it('asks nothing of other origins and breaks no rule of the content security policy', async () => {
    expect(watch.foreign).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
    expect(watch.consoleErrors.filter((e) => /Content Security Policy|Refused/i.test(e))).toEqual([]);
    expect(watch.consoleErrors).toEqual([]);
  });
});
