import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page, Request } from 'playwright-core';
import sharp from 'sharp';
import { launchBrowser, matchScreenshot, openMap, pagePointOf, selectRoom, settle, startOneMap, waitForCentre, watchPage, type Browser, type OneMapServer, type PageWatch } from './harness.ts';

// The risk table, inspections due, scenario runner, nearest shelter and print views
// in Chromium, each checked against the real server's API.
let server: OneMapServer;
let browser: Browser;
let page: Page;
let watch: PageWatch;

const DISTRICT = 'huadu';

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

async function api<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(`${server.url}${path}`, init);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

interface TablePoint {
  id: number;
  level: string;
  category: string;
  street_id: string;
  lon: number;
  lat: number;
  inspection_status: string;
}
interface Table {
  counts: { total: Record<string, number> };
  points: TablePoint[];
}
interface Due {
  summary: { overdue: number; due_soon: number };
  points: { id: number; level: string; status: string }[];
}

/** The map's centre in lon/lat (the view works in Web Mercator). */
async function mapCentre(): Promise<[number, number]> {
  const [x, y] = await page.evaluate(() => (window.onemap!.map.getView() as unknown as { getCenter(): number[] }).getCenter());
  const R = 6378137;
  return [(x / R) * (180 / Math.PI), Math.atan(Math.sinh(y / R)) * (180 / Math.PI)];
}

/** Features of a client layer found by its `role`, with their properties' `kind` (if any). */
async function layerFeatures(role: string): Promise<{ id: unknown; kind: unknown }[]> {
  return page.evaluate((r) => {
    const map = window.onemap!.map as unknown as {
      getLayers(): { getArray(): { get(k: string): unknown; getVisible(): boolean; getSource(): { getFeatures(): { getId(): unknown; get(k: string): unknown }[] } }[] };
    };
    const layer = map.getLayers().getArray().find((l) => l.get('role') === r);
    if (!layer) throw new Error(`no layer ${r}`);
    return layer.getSource().getFeatures().map((f) => ({ id: f.getId(), kind: f.get('kind') }));
  }, role);
}

async function layerVisible(role: string): Promise<boolean> {
  return page.evaluate((r) => {
    const map = window.onemap!.map as unknown as { getLayers(): { getArray(): { get(k: string): unknown; getVisible(): boolean }[] } };
    return map.getLayers().getArray().find((l) => l.get('role') === r)!.getVisible();
  }, role);
}

/** A full-page screenshot with the parts that move with today's date masked. */
async function viewScreenshot(masks: string[] = []): Promise<Buffer> {
  await settle(page);
  return page.screenshot({ mask: masks.map((m) => page.locator(m)), maskColor: '#ff00ff' });
}

