/**
 * Browser tests drive the built client in Debian's Chromium (playwright-core,
 * never a downloaded browser) against the real server process on this test
 * file's own copy of the seeded database, on the backend of the vitest project.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ensureClientBuilt } from '../../client/build.ts';
import { copyTestDb, seeded } from '../setup/db.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import { TEST_ENV } from '../helpers/test-env.ts';
import { REGEN, goldenBytes } from '../helpers/golden.ts';

export const CHROMIUM = '/usr/bin/chromium';
/** Without the background-networking flags Chromium floods a closed network with refused connections. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // The memory test forces collections to measure what is really kept.
  '--js-flags=--expose-gc',
];

/** What the tests use of `window.onemap` (the client's app object, see client/src/app.ts). */
export interface OneMapHandle {
  map: { once(type: string, fn: () => void): void; render(): void; getView(): { getZoom(): number | undefined } };
  pixelOf(lon: number, lat: number): number[] | null;
  isOn(id: string): boolean;
  live: {
    handle(event: Record<string, unknown>): void;
    onEvent(fn: (event: Record<string, unknown>, alarming: boolean) => void): void;
    store: { size: { features: number; shelters: number } };
    flasher: { active: number };
    status: string;
  };
}

declare global {
  interface Window {
    onemap?: OneMapHandle;
    gc?: () => void;
  }
}

const FIXTURES = fileURLToPath(new URL('../fixtures/browser/', import.meta.url));
export { REGEN };

export interface OneMapServer {
  url: string;
  /** An API key with the editor role (to create features as a user would). */
  editorKey: string;
  /** Where the server's database is (`DATABASE_URL` on PostgreSQL), to write to it as psql or an ETL job would. */
  databaseUrl?: string;
  stop(): Promise<void>;
  /** Stops the server and starts it again on the same port and database. */
  restart(): Promise<void>;
  log(): string;
}

/** Builds the client if needed and starts the real server on a fresh copy of the seeded database; `env` adds settings. */
export async function startOneMap(env: Record<string, string> = {}): Promise<OneMapServer> {
  // A copy of the seeded database, so the server does not generate the demo data again. It is
  // not opened here: the server process is the only one to open it, and the seeded database
  // already holds an editor key for it (test/setup/seed-template.ts). At the start of a run the
  // seeded database may still be in the making: the client builds meanwhile.
  const [, copy] = await Promise.all([ensureClientBuilt(), copyTestDb()]);
  const editorKey = (await seeded()).browserEditorKey;
  // The map runs analyses from its first view (coverage, nearest shelters): its server starts its
  // analysis workers with it, as in production, rather than in the middle of a timed browser step.
  const serverEnv = { ...TEST_ENV, ...copy.env, LOG_LEVEL: 'info', WORKER_WARM_START: 'true', ...env };
  let server: RunningServer | null = await startServer(serverEnv, 170_000);
  const url = server.url;
  let earlier = '';
  return {
    url,
    editorKey,
    databaseUrl: copy.env.DATABASE_URL,
    async stop() {
      await server?.stop();
      server = null;
    },
    async restart() {
      earlier += server?.log() ?? '';
      await server?.stop();
      server = await startServer({ ...serverEnv, PORT: new URL(url).port }, 180_000);
    },
    log: () => earlier + (server?.log() ?? ''),
  };
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Chromium with a fresh profile directory, removed again on close; `hasTouch` emulates a touch screen. */
export async function launchBrowser(viewport = { width: 1280, height: 800 }, options: { hasTouch?: boolean } = {}): Promise<Browser> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'onemap-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport,
    deviceScaleFactor: 1,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    acceptDownloads: true,
    hasTouch: options.hasTouch ?? false,
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface PageWatch {
  /** Requests to any origin but the server's. */
  foreign: string[];
  consoleErrors: string[];
  pageErrors: string[];
  requests: string[];
}

/** Records what a page asks for and complains about. */
export function watchPage(page: Page, origin: string): PageWatch {
  const watch: PageWatch = { foreign: [], consoleErrors: [], pageErrors: [], requests: [] };
  page.on('request', (r) => {
    const url = r.url();
    watch.requests.push(url);
    if (!url.startsWith(`${origin}/`) && !url.startsWith('data:') && !url.startsWith('blob:')) watch.foreign.push(url);
  });
  page.on('console', (m) => {
    if (m.type() === 'error') watch.consoleErrors.push(`${m.text()} ${m.location().url ?? ''}`.trim());
  });
  page.on('pageerror', (e) => watch.pageErrors.push(e.message));
  return watch;
}

/** Opens the client and waits until the map has drawn everything it loaded. */
export async function openMap(page: Page, url: string): Promise<void> {
  // A page that loads the map while another page of the browser is in front gets about two
  // animation frames a second for as long as it lives (headless Chromium), and every click
  // then waits ~2 s for Playwright's two-frame stability check. In front while loading, it
  // keeps its 60 frames a second after another page comes to the front.
  await page.bringToFront();
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 60_000 });
  await settle(page);
}

