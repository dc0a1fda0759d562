import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Express } from 'express';
import { testApp } from '../helpers/test-app.ts';
import { createKey } from '../../server/auth/keys.ts';
import { LAYERS } from '../../catalog/layers.ts';
import { tileContaining } from '../../tiles/tile-coords.ts';
import type { Db } from '../../server/db/types.ts';
import { fetchTile } from './helpers/http.ts';
import { decodeTile } from './helpers/decode.ts';
import { lintTile } from './helpers/mvt-lint.ts';

/**
 * Every tile the server makes must be well formed in the ways decoders do not
 * check: version 2 in every layer, unique layer names, one geometry and one type
 * per feature, tags in pairs pointing into the tables, no duplicate keys, no
 * repeated points, rings with area. Checked over every layer, several zooms and
 * the five demo districts, as a caller who sees everything.
 */
let db: Db;
let app: Express;
let auth: Record<string, string>;
beforeAll(async () => {
  ({ db, app } = await testApp());
  auth = { authorization: `Bearer ${(await createKey(db, { name: 'lint', role: 'viewer' })).key}` };
});
afterAll(async () => db?.close());

const PLACES: [string, number, number][] = [
  ['yuexiu', 113.27, 23.13],
  ['huadu', 113.22, 23.4],
  ['wujiang', 113.59, 24.8],
  ['pingshan', 114.35, 22.7],
  ['jianghai', 113.12, 22.55],
];

describe('tile structure', () => {
  it.each(LAYERS.map((l) => [l.id, l] as const))('%s: every tile is well formed', async (_id, layer) => {
    const zooms = [...new Set([layer.minzoom, 6, 9, 11, 12, 14, Math.min(layer.maxzoom, 16)])].filter((z) => z >= layer.minzoom && z <= layer.maxzoom);
    let withData = 0;
    for (const z of zooms) {
      for (const [, lon, lat] of PLACES) {
        const t = tileContaining(lon, lat, z);
        const r = await fetchTile(app, `/tiles/${layer.id}/${z}/${t.x}/${t.y}.mvt`, auth);
        expect([200, 204]).toContain(r.status);
        if (r.status === 204) continue;
        withData++;
        expect(lintTile(r.body), `${layer.id} ${z}/${t.x}/${t.y}`).toEqual([]);
        expect(Object.keys(decodeTile(r.body))).toEqual([layer.id]);
      }
    }
    expect(withData).toBeGreaterThan(0);
  });

  it('a tile of every layer at once has each layer once, all version 2', async () => {
    const ids = LAYERS.map((l) => l.id).join(',');
    for (const z of [8, 12, 15]) {
      const t = tileContaining(113.27, 23.13, z);
      const r = await fetchTile(app, `/tiles/${ids}/${z}/${t.x}/${t.y}.mvt`, auth);
      expect(r.status).toBe(200);
      expect(lintTile(r.body)).toEqual([]);
      const names = Object.keys(decodeTile(r.body));
      expect(new Set(names).size).toBe(names.length);
      expect(names.length).toBeGreaterThan(3);
    }
  });
});