describe('risk table beside the map', () => {
  it('shows the counts of /risk/table and every point of the district', async () => {
    const table = await api<Table>(`/risk/table?district=${DISTRICT}`);
    await openMap(page, `${server.url}/?district=${DISTRICT}`);
    await page.click('[data-tab="risk"]');
    await page.waitForSelector('[data-level-count="red"]');
    for (const level of ['red', 'orange', 'yellow', 'blue']) {
      expect(await page.textContent(`[data-level-count="${level}"] b`)).toBe(table.counts.total[level].toLocaleString('zh-CN'));
    }
    expect(await page.getAttribute('[data-risk-total]', 'data-risk-total')).toBe(String(table.counts.total.total));
    expect(await page.locator('.risk-table tbody tr').count()).toBe(table.points.length);
    expect((await layerFeatures('risk-table')).length).toBe(table.points.length);
    expect(await layerVisible('risk-table')).toBe(true);
  });

  it('filters by level, category, street and overdue status, and sorts', async () => {
    const table = await api<Table>(`/risk/table?district=${DISTRICT}`);
    const rows = () => page.locator('.risk-table tbody tr').count();
    await page.selectOption('[data-risk-filter="level"]', 'yellow');
    expect(await rows()).toBe(table.points.filter((p) => p.level === 'yellow').length);
    const category = table.points.find((p) => p.level === 'yellow')!.category;
    await page.selectOption('[data-risk-filter="category"]', category);
    expect(await rows()).toBe(table.points.filter((p) => p.level === 'yellow' && p.category === category).length);
    await page.selectOption('[data-risk-filter="level"]', '');
    await page.selectOption('[data-risk-filter="category"]', '');
    const street = table.points[0].street_id;
    await page.selectOption('[data-risk-filter="street"]', street);
    expect(await rows()).toBe(table.points.filter((p) => p.street_id === street).length);
    await page.selectOption('[data-risk-filter="street"]', '');
    await page.check('[data-risk-filter="overdue"]');
    const overdue = table.points.filter((p) => p.inspection_status === 'overdue');
    expect(overdue.length).toBeGreaterThan(0);
    expect(await rows()).toBe(overdue.length);
    expect((await layerFeatures('risk-table')).length).toBe(overdue.length);
    await page.uncheck('[data-risk-filter="overdue"]');
    expect(await rows()).toBe(table.points.length);
    // Level sort: most severe first, then reversed.
    const levels = () => page.$$eval('.risk-table tbody td[data-level]', (tds) => tds.map((td) => (td as HTMLElement).dataset.level));
    expect((await levels())[0]).toBe('red');
    await page.click('[data-risk-sort="level"]');
    expect((await levels())[0]).toBe('blue');
    await page.click('[data-risk-sort="level"]');
    expect((await levels())[0]).toBe('red');
  });

  it('a row click centres the map on the point; a click on a point highlights its row', async () => {
    const table = await api<Table>(`/risk/table?district=${DISTRICT}`);
    const [a, b] = [table.points[0], table.points[table.points.length - 1]];
    await page.click(`.risk-table tr[data-risk-id="${a.id}"]`);
    await waitForCentre(page, a.lon, a.lat); // the centring animation
    const [lon, lat] = await mapCentre();
    expect(lon).toBeCloseTo(a.lon, 4);
    expect(lat).toBeCloseTo(a.lat, 4);
    expect(await page.getAttribute(`.risk-table tr[data-risk-id="${a.id}"]`, 'class')).toContain('selected');

    // Another point, put on screen, clicked on the map.
    await page.evaluate(([x, y]) => {
      const R = 6378137;
      const view = window.onemap!.map.getView() as unknown as { setCenter(c: number[]): void };
      view.setCenter([(x * Math.PI * R) / 180, R * Math.log(Math.tan(Math.PI / 4 + (y * Math.PI) / 360))]);
    }, [b.lon, b.lat]);
    await settle(page);
    const [px, py] = await pagePointOf(page, b.lon, b.lat);
    await page.mouse.click(px, py);
    await page.waitForSelector(`.risk-table tr[data-risk-id="${b.id}"].selected`);
    expect(await page.locator('.risk-table tr.selected').count()).toBe(1);
  });

  it('exports CSV and XLSX, the same files as the API', async () => {
    for (const f of ['csv', 'xlsx']) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.click(`[data-risk-export="${f}"]`)]);
      const res = await fetch(`${server.url}/risk/table?district=${DISTRICT}&f=${f}`);
      const name = /filename="?([^";]+)"?/.exec(res.headers.get('content-disposition') ?? '')![1];
      expect(download.suggestedFilename()).toBe(name);
      const body = Buffer.from(await res.arrayBuffer());
      const got = fs.readFileSync((await download.path())!);
      if (f === 'csv') expect(got.equals(body)).toBe(true);
      // XLSX zips carry a timestamp: compare the size and the zip signature.
      else expect([got.subarray(0, 2).toString(), Math.abs(got.length - body.length) < 64]).toEqual(['PK', true]);
    }
  });

  it('lists inspections due by colour, overdue first, and rings the overdue points on the map', async () => {
    const due = await api<Due>(`/risk/inspections/due?district=${DISTRICT}`);
    expect(await page.locator('.due-list li').count()).toBe(due.points.length);
    expect(await page.locator('.due-list li[data-due-status="overdue"]').count()).toBe(due.summary.overdue);
    // Within each colour the overdue come first.
    const statuses = await page.$$eval('.due-list', (lists) => lists.map((ul) => [...ul.querySelectorAll('li')].map((li) => li.dataset.dueStatus)));
    for (const list of statuses) expect(list).toEqual([...list].sort((x, y) => (x === 'overdue' ? 0 : 1) - (y === 'overdue' ? 0 : 1)));
    const levels = await page.$$eval('h4[data-due-level]', (hs) => hs.map((h) => (h as HTMLElement).dataset.dueLevel));
    expect(levels).toEqual(['red', 'orange', 'yellow', 'blue'].filter((l) => due.points.some((p) => p.level === l)));
    const overdueOnMap = await page.evaluate(() => {
      const map = window.onemap!.map as unknown as { getLayers(): { getArray(): { get(k: string): unknown; getSource(): { getFeatures(): { get(k: string): unknown }[] } }[] } };
      const layer = map.getLayers().getArray().find((l) => l.get('role') === 'risk-table')!;
      return layer.getSource().getFeatures().filter((f) => f.get('overdue') === true).length;
    });
    expect(overdueOnMap).toBe(due.summary.overdue);
  });

  it('looks as expected (risk table)', async () => {
    await openMap(page, `${server.url}/?district=${DISTRICT}`);
    await page.click('[data-tab="risk"]');
    await page.waitForSelector('[data-level-count="red"]');
    const png = await viewScreenshot(['[data-risk-total]', '.risk-table td:last-child', '[data-due-summary]', '.due-list', 'h4[data-due-level]']);
    expect((await matchScreenshot('planner-risk-huadu', png)).differing).toBeLessThan(0.02);
  });
});

