import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { WORDS } from '../../client/src/i18n.ts';
import { launchBrowser, matchScreenshot, openMap, pagePointOf, settle, startOneMap, waitForCentre, watchPage, type Browser, type OneMapServer, type PageWatch } from './harness.ts';

// Editing with a key (schema forms, If-Match conflicts, field errors, history), shelter
// check-ins and imports with a dry run, in Chromium against the real server.
let server: OneMapServer;
let browser: Browser;
let page: Page;
/** A second open map (anonymous, like a colleague's): it must follow every change live. */
let other: Page;
let watch: PageWatch;

const FIXTURES = fileURLToPath(new URL('../fixtures/browser/', import.meta.url));
const SHELTER = { lon: 113.2118128, lat: 23.3729801 }; // Huadu shelter 046, open, well inside the district
const VIEW = `district=huadu&layers=districts,risk_points,shelters&z=16&c=${SHELTER.lon},${SHELTER.lat}`;

beforeAll(async () => {
  server = await startOneMap();
  browser = await launchBrowser({ width: 1400, height: 900 });
  page = await browser.context.newPage();
  watch = watchPage(page, server.url);
  await page.addInitScript((key) => sessionStorage.setItem('onemap.apiKey', key), server.editorKey);
  page.on('dialog', (d) => void d.accept());
  other = await browser.context.newPage();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

// These steps pass alone and now and then time out in a whole run: say what the page and the
// server were doing when one did.
afterEach(async ({ task }) => {
  if (task.result?.state !== 'fail') return;
  const side = await page.evaluate(() => document.querySelector('#side')?.textContent?.replace(/\s+/g, ' ').slice(0, 1500) ?? '').catch((e: Error) => e.message);
  console.error(`${task.name} failed. The side panel said: ${side}\nThe server's log ended:\n${server.log().slice(-4000)}`);
});

const auth = () => ({ Authorization: `Bearer ${server.editorKey}` });

async function item(
  layer: string,
  id: number,
  headers: Record<string, string> = {},
): Promise<{ status: number; etag: string | null; body: { geometry: { coordinates: number[] }; properties: Record<string, unknown> } }> {
  const res = await fetch(`${server.url}/ogc/collections/${layer}/items/${id}`, { headers });
  return { status: res.status, etag: res.headers.get('etag'), body: res.status === 200 ? await res.json() : null };
}

async function shelterId(): Promise<number> {
  const res = await fetch(`${server.url}/analysis/nearest-shelters?lon=${SHELTER.lon}&lat=${SHELTER.lat}&n=1&include_full=true`);
  return (await res.json()).shelters[0].id;
}

/** Clicks the map at a lon/lat and waits for the popup's section of that layer. */
async function openPopup(layer: string, lon: number, lat: number): Promise<void> {
  await settle(page);
  const [x, y] = await pagePointOf(page, lon, lat);
  await page.mouse.click(x, y);
  await page.waitForSelector(`.popup .popup-feature[data-layer="${layer}"] [data-extra="history"]`);
}

/**
 * Clicks the map where the edit form should place its point, and waits until the form shows
 * the place: OpenLayers reports a single click 250 ms after it (once no second click came).
 */
async function placeOnMap(lon: number, lat: number): Promise<void> {
  const shown = () => page.evaluate(() => document.querySelector('[data-edit-location]')?.textContent ?? '');
  const before = await shown();
  const [x, y] = await pagePointOf(page, lon, lat);
  await page.mouse.click(x, y);
  await page.waitForFunction(
    (was) => {
      const now = document.querySelector('[data-edit-location]')?.textContent ?? '';
      return now !== was && /\d+\.\d{6}, \d+\.\d{6}/.test(now);
    },
    before,
  );
}

/**
 * The first POST to `url` reaches the server, but its answer is lost (the link drops);
 * later ones pass. Gives the Idempotency-Key of each send, and the way back.
 */
async function loseFirstAnswer(url: RegExp): Promise<{ keys: string[]; restore: () => Promise<void> }> {
  const keys: string[] = [];
  await page.route(url, async (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    keys.push(route.request().headers()['idempotency-key'] ?? '');
    if (keys.length > 1) return route.continue();
    await route.fetch();
    return route.abort('connectionreset');
  });
  return { keys, restore: () => page.unroute(url) };
}

describe('editing points with a key', () => {
  it('builds the form from the layer schema and shows each field error of the server beside its field, changing nothing', async () => {
    const id = await shelterId();
    const before = await item('shelters', id);
    await openMap(page, `${server.url}/?${VIEW}`);
    await openPopup('shelters', SHELTER.lon, SHELTER.lat);
    await page.click('.popup [data-extra="edit"]');
    await page.waitForSelector('.edit-form [data-field="capacity"]');
    // Enums as choices, bounds and required fields from the schema; server-owned fields absent.
    expect(await page.$eval('.edit-form [data-field="status"]', (s) => s.tagName)).toBe('SELECT');
    expect(await page.getAttribute('.edit-form [data-field="capacity"]', 'min')).toBe('0');
    expect(await page.getAttribute('.edit-form [data-field="name_zh"]', 'required')).not.toBeNull();
    expect(await page.locator('.edit-form [data-field="occupancy"]').count()).toBe(0);

    await page.fill('.edit-form [data-field="capacity"]', '-4');
    await page.selectOption('.edit-form [data-field="status"]', 'closed');
    await page.fill('.edit-form [data-field="name_zh"]', '');
    await page.click('.edit-form button[type="submit"]');
    await page.waitForSelector('[data-field-error="capacity"]:not(:empty)');
    expect(await page.textContent('[data-field-error="capacity"]')).toContain('0..');
    expect(await page.textContent('[data-field-error="name_zh"]')).not.toBe('');
    const after = await item('shelters', id);
    expect([after.etag, after.body.properties.status]).toEqual([before.etag, before.body.properties.status]);
    await page.click('[data-edit-action="cancel"]');
  });

  it('shows an edit conflict with both versions instead of overwriting, and saves only the version chosen', async () => {
    const id = await shelterId();
    await openPopup('shelters', SHELTER.lon, SHELTER.lat);
    await page.click('.popup [data-extra="edit"]');
    await page.waitForSelector('.edit-form [data-field="address"]');
    const read = await item('shelters', id);
    // Someone else saves first.
    const theirs = await fetch(`${server.url}/ogc/collections/shelters/items/${id}`, {
      method: 'PATCH',
      headers: { ...auth(), 'Content-Type': 'application/json', 'If-Match': read.etag! },
      body: JSON.stringify({ type: 'Feature', properties: { address: '他人修改的地址' } }),
    });
    expect(theirs.status).toBe(200);
    await page.fill('.edit-form [data-field="address"]', '我修改的地址');
    await page.click('.edit-form button[type="submit"]');
    await page.waitForSelector('.conflict');
    expect(await page.textContent('[data-conflict-field="address"] [data-side="mine"]')).toBe('我修改的地址');
    expect(await page.textContent('[data-conflict-field="address"] [data-side="theirs"]')).toBe('他人修改的地址');
    expect((await item('shelters', id)).body.properties.address).toBe('他人修改的地址');
    await matchScreenshot('planner-edit-conflict', await page.screenshot({ clip: (await page.locator('#side').boundingBox())! }));

    await page.click('[data-edit-action="keep-mine"]');
    await page.waitForSelector('[data-edit-message]');
    const saved = await item('shelters', id);
    expect(saved.body.properties.address).toBe('我修改的地址');
    expect(saved.etag).not.toBe(theirs.headers.get('etag'));
    await page.click('[data-edit-action="cancel"]');
  });

  it('shows the audit history of a feature in its popup', async () => {
    const id = await shelterId();
    const history = (await (await fetch(`${server.url}/ogc/collections/shelters/items/${id}/history`, { headers: auth() })).json()).history;
    expect(history.length).toBe(2);
    await page.keyboard.press('Escape');
    await openPopup('shelters', SHELTER.lon, SHELTER.lat);
    await page.click('.popup [data-extra="history"]');
    await page.waitForSelector('.popup .history-list li');
    expect(await page.locator('.popup .history-list li').count()).toBe(history.length);
    expect(await page.textContent('.popup .history-list')).toContain('我修改的地址');
    // The popup redraws itself (a language switch here; the full record of a feature just
    // changed, picked from the live layer, does the same): the history opened stays, in the new language.
    await page.click('#lang-toggle');
    await page.waitForFunction(() => document.querySelector('.popup .history-list li')?.textContent?.includes('updated'));
    expect(await page.locator('.popup .history-list li').count()).toBe(history.length);
    await page.click('#lang-toggle');
  });

  it('adds a risk point where the map is clicked, moves it, then deletes it', async () => {
    await openMap(page, `${server.url}/?${VIEW}`);
    await page.click('[data-tab="data"]');
    await page.selectOption('select[data-edit-layer]', 'risk_points');
    await page.click('[data-edit-action="add"]');
    const at = { lon: SHELTER.lon + 0.002, lat: SHELTER.lat + 0.001 };
    await placeOnMap(at.lon, at.lat);
    await page.waitForSelector('.edit-form [data-field="name_zh"]');
    expect(await page.$eval('.edit-form [data-field="district_id"]', (s) => (s as HTMLSelectElement).value)).toBe('huadu');
    await page.fill('.edit-form [data-field="name_zh"]', '浏览器新增风险点');
    await page.selectOption('.edit-form [data-field="level"]', 'orange');
    await page.selectOption('.edit-form [data-field="category"]', 'gas');
    await page.fill('.edit-form [data-field="responsible_unit"]', '花都区应急管理局');
    // The first send reaches the server, which creates the point, but its answer is lost: the
    // page sends it again with the same Idempotency-Key and gets that point.
    const creations = await loseFirstAnswer(/\/ogc\/collections\/risk_points\/items$/);
    try {
      await page.click('.edit-form button[type="submit"]');
      await page.waitForFunction(() => document.querySelector('.edit-form h3')?.textContent?.includes('#'), null, { timeout: 15_000 }).catch(async (err) => {
        await page.screenshot({ path: '/tmp/onemap-edit-add.png' });
        throw err;
      });
    } finally {
      await creations.restore();
    }
    expect(creations.keys).toHaveLength(2);
    expect(creations.keys[0]).toMatch(/^"[0-9a-f]{32}"$/);
    expect(creations.keys[1]).toBe(creations.keys[0]);
    const matched = await (await fetch(`${server.url}/ogc/collections/risk_points/items?q=${encodeURIComponent('浏览器新增风险点')}&limit=1`)).json();
    expect(matched.numberMatched).toBe(1);
    const id = Number(/#(\d+)/.exec((await page.textContent('.edit-form h3'))!)![1]);
    const created = await item('risk_points', id);
    expect(created.body.properties).toMatchObject({ name_zh: '浏览器新增风险点', level: 'orange', district_id: 'huadu' });
    expect(created.body.geometry.coordinates[0]).toBeCloseTo(at.lon, 4);

    await page.click('[data-edit-action="move"]');
    const to = { lon: at.lon + 0.001, lat: at.lat };
    await placeOnMap(to.lon, to.lat);
    await page.click('.edit-form button[type="submit"]');
    await page.waitForFunction(() => document.querySelector('[data-edit-message]')?.textContent?.includes('v2'), null, { timeout: 15_000 }).catch(async (err) => {
      await page.screenshot({ path: '/tmp/onemap-edit-move.png' });
      throw err;
    });
    expect((await item('risk_points', id)).body.geometry.coordinates[0]).toBeCloseTo(to.lon, 4);

    await page.click('[data-edit-action="delete"]');
    await page.waitForSelector('.edit-form', { state: 'detached' });
    expect((await item('risk_points', id)).status).toBe(404);
  });
  it('adds and deletes a feature of every other editable point layer from the form its schema builds', async () => {
    await openMap(page, `${server.url}/?${VIEW}`);
    await page.click('[data-tab="data"]');
    const layers = await page.$$eval('select[data-edit-layer] option', (os) => os.map((o) => (o as HTMLOptionElement).value));
    // Every layer the server marks editable with point geometry is offered (lines are edited through the API).
    const published = (await (await fetch(`${server.url}/layers`, { headers: auth() })).json()) as { layers: { id: string; geometryType?: string; geometry?: string }[] };
    expect(layers).toEqual(expect.arrayContaining(['risk_points', 'shelters', 'flood_points', 'geohazard_sites', 'candidate_sites']));
    expect(published.layers.map((l) => l.id)).toEqual(expect.arrayContaining(layers));
    const others = layers.filter((l) => !['risk_points', 'shelters'].includes(l));
    for (const [i, layer] of others.entries()) {
      await page.selectOption('select[data-edit-layer]', layer);
      await page.click('[data-edit-action="add"]');
      const at = { lon: SHELTER.lon - 0.002 - i * 0.0005, lat: SHELTER.lat - 0.001 };
      await placeOnMap(at.lon, at.lat);
      await page.waitForSelector(`.edit-form[data-edit-form="${layer}"]`);
      // Fill what the schema requires and nothing else: choices take their first value, numbers
      // their lower bound (or 1), dates a fixed day, text a name that says which layer it is.
      const filled = await page.$$eval('.edit-form [required]', (fields, name) => {
        const out: Record<string, string> = {};
        for (const f of fields as (HTMLInputElement | HTMLSelectElement)[]) {
          if (f.value !== '') continue;
          if (f instanceof HTMLSelectElement) f.value = [...f.options].find((o) => o.value !== '')!.value;
          else if (f.type === 'number') f.value = f.min !== '' && Number(f.min) > 0 ? f.min : '1';
          else if (f.type === 'date') f.value = '2026-06-01';
          else f.value = `${name}·${f.name}`;
          f.dispatchEvent(new Event('change', { bubbles: true }));
          out[f.name] = f.value;
        }
        return out;
      }, `浏览器新增${layer}`);
      await page.click('.edit-form button[type="submit"]');
      await page.waitForFunction(() => document.querySelector('.edit-form h3')?.textContent?.includes('#'), null, { timeout: 15_000 }).catch(async (err) => {
        const errors = await page.$$eval('[data-field-error]:not(:empty)', (es) => es.map((e) => `${e.getAttribute('data-field-error')}: ${e.textContent}`));
        throw new Error(`${layer} not saved (${errors.join('; ') || (err as Error).message}); filled ${JSON.stringify(filled)}`);
      });
      const id = Number(/#(\d+)/.exec((await page.textContent('.edit-form h3'))!)![1]);
      const created = await item(layer, id, auth()); // restricted layers too
      expect(created.status, layer).toBe(200);
      for (const [name, value] of Object.entries(filled)) expect(String(created.body.properties[name]), `${layer}.${name}`).toBe(value);
      expect(created.body.geometry.coordinates[0], layer).toBeCloseTo(at.lon, 4);
      await page.click('[data-edit-action="delete"]');
      await page.waitForSelector('.edit-form', { state: 'detached' });
      expect((await item(layer, id, auth())).status, layer).toBe(404);
    }
  });
});

describe('shelter check-ins', () => {
  it('adds and subtracts people from the popup; the server and a second open map follow', async () => {
    const id = await shelterId();
    await openMap(other, `${server.url}/?${VIEW}`);
    await other.waitForFunction(() => document.body.dataset.live === 'open', null, { timeout: 10_000 });
    await openPopup('shelters', SHELTER.lon, SHELTER.lat);
    await page.fill('.popup [data-checkin-people]', '7');
    // The check-in reaches the server, its answer is lost; the page sends it again with the
    // same Idempotency-Key, and the 7 people are counted once.
    const checkins = await loseFirstAnswer(/\/shelters\/\d+\/checkins$/);
    try {
      await page.click('.popup [data-extra="checkin"]');
      await page.waitForSelector('.popup [data-checkin-result][data-occupancy="7"]');
    } finally {
      await checkins.restore();
    }
    expect(checkins.keys).toHaveLength(2);
    expect(checkins.keys[1]).toBe(checkins.keys[0]);
    expect((await item('shelters', id)).body.properties.occupancy).toBe(7);
    await page.fill('.popup [data-checkin-people]', '3');
    await page.click('.popup [data-extra="checkout"]');
    await page.waitForSelector('.popup [data-checkin-result][data-occupancy="4"]');
    expect((await item('shelters', id)).body.properties.occupancy).toBe(4);
    const live = await other.waitForFunction(
      (sid) => (window.onemap!.live as unknown as { store: { shelter(id: number): { occupancy?: number } | undefined } }).store.shelter(sid)?.occupancy === 4,
      id,
      { timeout: 5000 },
    );
    expect(await live.jsonValue()).toBe(true);
    // More than are housed is refused with the server's reason, and nothing moves.
    await page.fill('.popup [data-checkin-people]', '50');
    await page.click('.popup [data-extra="checkout"]');
    await page.waitForSelector('.popup [data-checkin-result].analysis-error');
    expect((await item('shelters', id)).body.properties.occupancy).toBe(4);
    await page.keyboard.press('Escape');
  });
});

describe('importing a file', () => {
  async function count(): Promise<number> {
    const res = await fetch(`${server.url}/ogc/collections/risk_points/items?q=${encodeURIComponent('导入测试风险点')}&limit=1`);
    return (await res.json()).numberMatched;
  }

  it('a dry run of a file with one bad row reports that row and commits nothing; the import stays disabled', async () => {
    await openMap(page, `${server.url}/?${VIEW}`);
    if (!other.url().startsWith(server.url)) await openMap(other, `${server.url}/?${VIEW}`);
    await other.waitForFunction(() => document.body.dataset.live === 'open', null, { timeout: 10_000 });
    await page.click('[data-tab="data"]');
    await page.selectOption('select[data-import="layer"]', 'risk_points');
    await page.selectOption('select[data-import="crs"]', 'wgs84');
    await page.setInputFiles('input[data-import="file"]', `${FIXTURES}import-risk-points-bad.csv`);
    await page.click('[data-import-action="check"]');
    await page.waitForSelector('[data-import-rejected]');
    expect(await page.$$eval('.import-errors tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.errorRow))).toEqual(['3']);
    expect(await page.textContent('.import-errors tbody tr')).toContain('level');
    expect(await page.getAttribute('.import-progress', 'data-phase')).toBe('done');
    expect(await page.isDisabled('[data-import-action="commit"]')).toBe(true);
    expect(await count()).toBe(0);
  });

  it('the fixed file passes the dry run, imports with progress, and the points appear on a second open map within 2 s', async () => {
    await page.setInputFiles('input[data-import="file"]', `${FIXTURES}import-risk-points.csv`);
    await page.click('[data-import-action="check"]');
    await page.waitForSelector('[data-import-outcome="valid"]');
    expect(await count()).toBe(0);

    // Watch the other map for the new red point (the fixture's first row) at its place.
    const spot = { lon: 113.215, lat: 23.376 };
    await other.evaluate(([lon, lat]) => {
      const w = window as unknown as { seenAt?: number };
      const R = 6378137;
      const at = [(lon * Math.PI * R) / 180, R * Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360))];
      const map = window.onemap!.map as unknown as {
        getPixelFromCoordinate(c: number[]): number[];
        forEachFeatureAtPixel(p: number[], fn: (f: { get(k: string): unknown }) => boolean, o: object): boolean | undefined;
        on(t: string, fn: () => void): void;
      };
      map.on('rendercomplete', () => {
        const hit = map.forEachFeatureAtPixel(map.getPixelFromCoordinate(at), (f) => f.get('level') === 'red', {
          hitTolerance: 3,
          layerFilter: (l: { get(k: string): unknown }) => l.get('layerId') === 'risk_points',
        });
        if (hit && !w.seenAt) w.seenAt = Date.now();
      });
    }, [spot.lon, spot.lat]);
    // Nothing red is drawn there before the import, so a hit after it is the imported point.
    await settle(other);
    expect(await other.evaluate(() => (window as unknown as { seenAt?: number }).seenAt)).toBeUndefined();
    const phases = new Set<string>();
    /** When the server finished the import (its clock is this machine's): the 2 s count from there, not from the page's next poll. */
    let finishedAt = NaN;
    page.on('response', async (r) => {
      if (!r.url().includes('/import/jobs/')) return;
      const job = await r.json().catch(() => ({}));
      phases.add(job.phase);
      if (job.status === 'imported') finishedAt = Date.parse(job.finishedAt);
    });
    await page.click('[data-import-action="commit"]');
    await page.waitForSelector('[data-import-outcome="imported"]', { timeout: 60_000 });
    await expect.poll(() => finishedAt).not.toBeNaN();
    const committed = finishedAt;
    expect(await count()).toBe(3);
    const seen = Number(await (await other.waitForFunction(() => (window as unknown as { seenAt?: number }).seenAt, null, { timeout: 10_000 })).jsonValue());
    console.log(`import → second map: ${seen - committed} ms`);
    expect(seen - committed).toBeLessThan(2000);
    expect(phases.has('done')).toBe(true);
    await settle(page);
    await matchScreenshot('planner-import-huadu', await page.screenshot({ clip: (await page.locator('#side').boundingBox())! }));
  });

  it('an import whose answer is lost is sent again by the page with the same Idempotency-Key, and lands once', async () => {
    const before = await count();
    await page.setInputFiles('input[data-import="file"]', `${FIXTURES}import-risk-points.csv`);
    await page.click('[data-import-action="check"]');
    await page.waitForSelector('[data-import-outcome="valid"]');
    // The commit reaches the server, which starts the import, but its 202 is lost: the page
    // sends it again with the same key and follows the same job.
    const commits = await loseFirstAnswer(/\/import\/risk_points\?/);
    try {
      await page.click('[data-import-action="commit"]');
      await page.waitForSelector('[data-import-outcome="imported"]', { timeout: 60_000 });
    } finally {
      await commits.restore();
    }
    expect(commits.keys).toHaveLength(2);
    expect(commits.keys[0]).toMatch(/^"[0-9a-f]{32}"$/);
    expect(commits.keys[1]).toBe(commits.keys[0]);
    expect(await count()).toBe(before + 3);
  });
});

describe('importing hazards in English', () => {
  interface Flagged {
    id: number;
    name_en: string | null;
    hazard_zone: { hazard: string; id: number; distance_m: number; within_m: number };
  }
  const HAN = /\p{Script=Han}/u;

  it('an import of a flood-prone spot beside a shelter lists the shelters it made unusable, as the job reports them, all in English', async () => {
    const id = await shelterId();
    expect((await item('shelters', id)).body.properties.usable).toBe(true);
    await openMap(page, `${server.url}/?${VIEW}&lang=en`);
    await page.click('[data-tab="data"]');
    await page.selectOption('select[data-import="layer"]', 'flood_points');
    await page.selectOption('select[data-import="crs"]', 'wgs84');
    // one spot 50 m north of the shelter: inside a flood-prone spot's 100 m zone
    await page.setInputFiles('input[data-import="file"]', `${FIXTURES}import-flood-point-near-shelter.csv`);
    await page.click('[data-import-action="check"]');
    await page.waitForSelector('[data-import-outcome="valid"]');
    expect(await page.textContent('[data-import-outcome="valid"]')).toBe(`${WORDS.importValid.en} (1 row)`);
    // a dry run writes nothing, so it makes no shelter unusable, but it lists those the import would
    expect(await page.locator('[data-import-flagged]').count()).toBe(0);
    expect((await item('shelters', id)).body.properties.usable).toBe(true);
    const predicted = await page.$$eval('.import-flagged tbody tr', (trs) =>
      trs.map((tr) => ({ id: Number((tr as HTMLElement).dataset.flaggedShelter), hazard: tr.querySelectorAll('td')[1].textContent!.trim() })),
    );
    expect(predicted.map((p) => p.id)).toContain(id);
    expect(await page.textContent('[data-import-would-flag]')).toBe(`${WORDS.sheltersWouldFlag.en} (${predicted.length})`);
    // the spot has no id before it is imported: it is named by its row in the file (the CSV's header is row 1)
    for (const p of predicted) expect(p.hazard).toMatch(new RegExp(`\\(${WORDS.importRow.en} 2\\)$`));

    const jobs: { status: string; sheltersFlagged?: Flagged[] }[] = [];
    page.on('response', async (r) => {
      // the job as started (POST) and as polled
      if (new URL(r.url()).pathname.startsWith('/import/')) jobs.push(await r.json().catch(() => ({})));
    });
    await page.click('[data-import-action="commit"]');
    await page.waitForSelector('[data-import-outcome="imported"]', { timeout: 60_000 });
    const job = jobs.find((j) => j.status === 'imported')!;
    expect(job.sheltersFlagged!.map((s) => s.id)).toContain(id);
    // the dry run predicted exactly these
    expect(job.sheltersFlagged!.map((s) => s.id)).toEqual(predicted.map((p) => p.id));
    // every shelter listed is unusable on the server, in a hazard zone
    for (const s of job.sheltersFlagged!) expect((await item('shelters', s.id)).body.properties).toMatchObject({ usable: false, unusable_reason: 'hazard_zone' });

    // the page lists exactly those, with the hazard and its distance
    expect(Number(await page.getAttribute('[data-import-flagged]', 'data-import-flagged'))).toBe(job.sheltersFlagged!.length);
    const rows = await page.$$eval('.import-flagged tbody tr', (trs) =>
      trs.map((tr) => ({ id: Number((tr as HTMLElement).dataset.flaggedShelter), cells: [...tr.querySelectorAll('td')].map((td) => td.textContent!.trim()) })),
    );
    expect(rows.map((r) => r.id)).toEqual(job.sheltersFlagged!.map((s) => s.id));
    const mine = job.sheltersFlagged!.find((s) => s.id === id)!;
    expect(mine.hazard_zone).toMatchObject({ hazard: 'flood_point', within_m: 100 });
    expect(mine.hazard_zone.distance_m).toBeCloseTo(50, -1);
    const row = rows.find((r) => r.id === id)!;
    const { layers } = (await (await fetch(`${server.url}/layers`)).json()) as { layers: { id: string; title: { en: string } }[] };
    const floodTitle = layers.find((l) => l.id === 'flood_points')!.title.en;
    expect(row.cells[1]).toBe(`${floodTitle} #${mine.hazard_zone.id}`);
    expect(row.cells[2]).toBe(`${mine.hazard_zone.distance_m.toLocaleString('en', { maximumFractionDigits: 1 })} m / 100 m`);
    if (mine.name_en) expect(row.cells[0]).toBe(mine.name_en);

    // the words of the import view are English, none left in Chinese, none missing
    const heads = await page.$$eval('.import-flagged thead th', (ths) => ths.map((th) => th.textContent));
    expect(heads).toEqual([WORDS.shelter.en, WORDS.hazard.en, WORDS.distanceZone.en]);
    expect(await page.textContent('[data-import-flagged]')).toBe(`${WORDS.sheltersFlagged.en} (${job.sheltersFlagged!.length})`);
    expect(await page.textContent('.import-progress span')).toBe(`${WORDS.phaseDone.en} · 1 / 1 row`);
    expect(await page.textContent('[data-import-outcome="imported"]')).toBe(`${WORDS.imported.en}: 1`);
    const words = await page.$$eval('#side-data :is(h2, h3, label, button, th, .import-progress span, .import-flagged td:not(:first-child))', (els) =>
      els.map((el) => {
        const copy = el.cloneNode(true) as HTMLElement;
        for (const c of copy.querySelectorAll('select, option, input')) c.remove();
        return copy.textContent!.replace(/\s+/g, ' ').trim();
      }),
    );
    expect(words.filter((w) => HAN.test(w))).toEqual([]);
    expect(words.filter((w) => /\b[a-z]+[A-Z]\w*\b/.test(w) && !/#/.test(w))).toEqual([]);

    // the second open map (a colleague's, since the earlier imports) follows: it draws the shelter as unusable
    const drawnUnusable = await other.waitForFunction(
      ([lon, lat, sid]) => {
        const R = 6378137;
        const map = window.onemap!.map as unknown as {
          getPixelFromCoordinate(c: number[]): number[];
          forEachFeatureAtPixel(p: number[], fn: (f: { getId(): unknown; get(k: string): unknown }) => boolean, o: object): boolean | undefined;
          render(): void;
        };
        map.render();
        const at = [(lon * Math.PI * R) / 180, R * Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360))];
        return map.forEachFeatureAtPixel(map.getPixelFromCoordinate(at), (f) => Number(f.getId()) === sid && f.get('usable') === false, { hitTolerance: 4 }) === true;
      },
      [SHELTER.lon, SHELTER.lat, id],
      { timeout: 5000, polling: 200 },
    );
    expect(await drawnUnusable.jsonValue()).toBe(true);

    await settle(page);
    await matchScreenshot('planner-import-flagged-en', await page.screenshot({ clip: (await page.locator('#side').boundingBox())! }));

    // a row click centres the map on that shelter
    await page.click(`.import-flagged tr[data-flagged-shelter="${id}"]`);
    const shelter = (await item('shelters', id)).body.geometry.coordinates;
    await waitForCentre(page, shelter[0], shelter[1]);
    const [x, y] = await page.evaluate(() => (window.onemap!.map.getView() as unknown as { getCenter(): number[] }).getCenter());
    const R = 6378137;
    expect((x / R) * (180 / Math.PI)).toBeCloseTo(shelter[0], 4);
    expect(Math.atan(Math.sinh(y / R)) * (180 / Math.PI)).toBeCloseTo(shelter[1], 4);
  });
});

describe('the page', () => {
  it('asked nothing of any other origin and logged no errors but the refusals the tests provoked', () => {
    expect(watch.foreign).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
    // 400 (field errors), 409 (check-out beyond occupancy), 412 (conflict), 422 (bad import row), 404 (no history yet),
    // and the import whose connection the test dropped.
    expect(watch.consoleErrors.filter((e) => !/status of (400|404|409|412|422)|ERR_CONNECTION_RESET/.test(e))).toEqual([]);
  });
});
