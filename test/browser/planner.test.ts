import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { fetchFeatures, launchBrowser, openMap, settle, startOneMap, waitForUrl, watchPage, type Browser, type OneMapServer, type PageWatch } from './harness.ts';

// The planner's side panel in Chromium, against the analysis endpoints of the real server.
let server: OneMapServer;
let browser: Browser;
let page: Page;
let watch: PageWatch;

interface Unit {
  id: string;
  name_zh: string;
  residents: number;
  covered_pct: number;
  meets_target: boolean | null;
}
interface Coverage {
  total: { covered_pct: number; uncovered_residents: number };
  units: Unit[];
}

beforeAll(async () => {
  server = await startOneMap();
  browser = await launchBrowser({ width: 1400, height: 900 });
  page = await browser.context.newPage();
  watch = watchPage(page, server.url);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function coverage(unit: 'street' | 'community'): Promise<Coverage> {
  return (await fetch(`${server.url}/analysis/coverage?district=pingshan&unit=${unit}`)).json();
}

/** Features in one of the panel's overlay layers (radii, gaps, choropleth, sites, drawn). */
async function overlayFeatures(role: string): Promise<number> {
  return page.evaluate((r) => {
    const map = window.onemap!.map as unknown as { getLayers(): { getArray(): { get(k: string): unknown; getSource(): { getFeatures(): unknown[] } }[] } };
    const layer = map.getLayers().getArray().find((l) => l.get('role') === r);
    return layer ? layer.getSource().getFeatures().length : -1;
  }, role);
}

async function tableNames(): Promise<string[]> {
  return page.$$eval('.coverage-table tbody tr td:first-child', (tds) => tds.map((td) => td.textContent ?? ''));
}

describe('planner panel', () => {
  it('shows coverage %, residents uncovered and m²/resident against the target for the district and each street', async () => {
    const expected = await coverage('street');
    await openMap(page, `${server.url}/?district=pingshan`);
    await page.waitForSelector('[data-metric="covered_pct"]');
    expect(await page.textContent('[data-metric="covered_pct"] b')).toBe(`${expected.total.covered_pct.toFixed(1)}%`);
    expect(await page.textContent('[data-metric="uncovered_residents"] b')).toBe(expected.total.uncovered_residents.toLocaleString('zh-CN'));
    expect(await page.textContent('[data-metric="area_per_resident_m2"]')).toContain('目标 1.5 m²');
    expect((await tableNames()).sort()).toEqual(expected.units.map((u) => u.name_zh).sort());
    // One bar per street; the ones short of the target are red, with the target drawn as a line.
    expect(await page.locator('.bar-chart .bar').count()).toBe(expected.units.length);
    expect(await page.locator('.bar-chart .bar.bad').count()).toBe(expected.units.filter((u) => u.meets_target === false).length);
    expect(await page.locator('.bar-chart line.target').count()).toBe(1);
  });

  it('sorts the table by a column, descending then ascending', async () => {
    const expected = await coverage('street');
    await page.click('th button[data-sort="residents"]');
    const byResidents = [...expected.units].sort((a, b) => b.residents - a.residents).map((u) => u.name_zh);
    expect(await tableNames()).toEqual(byResidents);
    expect(await page.getAttribute('th:has(button[data-sort="residents"])', 'aria-sort')).toBe('descending');
    await page.click('th button[data-sort="residents"]');
    expect(await tableNames()).toEqual([...byResidents].reverse());
    expect(await page.getAttribute('th:has(button[data-sort="residents"])', 'aria-sort')).toBe('ascending');
  });

  it('exports the table as CSV that spreadsheet programs open in Chinese', async () => {
    const expected = await coverage('street');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-action="csv"]')]);
    expect(download.suggestedFilename()).toBe('coverage-pingshan-street.csv');
    const csv = fs.readFileSync((await download.path())!, 'utf8');
    expect(csv.startsWith('\ufeffid,名称,常住人口,覆盖率')).toBe(true);
    const lines = csv.trim().split(/\r\n/);
    expect(lines).toHaveLength(expected.units.length + 1);
    for (const u of expected.units) expect(lines.some((l) => l.startsWith(`${u.id},${u.name_zh},${u.residents},${u.covered_pct},`))).toBe(true);
  });

  it('switches the table to communities, and the URL keeps the choice', async () => {
    const expected = await coverage('community');
    await page.click('[data-action="unit-community"]');
    await page.waitForFunction((n) => document.querySelectorAll('.coverage-table tbody tr').length === n, expected.units.length);
    await waitForUrl(page, (q) => q.get('unit') === 'community');
    await page.click('[data-action="unit-street"]');
    await page.waitForFunction(() => document.querySelector('[data-action="unit-street"]')?.getAttribute('aria-pressed') === 'true');
  });

  it('draws the overlays: service radii, coverage gaps and the m²/resident choropleth', async () => {
    const shelters = (await (await fetch(`${server.url}/analysis/coverage?district=pingshan&shelters=true`)).json()).shelters.length;
    const gaps = (await (await fetch(`${server.url}/analysis/coverage/gaps?district=pingshan`)).json()).gap_count;
    await page.click('input[data-overlay="radii"]');
    await page.click('input[data-overlay="gaps"]');
    await page.click('input[data-overlay="choropleth"]');
    await page.waitForFunction(() => document.querySelectorAll('input[data-overlay]:checked').length === 3);
    await expect.poll(() => overlayFeatures('radii')).toBe(shelters);
    await expect.poll(() => overlayFeatures('gaps')).toBe(gaps);
    await expect.poll(() => overlayFeatures('choropleth')).toBe((await coverage('street')).units.length);
    for (const name of ['radii', 'gaps', 'choropleth']) await page.click(`input[data-overlay="${name}"]`);
    await settle(page);
  });

  it('proposes k new shelter sites with the residents each newly covers', async () => {
    const sites = (await (await fetch(`${server.url}/analysis/siting?district=pingshan&k=3`)).json()).sites as { newly_covered_residents: number }[];
    await page.fill('[data-tool-input="k"]', '3');
    await page.click('[data-tool-action="siting"]');
    await page.waitForSelector('[data-result="siting"] tbody tr', { timeout: 30_000 });
    const rows = await page.$$eval('[data-result="siting"] tbody tr', (trs) => trs.map((tr) => tr.children[1].textContent));
    expect(rows).toEqual(sites.map((s) => s.newly_covered_residents.toLocaleString('zh-CN')));
    expect(await overlayFeatures('sites')).toBe(3);
  });

  it('summarises a drawn polygon: area, residents, shelters and risk points', async () => {
    await page.click('[data-tool-action="draw"]');
    const box = (await page.locator('#map').boundingBox())!;
    const x = box.x + box.width * 0.45;
    const y = box.y + box.height * 0.45;
    for (const [dx, dy] of [
      [0, 0],
      [100, 0],
      [100, 80],
    ]) {
      await page.mouse.click(x + dx, y + dy);
      await page.waitForTimeout(120);
    }
    await page.mouse.dblclick(x, y + 80);
    await page.waitForSelector('[data-result="area"] [data-field="residents"]', { timeout: 30_000 });
    const text = (await page.textContent('[data-result="area"]')) ?? '';
    expect(text).toMatch(/面积\s*[\d.]+ km²/);
    expect(text).toContain('常住人口');
    expect(text).toContain('风险点');
    expect(await overlayFeatures('drawn')).toBe(1);
    // Drawing did not open popups on the way.
    expect(await page.locator('.popup').isVisible()).toBe(false);
  });

  it('says when an edit makes the numbers old, and recalculates on request', async () => {
    const [near] = (await fetchFeatures(server.url, 'shelters', { district_id: 'pingshan', limit: '1' })).features;
    const res = await fetch(`${server.url}/ogc/collections/shelters/items`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${server.editorKey}`, 'Content-Type': 'application/geo+json' },
      body: JSON.stringify({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [near.geometry.coordinates[0] + 0.001, near.geometry.coordinates[1]] },
        properties: { name_zh: '测试新建避难场所', district_id: 'pingshan', setting: 'outdoor', shelter_class: 'emergency', effective_area_m2: 20000, capacity: 13000 },
      }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    await page.waitForSelector('.stale-note', { timeout: 5000 });
    const reloaded = page.waitForResponse((r) => r.url().includes('/analysis/coverage?') && r.status() === 200);
    await page.click('[data-action="reload"]');
    await reloaded;
    await page.waitForSelector('[data-metric="covered_pct"]');
    expect(await page.locator('.stale-note').count()).toBe(0);
  });

  it('says so when an analysis is not available on the server, and the rest keeps working', async () => {
    await page.route('**/analysis/siting?**', (route) =>
      route.fulfill({
        status: 404,
        contentType: 'application/problem+json',
        body: JSON.stringify({ type: 'about:blank', title: 'Not found', status: 404, detail: 'no route for GET /analysis/siting' }),
      }),
    );
    await page.click('[data-tool-action="siting"]');
    await expect.poll(() => page.textContent('[data-tool="siting"]')).toContain('该分析服务暂不可用');
    expect(await page.locator('.coverage-table tbody tr').count()).toBeGreaterThan(0);
    await page.unroute('**/analysis/siting?**');
  });

  it('asked nothing of other origins and logged no errors but the one it was made to see', () => {
    expect(watch.foreign).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
    expect(watch.consoleErrors.filter((e) => !e.includes('/analysis/siting?'))).toEqual([]);
  });
});