describe('scenario runner', () => {
  interface Report {
    shelters: { closed: { id: number }[]; already_closed: number[] };
    flood_points: { active: { id: number }[] };
    coverage: { before: { covered_pct: number }; after: { covered_pct: number; shelters_counted: number } };
    alert_streets: string[];
  }

  it('shows more unusable shelters than the normal view, and ending it restores the normal view', async () => {
    // Unusable in the normal view: closed, or flagged unusable (hazard zone, editor, a running scenario).
    type Items = { features: { id: number }[] };
    const closed = await api<Items>(`/ogc/collections/shelters/items?district_id=${DISTRICT}&status=closed&limit=10000`);
    const flagged = await api<Items>(`/ogc/collections/shelters/items?district_id=${DISTRICT}&usable=false&limit=10000`);
    const normal = new Set([...closed.features, ...flagged.features].map((f) => Number(f.id)));
    const report = await api<Report>('/analysis/scenario', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ district: DISTRICT, rainfall_mm_h: 80 }),
    });
    const unusable = report.shelters.closed.length + report.shelters.already_closed.length;
    expect(unusable).toBeGreaterThan(0);
    // The data load flags every shelter in an active hazard's zone, so the shelters rain closes are
    // among those the normal view already shows unusable (docs/analysis.md); the scenario draws them apart.
    for (const s of report.shelters.closed) expect(normal.has(s.id), `shelter ${s.id}`).toBe(true);
    // … and the normal view draws none of the scenario's.
    expect((await layerFeatures('scenario')).length).toBe(0);

    await page.click('[data-tab="scenario"]');
    await page.fill('[data-scenario="rainfall"]', '80');
    await page.click('[data-scenario-action="run"]');
    await page.waitForSelector('[data-scenario-state="done"]', { timeout: 60_000 });
    expect(await page.getAttribute('[data-scenario-metric="closed"]', 'data-count')).toBe(String(unusable));
    expect(await page.textContent('[data-scenario-metric="flooded"] b')).toBe(String(report.flood_points.active.length));
    expect(await page.locator('.alert-streets li').count()).toBe(report.alert_streets.length);
    expect(await page.textContent('[data-scenario-row="shelters_counted"] td:last-child')).toBe(report.coverage.after.shelters_counted.toLocaleString('zh-CN'));
    const drawn = await layerFeatures('scenario');
    expect(drawn.filter((f) => f.kind === 'closed').map((f) => f.id).sort()).toEqual([...report.shelters.closed.map((s) => s.id), ...report.shelters.already_closed].sort());
    expect(drawn.filter((f) => f.kind === 'flood').length).toBe(report.flood_points.active.length);
    expect(drawn.filter((f) => f.kind === 'street').length).toBe(report.alert_streets.length);
    // Before and after as two overlays, one at a time.
    expect([await layerVisible('scenario-gaps-before'), await layerVisible('scenario-gaps-after')]).toEqual([false, true]);
    await page.check('[data-scenario="shown"][value="before"]');
    expect([await layerVisible('scenario-gaps-before'), await layerVisible('scenario-gaps-after')]).toEqual([true, false]);
    expect((await layerFeatures('scenario-gaps-before')).length).toBeGreaterThan(0);

    await page.evaluate(() => {
      // Show the whole district for the screenshot.
      (window.onemap as unknown as { setDistrict(id: string, o: object): void }).setDistrict('huadu', { duration: 0 });
    });
    const png = await viewScreenshot();
    expect((await matchScreenshot('planner-scenario-huadu', png)).differing).toBeLessThan(0.02);

    await page.click('[data-scenario-action="end"]');
    expect((await layerFeatures('scenario')).length).toBe(0);
    expect([await layerVisible('scenario-gaps-before'), await layerVisible('scenario-gaps-after')]).toEqual([false, false]);
    expect(await page.locator('[data-scenario-state="done"]').count()).toBe(0);
  });

  it('a typhoon level with a drawn warning area closes outdoor shelters in it, as the API says for the same request', async () => {
    await page.check('[data-scenario="kind"][value="typhoon"]');
    // the picker lists the server's levels, and shows the chosen level's rule
    await page.waitForSelector('[data-scenario="typhoon-level"]');
    const options = await api<{ typhoon_levels: { level: string; rainfall_mm_h: number; close_outdoor_shelters: boolean }[] }>('/analysis/scenario/options');
    expect(await page.$$eval('[data-scenario="typhoon-level"] option', (os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual(options.typhoon_levels.map((l) => l.level));
    await page.selectOption('[data-scenario="typhoon-level"]', 'blue');
    expect(await page.getAttribute('[data-typhoon-rain]', 'data-typhoon-rain')).toBe(String(options.typhoon_levels[0].rainfall_mm_h));
    expect(await page.isChecked('[data-scenario="close-outdoor"]')).toBe(false);
    await page.selectOption('[data-scenario="typhoon-level"]', 'orange');
    expect(await page.locator('[data-scenario="rainfall"]').count()).toBe(0);
    // no level's name is cut by the select's arrow
    expect(await selectRoom(page, '[data-scenario="typhoon-level"]')).toBeGreaterThanOrEqual(24);
    // the picker as a planner sees it: the levels, the chosen level's rule, before any area is drawn
    await settle(page);
    expect((await matchScreenshot('planner-typhoon-picker-huadu', await page.locator('#side').screenshot())).differing).toBeLessThan(0.02);
    await page.click('[data-scenario-action="draw"]');
    const box = (await page.locator('#map').boundingBox())!;
    const [cx, cy] = [box.x + 620, box.y + 420];
    for (const [dx, dy] of [[-160, -120], [160, -120], [160, 120]]) await page.mouse.click(cx + dx, cy + dy);
    await page.mouse.dblclick(cx - 160, cy + 120);
    await page.waitForSelector('[data-scenario-action="clear-area"]');
    expect(await page.isChecked('[data-scenario="close-outdoor"]')).toBe(true);
    const [request] = await Promise.all([page.waitForRequest((r) => r.url().endsWith('/analysis/scenario')), page.click('[data-scenario-action="run"]')]);
    await page.waitForSelector('[data-scenario-state="done"]', { timeout: 60_000 });
    const sent = JSON.parse(request.postData()!);
    expect(sent).toMatchObject({ district: DISTRICT, typhoon_level: 'orange', close_outdoor_in_warning_area: true, warning_area: { type: 'Polygon' } });
    expect(sent).not.toHaveProperty('rainfall_mm_h');
    const report = await api<Report>('/analysis/scenario', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(sent) });
    const unusable = report.shelters.closed.length + report.shelters.already_closed.length;
    expect(unusable).toBeGreaterThan(0);
    expect(await page.getAttribute('[data-scenario-metric="closed"]', 'data-count')).toBe(String(unusable));
    expect((await layerFeatures('scenario')).filter((f) => f.kind === 'warning')).toHaveLength(1);
    await page.click('[data-scenario-action="end"]');
    expect((await layerFeatures('scenario')).length).toBe(0);
    await page.check('[data-scenario="kind"][value="rain"]');
  });

  it('refuses a bad rainfall with the server\'s reason and draws nothing', async () => {
    await page.fill('[data-scenario="rainfall"]', '-5');
    await page.click('[data-scenario-action="run"]');
    await page.waitForSelector('[data-scenario-state="error"]');
    expect(await page.textContent('[data-scenario-state="error"]')).toContain('rainfall_mm_h');
    expect((await layerFeatures('scenario')).length).toBe(0);
    await page.fill('[data-scenario="rainfall"]', '60');
  });
});

