import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CDPSession, Page } from 'playwright-core';
import { WORDS } from '../../client/src/i18n.ts';
import { fetchFeatures, launchBrowser, openMap, pagePointOf, selectRoom, settle, startOneMap, watchPage, type Browser, type OneMapServer, type PageWatch } from './harness.ts';

// The planner on a touch screen, in English: a long-press asks for the nearest shelters
// (and lifting the finger is not also a click), and every word of the planner's own
// is English, as client/src/i18n.ts gives it.
let server: OneMapServer;
let browser: Browser;
let page: Page;
let cdp: CDPSession;
let watch: PageWatch;

beforeAll(async () => {
  server = await startOneMap();
  browser = await launchBrowser({ width: 1280, height: 800 }, { hasTouch: true });
  page = await browser.context.newPage();
  cdp = await browser.context.newCDPSession(page);
  watch = watchPage(page, server.url);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** One finger on the screen at (x, y) for `ms`, then lifted, as a touch screen sends it. */
async function touch(x: number, y: number, ms: number): Promise<void> {
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x, y }] });
  if (ms > 0) await page.waitForTimeout(ms);
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
}

interface Answer {
  shelters: { id: number; distance_m: number; walking_minutes: number; free_capacity: number }[];
}

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${server.url}${path}`);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

const HAN = /\p{Script=Han}/u;

/**
 * The planner's own words on the page: headings, labels, buttons, table heads and
 * legends, without what the data holds (select options, names in rows) and without
 * the language toggle (which names the other language).
 */
async function chromeTexts(): Promise<string[]> {
  return page.$$eval('#topbar, #layers-panel, #side, #nearest', (roots) => {
    const out: string[] = [];
    for (const root of roots) {
      for (const el of root.querySelectorAll('h1, h2, h3, h4, th, label, button, summary, legend, .muted, .card span')) {
        if (el.id === 'lang-toggle' || el.closest('[data-street], [data-nearest-id], .layer-list')) continue;
        const copy = el.cloneNode(true) as HTMLElement;
        for (const s of copy.querySelectorAll('select, option, input')) s.remove();
        const text = (copy.textContent ?? '').replace(/\s+/g, ' ').trim();
        if (text) out.push(text);
      }
    }
    return out;
  });
}

describe('long-press on a touch screen', () => {
  it('a long-press on a point lists the nearest shelters as the API answers, and lifting the finger opens no popup', async () => {
    const [red] = (await fetchFeatures(server.url, 'risk_points', { level: 'red', district_id: 'pingshan', limit: '1' })).features;
    const [lon, lat] = red.geometry.coordinates;
    await openMap(page, `${server.url}/?c=${lon},${lat}&z=16&lang=en`);
    const popup = page.locator('.popup');

    // A tap there is a click: it opens the point's popup (so a click after a long-press would too).
    const [x, y] = await pagePointOf(page, lon, lat);
    await touch(x, y, 0);
    await page.waitForSelector(`.popup .popup-feature[data-layer="risk_points"]`);
    await page.click('.popup [data-action="close"]');
    await popup.waitFor({ state: 'hidden' });
    expect(await page.isVisible('#nearest')).toBe(false);

    await settle(page);
    const [x2, y2] = await pagePointOf(page, lon, lat);
    await touch(x2, y2, 1000);
    await page.waitForFunction(() => Boolean(document.getElementById('nearest')?.dataset.from), null, { timeout: 30_000 });
    // longer than OpenLayers waits before a singleclick (250 ms)
    await page.waitForTimeout(800);
    expect(await popup.isVisible()).toBe(false);

    const [fromLon, fromLat] = (await page.getAttribute('#nearest', 'data-from'))!.split(',').map(Number);
    expect(Math.abs(fromLon - lon)).toBeLessThan(0.0005);
    expect(Math.abs(fromLat - lat)).toBeLessThan(0.0005);
    const answer = await api<Answer>(`/analysis/nearest-shelters?lon=${fromLon}&lat=${fromLat}&n=3`);
    await page.waitForSelector('.nearest-table tbody tr');
    const shown = await page.$$eval('.nearest-table tbody tr', (trs) => trs.map((tr) => Number((tr as HTMLElement).dataset.nearestId)));
    expect(shown).toEqual(answer.shelters.map((s) => s.id));
    // the answer is in English
    expect(await page.textContent('#nearest h3')).toBe(WORDS.nearestShelter.en);
    const heads = await page.$$eval('.nearest-table thead th', (ths) => ths.map((th) => th.textContent));
    expect(heads).toEqual(['#', WORDS.shelter.en, WORDS.distance.en, WORDS.walk.en, WORDS.freePlaces.en]);
    await page.click('[data-action="nearest-close"]');
  });

  it('a finger that moves while held is a pan, not a long-press', async () => {
    const box = (await page.locator('#map').boundingBox())!;
    const [x, y] = [box.x + 500, box.y + 400];
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x, y }] });
    for (let i = 1; i <= 5; i++) {
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x: x + i * 12, y }] });
      await page.waitForTimeout(40);
    }
    await page.waitForTimeout(900);
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await page.waitForTimeout(300);
    expect(await page.isVisible('#nearest')).toBe(false);
  });
});

describe('the planner in English', () => {
  it('shows the English word of every heading, label and button of each view, and no Chinese of its own', async () => {
    await openMap(page, `${server.url}/?district=huadu&lang=en`);
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
    expect(await page.textContent('#app-title')).toBe(WORDS.appTitle.en);
    expect(await page.textContent('#lang-toggle')).toBe(WORDS.language.en);
    const english = new Set(Object.values(WORDS).map((w) => w.en));
    const tabs = await page.$$eval('[data-tab]', (bs) => bs.map((b) => ({ tab: (b as HTMLElement).dataset.tab!, text: b.textContent!.trim() })));
    expect(tabs.length).toBeGreaterThan(3);
    for (const { text } of tabs) expect(english, text).toContain(text);

    const chinese: string[] = [];
    for (const { tab } of tabs) {
      await page.click(`[data-tab="${tab}"]`);
      // The tab's pane is shown, and what it loads on showing (the risk table of the district) is in.
      await page.waitForFunction(
        (t) => {
          const pane = document.getElementById(`side-${t}`);
          return pane !== null && !pane.hidden && !pane.querySelector('[data-risk-state="loading"]');
        },
        tab,
        { timeout: 30_000 },
      );
      if (tab === 'scenario') {
        // the typhoon picker lists the server's English level names
        await page.check('[data-scenario="kind"][value="typhoon"]');
        await page.waitForSelector('[data-scenario="typhoon-level"]');
        const levels = await api<{ typhoon_levels: { name_en: string }[] }>('/analysis/scenario/options');
        expect(await page.$$eval('[data-scenario="typhoon-level"] option', (os) => os.map((o) => o.textContent))).toEqual(levels.typhoon_levels.map((l) => l.name_en));
        expect(await page.textContent('.typhoon-rule')).toContain(WORDS.typhoonRain.en);
        // the English names, longer than the Chinese, are not cut either
        expect(await selectRoom(page, '[data-scenario="typhoon-level"]')).toBeGreaterThanOrEqual(24);
      }
      for (const text of await chromeTexts()) if (HAN.test(text)) chinese.push(`${tab}: ${text}`);
    }
    expect(chinese).toEqual([]);

    // and back to Chinese with the toggle
    await page.click('#lang-toggle');
    expect(await page.textContent('#app-title')).toBe(WORDS.appTitle.zh);
    expect(watch.foreign).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
  });
});

describe('a scenario in English after closures were applied', () => {
  interface Report {
    shelters: { closed: { id: number }[]; already_closed: number[] };
    applied: { shelters_closed: number[] } | null;
  }
  const scenario = async (body: object, key?: string): Promise<Report> => {
    const res = await fetch(`${server.url}/analysis/scenario`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(key ? { Authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`scenario: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as Report;
  };

  it('draws the shelters closed before the scenario as closed too, with the count the API gives', async () => {
    const applied = await scenario({ district: 'huadu', rainfall_mm_h: 80, apply: true }, server.editorKey);
    expect(applied.applied!.shelters_closed.length).toBeGreaterThan(0);
    const report = await scenario({ district: 'huadu', rainfall_mm_h: 80 });
    expect([...report.shelters.already_closed].sort()).toEqual(expect.arrayContaining([...applied.applied!.shelters_closed]));

    await openMap(page, `${server.url}/?district=huadu&lang=en`);
    await page.click('[data-tab="scenario"]');
    await page.check('[data-scenario="kind"][value="rain"]');
    await page.fill('[data-scenario="rainfall"]', '80');
    await page.click('[data-scenario-action="run"]');
    await page.waitForSelector('[data-scenario-state="done"]', { timeout: 60_000 });
    const expected = [...report.shelters.closed.map((s) => s.id), ...report.shelters.already_closed].sort((a, b) => a - b);
    expect(await page.getAttribute('[data-scenario-metric="closed"]', 'data-count')).toBe(String(expected.length));
    expect(await page.textContent('[data-scenario-metric="closed"] span')).toBe(WORDS.unusableShelters.en);
    const drawn = await page.evaluate(() => {
      const map = window.onemap!.map as unknown as { getLayers(): { getArray(): { get(k: string): unknown; getSource(): { getFeatures(): { getId(): unknown; get(k: string): unknown }[] } }[] } };
      const layer = map.getLayers().getArray().find((l) => l.get('role') === 'scenario')!;
      return layer.getSource().getFeatures().filter((f) => f.get('kind') === 'closed').map((f) => Number(f.getId()));
    });
    expect(drawn.sort((a, b) => a - b)).toEqual(expected);
  });
});
