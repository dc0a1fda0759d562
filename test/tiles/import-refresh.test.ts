import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { testDb } from '../setup/db.ts';
import { createKey } from '../../server/auth/keys.ts';
import { tileContaining } from '../../tiles/tile-coords.ts';
import type { Db } from '../../server/db/types.ts';
import { fetchTile } from './helpers/http.ts';
import { decodeTile } from './helpers/decode.ts';
import { appOn } from '../helpers/test-app.ts';

// An import is one change event for all its rows: the next tiles must hold every imported
// feature on either tile engine (ST_AsMVT on PostgreSQL, the in-process index on the embedded backend).
let db: Db;
let app: Express;
let editor: string;
const SPOT = { lon: 113.215, lat: 23.376 }; // inside Huadu
const at = tileContaining(SPOT.lon, SPOT.lat, 14);
const url = `/tiles/risk_points/14/${at.x}/${at.y}.mvt`;

beforeAll(async () => {
  db = await testDb();
  app = appOn(db);
  editor = `Bearer ${(await createKey(db, { name: 'import desk', role: 'editor' })).key}`;
});
afterAll(async () => db?.close());

async function importedInTile(): Promise<string[]> {
  const r = await fetchTile(app, url);
  if (r.status === 204) return [];
  return (decodeTile(r.body).risk_points ?? []).map((f) => String(f.properties.name_zh)).filter((n) => n.startsWith('瓦片导入测试'));
}

describe('tiles after an import', () => {
  it('show the imported features on the next request, the cached tile included', async () => {
    expect(await importedInTile()).toEqual([]); // also caches the tile and builds the engine's index
    const csv = [
      '名称,所属区,风险等级,类别,责任单位,经度,纬度',
      `瓦片导入测试甲,huadu,红,gas,花都区应急管理局,${SPOT.lon},${SPOT.lat}`,
      `瓦片导入测试乙,huadu,橙,fire,花都区应急管理局,${SPOT.lon + 0.001},${SPOT.lat}`,
    ].join('\n');
    await request(app).post('/import/risk_points').set('authorization', editor).set('content-type', 'text/csv').send(csv).expect(201);
    expect((await importedInTile()).sort()).toEqual(['瓦片导入测试乙', '瓦片导入测试甲'].sort());
  });
});