describe('nearest shelter', () => {
  interface Answer {
    shelters: { id: number; distance_m: number; walking_minutes: number; free_capacity: number }[];
  }
  async function shownAnswer() {
    await page.waitForSelector('.nearest-table tbody tr');
    return page.$$eval('.nearest-table tbody tr', (trs) =>
      trs.map((tr) => ({
        id: Number((tr as HTMLElement).dataset.nearestId),
        distance_m: Number(tr.querySelector<HTMLElement>('[data-distance]')!.dataset.distance),
        walking_minutes: Number(tr.querySelector<HTMLElement>('[data-minutes]')!.dataset.minutes),
        free_capacity: Number(tr.querySelector<HTMLElement>('[data-free]')!.dataset.free),
      })),
    );
  }
  const expected = (a: Answer) => a.shelters.map(({ id, distance_m, walking_minutes, free_capacity }) => ({ id, distance_m, walking_minutes, free_capacity }));

  it('right-click anywhere: the 3 nearest usable shelters equal the API answer, with a line to each', async () => {
    await openMap(page, `${server.url}/?district=${DISTRICT}`);
    const box = (await page.locator('#map').boundingBox())!;
    await page.mouse.click(box.x + 600, box.y + 420, { button: 'right' });
    await page.waitForFunction(() => Boolean(document.getElementById('nearest')?.dataset.from));
    const [lon, lat] = (await page.getAttribute('#nearest', 'data-from'))!.split(',');
    const answer = await api<Answer>(`/analysis/nearest-shelters?lon=${lon}&lat=${lat}&n=3`);
    expect(answer.shelters).toHaveLength(3);
    expect(await shownAnswer()).toEqual(expected(answer));
    const drawn = await layerFeatures('nearest');
    expect(drawn.filter((f) => f.kind === 'line')).toHaveLength(3);
    expect(drawn.filter((f) => f.kind === 'shelter').map((f) => f.id)).toEqual(answer.shelters.map((s) => s.id));
    const png = await viewScreenshot();
    expect((await matchScreenshot('planner-nearest-huadu', png)).differing).toBeLessThan(0.02);
  });

  it('typing the name of a known place asks from there', async () => {
    const spot = await api<{ features: { geometry: { coordinates: [number, number] }; properties: { name_zh: string } }[] }>(
      `/ogc/collections/flood_points/items?district_id=${DISTRICT}&limit=1`,
    );
    const { name_zh } = spot.features[0].properties;
    await page.fill('.nearest-form input[name="place"]', name_zh);
    await page.click('.nearest-form button[type="submit"]');
    await page.waitForFunction((n) => document.getElementById('nearest')?.textContent?.includes(n), name_zh);
    const [lon, lat] = spot.features[0].geometry.coordinates;
    const answer = await api<Answer>(`/analysis/nearest-shelters?lon=${lon.toFixed(6)}&lat=${lat.toFixed(6)}&n=3`);
    expect(await shownAnswer()).toEqual(expected(answer));
  });

  it('says so when no feature matches the typed place', async () => {
    await page.fill('.nearest-form input[name="place"]', '不存在的地点xyz');
    await page.click('.nearest-form button[type="submit"]');
    await page.waitForSelector('#nearest .analysis-error');
    expect(await page.locator('.nearest-table').count()).toBe(0);
    await page.click('[data-action="nearest-close"]');
    expect(await page.isVisible('#nearest')).toBe(false);
    expect((await layerFeatures('nearest')).length).toBe(0);
  });
});

