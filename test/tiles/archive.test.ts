import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb } from '../setup/db.ts';
import type { Db } from '../../server/db/types.ts';
import { silentLogger } from '../../server/log.ts';
import { ChangeBus } from '../../server/changes.ts';
import { TileService } from '../../tiles/service.ts';
import { getLayer, type LayerDef } from '../../catalog/layers.ts';
import { ANONYMOUS } from '../../catalog/access.ts';
import { openArchive } from '../../tiles/archive/archive-reader.ts';
import { districtBBox, exportArchive, tilesOfArea } from '../../server/tile-export/export.ts';
import { decodeTile } from './helpers/decode.ts';

// Tile archives hold exactly what the live server renders, and other tools read
// them: the pmtiles npm reader (PMTiles), GDAL's MBTiles/MVT driver and
// tileserver-gl-light (MBTiles).
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HAVE_GDAL = spawnSync('ogrinfo', ['--version']).status === 0;
if (!HAVE_GDAL) console.warn('test/tiles/archive.test.ts: GDAL checks skipped (Debian: apt-get install -y gdal-bin)');

let db: Db;
let dir: string;
let service: TileService;
const layers = ['districts', 'streets', 'risk_points', 'shelters', 'flood_points'].map((id) => getLayer(id)!) as LayerDef[];
let bbox: [number, number, number, number];
const MAXZOOM = 12;

beforeAll(async () => {
  db = await testDb();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onemap-archive-'));
  service = new TileService({ db, changes: new ChangeBus(), log: silentLogger }, { cacheBytes: 0 });
  bbox = await districtBBox(db, ['pingshan']);
  for (const format of ['pmtiles', 'mbtiles'] as const) {
    await exportArchive({ db, log: silentLogger, layers, bbox, minzoom: 0, maxzoom: MAXZOOM, format, out: path.join(dir, `pingshan.${format}`) });
  }
});

afterAll(async () => {
  await service?.close();
  await db?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function live(z: number, x: number, y: number): Promise<Buffer | null> {
  const { entry } = await service.tile({ layers, tile: { z, x, y }, filters: {}, who: ANONYMOUS, key: `t/${z}/${x}/${y}` });
  return entry.status === 200 ? entry.body : null;
}

describe.each(['pmtiles', 'mbtiles'] as const)('%s archive', (format) => {
  it('holds every tile of the area byte for byte as the server renders it, and nothing else', async () => {
    const archive = await openArchive(path.join(dir, `pingshan.${format}`));
    try {
      let stored = 0;
      for (const t of tilesOfArea(bbox, 0, MAXZOOM)) {
        const [a, b] = [await archive.getTile(t.z, t.x, t.y), await live(t.z, t.x, t.y)];
        expect(a === null ? null : a.toString('base64'), `${t.z}/${t.x}/${t.y}`).toBe(b === null ? null : b.toString('base64'));
        if (a) stored++;
      }
      expect(stored).toBeGreaterThan(10);
      // Outside the area and outside the zooms: nothing.
      expect(await archive.getTile(MAXZOOM + 1, 0, 0)).toBeNull();
      expect(await archive.getTile(5, 0, 0)).toBeNull();
    } finally {
      await archive.close();
    }
  });

  it('describes itself: zooms, bounds, layers and when it was made', async () => {
    const archive = await openArchive(path.join(dir, `pingshan.${format}`));
    try {
      expect([archive.minzoom, archive.maxzoom]).toEqual([0, MAXZOOM]);
      archive.bounds.forEach((v, i) => expect(v).toBeCloseTo(bbox[i], 5));
      expect(archive.json.layers).toEqual(layers.map((l) => l.id));
      expect(archive.json.vector_layers!.map((v) => v.id)).toEqual(layers.map((l) => l.id));
      expect(Date.now() - Date.parse(archive.json.exported_at!)).toBeLessThan(3_600_000);
      expect(archive.json.attribution).toMatch(/Synthetic/);
    } finally {
      await archive.close();
    }
  });
});

describe.runIf(HAVE_GDAL)('GDAL reads the MBTiles archive', () => {
  it('ogrinfo lists the layers and counts the same risk points as the tiles hold at z12', async () => {
    const file = path.join(dir, 'pingshan.mbtiles');
    const r = spawnSync('ogrinfo', ['-ro', '-al', '-so', '-oo', `ZOOM_LEVEL=${MAXZOOM}`, file], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    for (const l of layers) expect(r.stdout).toContain(`Layer name: ${l.id}`);
    const count = Number(/Layer name: risk_points[\s\S]*?Feature Count: (\d+)/.exec(r.stdout)![1]);
    let expected = 0;
    const archive = await openArchive(file);
    try {
      for (const t of tilesOfArea(bbox, MAXZOOM, MAXZOOM)) {
        const tile = await archive.getTile(t.z, t.x, t.y);
        // GDAL merges a feature split across tiles by id; count distinct ids.
        if (tile) expected += new Set((decodeTile(tile).risk_points ?? []).map((f) => f.id)).size;
      }
    } finally {
      await archive.close();
    }
    expect(count).toBe(expected);
  });
});

const TILESERVER = path.join(ROOT, 'node_modules/.bin/tileserver-gl');
describe.runIf(fs.existsSync(TILESERVER))('tileserver-gl-light serves the MBTiles archive', () => {
  it('answers a tile with the bytes the server rendered', async () => {
    const work = path.join(dir, 'tileserver');
    fs.mkdirSync(work);
    fs.copyFileSync(path.join(dir, 'pingshan.mbtiles'), path.join(work, 'pingshan.mbtiles'));
    // An explicit root: the package looks for its styles beside itself, where npm may not have put them.
    fs.writeFileSync(
      path.join(work, 'config.json'),
      JSON.stringify({ options: { paths: { root: work, mbtiles: work, fonts: '', styles: '', sprites: '' } }, data: { pingshan: { mbtiles: 'pingshan.mbtiles' } } }),
    );
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn(TILESERVER, ['-c', path.join(work, 'config.json'), '--port', String(port), '--bind', '127.0.0.1', '--silent'], { stdio: 'ignore' });
    try {
      const base = `http://127.0.0.1:${port}`;
      // Up once /health says its start-up is complete: it listens, and answers /data.json, while
      // the MBTiles is still being opened, and a tile asked for then is a 404 (seen under a whole
      // run's load).
      let up = false;
      for (let i = 0; i < 120 && !up; i++) {
        up = await fetch(`${base}/health`).then((r) => r.ok, () => false);
        if (!up) await new Promise((r) => setTimeout(r, 500));
      }
      expect(up).toBe(true);
      const t = [...tilesOfArea(bbox, MAXZOOM, MAXZOOM)].find(() => true)!;
      let checked = 0;
      for (const tile of tilesOfArea(bbox, MAXZOOM, MAXZOOM)) {
        const mine = await live(tile.z, tile.x, tile.y);
        if (!mine) continue;
        const res = await fetch(`${base}/data/pingshan/${tile.z}/${tile.x}/${tile.y}.pbf`, { headers: { 'accept-encoding': 'identity' } });
        expect(res.status).toBe(200);
        let body = Buffer.from(await res.arrayBuffer());
        if (body[0] === 0x1f && body[1] === 0x8b) body = gunzipSync(body);
        expect(body.equals(mine)).toBe(true);
        if (++checked >= 3) break;
      }
      expect(checked, `no stored tile at z${t.z}`).toBeGreaterThan(0);
    } finally {
      child.kill('SIGTERM');
    }
  }, 90_000);
});
