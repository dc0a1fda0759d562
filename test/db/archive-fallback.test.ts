import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { backend } from '../setup/db.ts';
import { createSeededCluster, type ThrowawayCluster } from '../helpers/throwaway-pg.ts';
import { openPostgres } from '../../server/db/postgres.ts';
import { listenApp } from '../helpers/listen.ts';
import { silentLogger } from '../../server/log.ts';
import type { Db } from '../../server/db/types.ts';
import { getLayer, type LayerDef } from '../../catalog/layers.ts';
import { openArchive, type TileArchive } from '../../tiles/archive/archive-reader.ts';
import { districtBBox, exportArchive } from '../../server/tile-export/export.ts';
import { tileOf } from '../helpers/sse.ts';
import { ensureClientBuilt } from '../../client/build.ts';
import { launchBrowser, openMap } from '../browser/harness.ts';

/**
 * TILES_ARCHIVE: while the database is away, tiles the archive holds are
 * answered from it (saying so), the rest is 503; /ready names the archive;
 * once the database is back, tiles are live again. On a PostgreSQL cluster of
 * the test's own, stopped and started here.
 */
describe.skipIf(backend !== 'postgres')('tiles from an archive during a database outage', () => {
  let cluster: ThrowawayCluster;
  let db: Db;
  let close: (() => Promise<void>) | undefined;
  let base: string;
  let dir: string;
  let archive: TileArchive;
  let z12: string;
  const layers = ['districts', 'risk_points', 'shelters'].map((id) => getLayer(id)!) as LayerDef[];

  beforeAll(async () => {
    cluster = await createSeededCluster(inject('templateDbUrl'));
    db = await openPostgres({ connectionString: cluster.url('onemap'), max: 4, connectionTimeoutMillis: 2000 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onemap-fallback-'));
    const bbox = await districtBBox(db, ['jianghai']);
    const file = path.join(dir, 'jianghai.pmtiles');
    await exportArchive({ db, log: silentLogger, layers, bbox, minzoom: 8, maxzoom: 13, format: 'pmtiles', out: file });
    archive = await openArchive(file);
    const { z, x, y } = tileOf((bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2, 12);
    z12 = `${z}/${x}/${y}`;
    await ensureClientBuilt();
    ({ base, close } = await listenApp(db, { tileArchive: archive }));
  }, 180_000);

  afterAll(async () => {
    await close?.();
    await db?.close().catch(() => {});
    await archive?.close();
    cluster?.remove();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  // A query string the cache has not seen is not allowed everywhere; a fresh
  // tile is asked for by layer order instead, which the cache keys apart.
  const get = (p: string) => fetch(`${base}${p}`);

  it('answers live tiles, then the archive copy while the database is stopped, then live again', async () => {
    const live = await get(`/tiles/risk_points,shelters/${z12}.mvt`);
    expect(live.status).toBe(200);
    expect(live.headers.get('x-tiles-source')).toBeNull();
    const liveBytes = Buffer.from(await live.arrayBuffer());

    cluster.stop();
    try {
      // Not cached yet (another layer order), so it must come from the archive.
      const fromArchive = await get(`/tiles/shelters,risk_points/${z12}.mvt`);
      expect(fromArchive.status).toBe(200);
      expect(fromArchive.headers.get('x-tiles-source')).toBe('archive');
      expect(Date.parse(fromArchive.headers.get('x-tiles-archive-date')!)).toBeGreaterThan(Date.now() - 3_600_000);
      expect(fromArchive.headers.get('cache-control')).toBe('no-store');
      // The same layers as the live tile, in the asked order.
      const { splitLayers } = await import('../../tiles/archive/layer-split.ts');
      const a = splitLayers(Buffer.from(await fromArchive.arrayBuffer()));
      const b = splitLayers(liveBytes);
      expect([...a.keys()]).toEqual(['shelters', 'risk_points'].filter((id) => b.has(id)));
      for (const [id, bytes] of a) expect(bytes.equals(b.get(id)!)).toBe(true);

      // What the archive does not hold is still 503 with Retry-After.
      for (const p of [`/tiles/streets/${z12}.mvt`, `/tiles/risk_points/${z12}.mvt?level=red`, `/tiles/risk_points/15/0/0.mvt`]) {
        const r = await get(p);
        expect(r.status, p).toBe(503);
        expect(r.headers.get('retry-after')).toBeTruthy();
      }
      const ready = await get('/ready');
      expect(ready.status).toBe(503);
      const body = (await ready.json()) as { tiles_from_archive?: { layers: string[]; exported_at: string } };
      expect(body.tiles_from_archive?.layers).toEqual(['districts', 'risk_points', 'shelters']);
    } finally {
      cluster.start();
    }
    let back: Response | undefined;
    for (let i = 0; i < 40; i++) {
      back = await get(`/tiles/risk_points,districts/${z12}.mvt`);
      if (back.status === 200 && back.headers.get('x-tiles-source') === null) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(back!.status).toBe(200);
    expect(back!.headers.get('x-tiles-source')).toBeNull();
    expect((await get('/ready')).status).toBe(200);
  }, 180_000);

  it('a wall display says it shows the offline copy of its date, and stops saying so when the database is back', async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      let lastReady = 0;
      page.on('request', (r) => {
        if (new URL(r.url()).pathname === '/ready') lastReady = Date.now();
      });
      await openMap(page, `${base}/?mode=wall&lang=en`);
      expect(await page.locator('#offline-copy').isHidden()).toBe(true);
      const nextCheck = lastReady + 15_000;
      cluster.stop();
      try {
        // The notice checks /ready when the server says over the live stream that its database went away,
        // not only at its next check 15 s after the last (then every 3 s while the database is away).
        await page.waitForFunction(() => !document.getElementById('offline-copy')!.hidden, null, { timeout: 40_000 });
        expect(Date.now(), 'the notice shows before the next periodic check').toBeLessThan(nextCheck);
        const notice = page.locator('#offline-copy');
        expect(await notice.getAttribute('data-archive')).toBe(archive.json.exported_at);
        expect(await notice.textContent()).toMatch(/^Offline copy of /);
      } finally {
        cluster.start();
      }
      await page.waitForFunction(() => document.getElementById('offline-copy')!.hidden, null, { timeout: 40_000 });
    } finally {
      await browser.close();
    }
  }, 180_000);
});