describe('print', () => {
  async function printed(button: string): Promise<{ png: Buffer; request: Request }> {
    const [download, request] = await Promise.all([
      page.waitForEvent('download'),
      page.waitForRequest((r) => r.url().includes('/maps/static.png')),
      page.click(button),
    ]);
    return { png: fs.readFileSync((await download.path())!), request };
  }

  it('"Print this view" downloads the static map of the current view with the layers switched on', async () => {
    await openMap(page, `${server.url}/?district=${DISTRICT}`);
    await page.click('[data-tab="print"]');
    const { png, request } = await printed('[data-print="view"]');
    const q = new URL(request.url()).searchParams;
    expect(q.get('bbox')!.split(',')).toHaveLength(4);
    expect(q.get('layers')!.split(',')).toContain('risk_points');
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', Number(q.get('width')), Number(q.get('height'))]);
    const again = Buffer.from(await (await fetch(request.url())).arrayBuffer());
    expect(png.equals(again)).toBe(true);
  });

  it('"Print community map" downloads the community\'s static map', async () => {
    const community = await page.$eval('select[data-print-community] option:nth-child(2)', (o) => (o as HTMLOptionElement).value);
    await page.selectOption('select[data-print-community]', community);
    const { png, request } = await printed('[data-print="community"]');
    expect(new URL(request.url()).searchParams.get('community')).toBe(community);
    expect((await sharp(png).metadata()).format).toBe('png');
    const again = Buffer.from(await (await fetch(request.url())).arrayBuffer());
    expect(png.equals(again)).toBe(true);
    const shot = await viewScreenshot(['[data-print-note]']);
    expect((await matchScreenshot('planner-print-huadu', shot)).differing).toBeLessThan(0.02);
  });
});

describe('the page', () => {
  it('asked nothing of any other origin and logged no errors', () => {
    expect(watch.foreign).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
    // The refused scenario (400) is the one error the console may show.
    expect(watch.consoleErrors.filter((e) => !e.includes('400'))).toEqual([]);
  });
});