/** Waits for the next complete render (every tile loaded and drawn), then a frame for the DOM. */
export async function settle(page: Page): Promise<void> {
  await page.evaluate(
    () =>
      new Promise<void>((resolve) => {
        const map = window.onemap!.map;
        map.once('rendercomplete', () => requestAnimationFrame(() => resolve()));
        map.render();
      }),
  );
}

export type Rgb = [number, number, number];

export function hexToRgb(hex: string): Rgb {
  const n = parseInt(hex.replace('#', ''), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** Pixels of each colour (every channel within `tolerance`) in a PNG. */
export async function countColours(png: Buffer, colours: Record<string, Rgb>, tolerance = 10): Promise<Record<string, number>> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const counts = Object.fromEntries(Object.keys(colours).map((k) => [k, 0]));
  const entries = Object.entries(colours);
  for (let i = 0; i < info.width * info.height * 3; i += 3) {
    for (const [name, [r, g, b]] of entries) {
      if (Math.abs(data[i] - r) <= tolerance && Math.abs(data[i + 1] - g) <= tolerance && Math.abs(data[i + 2] - b) <= tolerance) counts[name]++;
    }
  }
  return counts;
}

/** The map area not covered by the panels, as a screenshot clip. */
export async function mapClip(page: Page): Promise<{ x: number; y: number; width: number; height: number }> {
  return page.evaluate(() => {
    const map = document.getElementById('map')!.getBoundingClientRect();
    const left = document.getElementById('layers-panel')!.getBoundingClientRect();
    const side = document.getElementById('side')!.getBoundingClientRect();
    const x = Math.ceil(left.right + 2);
    const right = Math.floor(side.width > 0 ? side.left - 2 : map.right);
    return { x, y: Math.ceil(map.top), width: right - x, height: Math.floor(map.height) };
  });
}

export interface ScreenshotMatch {
  /** Share of pixels that differ by more than the threshold on some channel. */
  differing: number;
  regenerated: boolean;
}

/**
 * Compares a screenshot with test/fixtures/browser/<name>.png. A pixel differs
 * when a channel is off by more than `threshold`; antialiasing and the two tile
 * engines' rounding stay well under `maxDiffering`. REGEN=1 rewrites the file.
 */
export async function matchScreenshot(name: string, png: Buffer, opts: { threshold?: number; maxDiffering?: number } = {}): Promise<ScreenshotMatch> {
  const file = path.join(FIXTURES, `${name}.png`);
  if (!goldenBytes(`browser/${name}.png`, () => png)) return { differing: 0, regenerated: true };
  const threshold = opts.threshold ?? 48;
  const [a, b] = await Promise.all([file, png].map((src) => sharp(src).removeAlpha().raw().toBuffer({ resolveWithObject: true })));
  if (a.info.width !== b.info.width || a.info.height !== b.info.height) {
    throw new Error(`${name}: expected ${a.info.width}×${a.info.height}, got ${b.info.width}×${b.info.height} (REGEN=1 to accept)`);
  }
  let differing = 0;
  for (let i = 0; i < a.data.length; i += 3) {
    if (Math.abs(a.data[i] - b.data[i]) > threshold || Math.abs(a.data[i + 1] - b.data[i + 1]) > threshold || Math.abs(a.data[i + 2] - b.data[i + 2]) > threshold) differing++;
  }
  const share = differing / (a.info.width * a.info.height);
  if (share > (opts.maxDiffering ?? 0.02)) {
    const actual = path.join(os.tmpdir(), `onemap-${name}-actual.png`);
    fs.writeFileSync(actual, png);
    throw new Error(`${name}: ${(share * 100).toFixed(2)} % of pixels differ from ${file} (actual: ${actual}; REGEN=1 to accept a deliberate change)`);
  }
  return { differing: share, regenerated: false };
}

/** Where a lon/lat is on the page (CSS pixels), for clicks and pixel checks. */
export async function pagePointOf(page: Page, lon: number, lat: number): Promise<[number, number]> {
  const point = await page.evaluate(
    ([a, b]) => {
      const p = window.onemap!.pixelOf(a, b);
      const r = document.getElementById('map')!.getBoundingClientRect();
      return p ? [Math.round(r.left + p[0]), Math.round(r.top + p[1])] : null;
    },
    [lon, lat],
  );
  if (!point) throw new Error(`${lon},${lat} is not on the map`);
  return point as [number, number];
}

/**
 * Waits until the map's view has stopped animating with its centre on lon/lat (within
 * 5e-5°, what `toBeCloseTo(…, 4)` accepts), rather than a fixed pause that a loaded
 * machine can outlast. Gives up quietly after `timeoutMs`: the caller's assertions then
 * say where the view is.
 */
export async function waitForCentre(page: Page, lon: number, lat: number, timeoutMs = 10_000): Promise<void> {
  await page
    .waitForFunction(
      ([a, b]) => {
        const view = window.onemap!.map.getView() as unknown as { getAnimating(): boolean; getCenter(): number[] | undefined };
        const c = view.getCenter();
        if (view.getAnimating() || !c) return false;
        const R = 6378137;
        const centre = [(c[0] / R) * (180 / Math.PI), Math.atan(Math.sinh(c[1] / R)) * (180 / Math.PI)];
        return Math.abs(centre[0] - a) < 5e-5 && Math.abs(centre[1] - b) < 5e-5;
      },
      [lon, lat],
      { timeout: timeoutMs },
    )
    .catch(() => {});
}

/** Waits until the URL (written a moment after each change) satisfies `test`. */
export async function waitForUrl(page: Page, test: (q: URLSearchParams) => boolean): Promise<URLSearchParams> {
  const until = Date.now() + 5000;
  for (;;) {
    const q = new URL(page.url()).searchParams;
    if (test(q)) return q;
    if (Date.now() > until) throw new Error(`the URL did not follow: ${page.url()}`);
    await page.waitForTimeout(50);
  }
}

/** Demo features straight from the OGC API (what the map should be showing). */
export async function fetchFeatures(base: string, layer: string, query: Record<string, string>) {
  const u = new URL(`${base}/ogc/collections/${layer}/items`);
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  const res = await fetch(u);
  if (!res.ok) throw new Error(`${u}: HTTP ${res.status}`);
  return (await res.json()) as { features: { id: number | string; geometry: { coordinates: [number, number] }; properties: Record<string, unknown> }[] };
}

/**
 * How many CSS pixels a `<select>` leaves beside the text of its longest option (the text
 * measured in the select's own font), where Chromium draws its arrow. A select sized by
 * Chromium itself leaves about 21 px, and the last character of a Chinese name then runs
 * under the arrow (台风橙色预警 did); 24 px or more leaves every name whole.
 */
export async function selectRoom(page: Page, selector: string): Promise<number> {
  return page.$eval(selector, (el) => {
    const select = el as HTMLSelectElement;
    const css = getComputedStyle(select);
    const ctx = document.createElement('canvas').getContext('2d')!;
    ctx.font = `${css.fontStyle} ${css.fontWeight} ${css.fontSize} ${css.fontFamily}`;
    const text = Math.max(...[...select.options].map((o) => ctx.measureText(o.text).width));
    return select.clientWidth - parseFloat(css.paddingLeft) - parseFloat(css.paddingRight) - text;
  });
}
