/**
 * No indirect leaks of restricted data: every answer an anonymous caller gets
 * is computed only from what it may see. Restricted hazardous-chemical
 * enterprises are added next to public shelters (one major hazard source
 * 500 m from a shelter, one ordinary enterprise 20 m from another) through the
 * edit API, and every anonymous answer must be byte-identical before and after.
 *
 * What may differ, and why:
 * - response headers (ETag, Last-Modified and the like follow the data version,
 *   which every committed edit moves, whatever the layer): never compared;
 * - `data_version` / `dataVersion` fields in JSON bodies: they say which state
 *   of the data an answer was computed from, and the edit moved it;
 * - `timeStamp` of OGC feature collections: the time the answer was made.
 * These are removed before comparing; everything else must be equal byte for byte.
 * Images (tiles, static maps, legends) carry no version and are compared as bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { testDb } from '../setup/db.ts';
import { createKey } from '../../server/auth/keys.ts';
import type { Db } from '../../server/db/types.ts';
import { LAYERS } from '../../catalog/layers.ts';
import { appOn } from '../helpers/test-app.ts';

let db: Db;
let app: Express;
let editor: string;
let near: { lon: number; lat: number; id: number };
let other: { lon: number; lat: number; id: number };

/** Tile x/y of a point at zoom z (web mercator). */
const tileOf = (lon: number, lat: number, z: number) => {
  const n = 2 ** z;
  const x = Math.floor(((lon + 180) / 360) * n);
  const r = (lat * Math.PI) / 180;
  const y = Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n);
  return { x, y };
};

beforeAll(async () => {
  db = await testDb();
  app = appOn(db, { PUBLIC_URL: 'http://onemap.test' });
  editor = `Bearer ${(await createKey(db, { name: 'chemicals desk', role: 'editor' })).key}`;
  const shelters = await db.query<{ id: number; lon: number; lat: number }>(
    `SELECT id::int8 AS id, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM shelters WHERE district_id = 'huadu' AND status = 'open' AND deleted_at IS NULL ORDER BY id LIMIT 2`,
  );
  [near, other] = shelters.rows.map((r) => ({ id: Number(r.id), lon: Number(r.lon), lat: Number(r.lat) }));
});
afterAll(async () => db?.close());

const publicLayers = LAYERS.filter((l) => l.access === 'public').map((l) => l.id);

/** Every anonymous question worth asking about Huadu and the place where the enterprises go. */
function questions(): { name: string; send: () => request.Test }[] {
  const { lon, lat } = near;
  const around = (m: number) => {
    const dx = m / 102_000;
    const dy = m / 110_700;
    return { type: 'Polygon', coordinates: [[[lon - dx, lat - dy], [lon + dx, lat - dy], [lon + dx, lat + dy], [lon - dx, lat + dy], [lon - dx, lat - dy]]] };
  };
  const bbox = [lon - 0.02, lat - 0.02, lon + 0.02, lat + 0.02].map((v) => v.toFixed(5)).join(',');
  const get = (path: string) => ({ name: `GET ${path}`, send: () => request(app).get(path) });
  const post = (path: string, body: object) => ({ name: `POST ${path} ${JSON.stringify(body).slice(0, 60)}`, send: () => request(app).post(path).send(body) });
  const tiles = [10, 13, 15].flatMap((z) => {
    const { x, y } = tileOf(lon, lat, z);
    return [get(`/tiles/${publicLayers.join(',')}/${z}/${x}/${y}.mvt`), get(`/tiles/hazard_sources/${z}/${x}/${y}.mvt`)];
  });
  return [
    get('/health'),
    get('/health/counts'),
    get('/layers'),
    get(`/tiles/${publicLayers.join(',')}.json`),
    get('/tiles/shelters.json'),
    get('/tiles/hazard_sources.json'),
    ...tiles,
    get('/ogc'),
    get('/ogc/collections'),
    get('/ogc/collections/shelters'),
    get('/ogc/collections/hazard_sources'),
    get(`/ogc/collections/shelters/items?bbox=${bbox}&limit=50`),
    get(`/ogc/collections/risk_points/items?bbox=${bbox}&limit=50`),
    get('/ogc/collections/hazard_sources/items?limit=5'),
    get('/analysis/coverage?district=huadu&shelters=true'),
    get('/analysis/coverage/gaps?district=huadu&limit=5'),
    get('/analysis/siting?district=huadu&k=3'),
    get('/analysis/exposure?district=huadu'),
    get(`/analysis/nearest-shelters?lon=${lon}&lat=${lat}&n=5`),
    post('/analysis/nearest-shelters', { points: [[lon, lat], [other.lon, other.lat]], n: 3 }),
    get('/analysis/resource-coverage?district=huadu&radius=2000'),
    post('/analysis/area-summary', around(1500)),
    post('/analysis/scenario', { district: 'huadu', rainfall_mm_h: 65, warning_area: around(3000), close_outdoor_in_warning_area: true }),
    post('/analysis/scenario', { district: 'huadu', typhoon_level: 'red' }),
    get('/risk/table?district=huadu&as_of=2026-11-01'),
    get('/risk/table?district=huadu&as_of=2026-11-01&f=csv&part=counts'),
    get('/risk/disagreements?district=huadu'),
    get('/risk/geohazards?district=huadu'),
    get('/risk/inspections/due?district=huadu&as_of=2026-11-01'),
    get(`/maps/static.png?bbox=${bbox}&width=300&height=200`),
    get(`/maps/static.png?bbox=${bbox}&width=300&height=200&layers=shelters,hazard_sources`),
    get('/maps/legend.png?layers=shelters,hazard_sources'),
  ];
}

/** Drops the fields that name the data version or the time of the answer (see the header comment); the rest stays as sent. */
const WHEN = new Set(['data_version', 'dataVersion', 'timeStamp']);
const withoutVersion = (text: string) => JSON.stringify(JSON.parse(text, (k, v) => (WHEN.has(k) ? undefined : v)));

async function answers(): Promise<Map<string, { status: number; type: string; body: string }>> {
  const out = new Map<string, { status: number; type: string; body: string }>();
  for (const q of questions()) {
    const r = await q.send().buffer(true).parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });
    const bytes = r.body as Buffer;
    const type = String(r.headers['content-type'] ?? '');
    const body = /json/.test(type) ? withoutVersion(bytes.toString('utf8')) : bytes.toString('base64');
    out.set(q.name, { status: r.status, type, body });
  }
  return out;
}

describe('restricted enterprises leave every anonymous answer unchanged', () => {
  it('adds a major hazard source 500 m from a public shelter and an enterprise 20 m from another: nothing an anonymous caller receives moves', async () => {
    const before = await answers();
    // the questions really are answered (not all refused), so equality means something
    expect([...before.values()].filter((a) => a.status === 200).length).toBeGreaterThan(25);

    const add = (lon: number, lat: number, props: object) =>
      request(app).post('/ogc/collections/hazard_sources/items').set('authorization', editor).send({ type: 'Feature', geometry: { type: 'Point', coordinates: [lon, lat] }, properties: props }).expect(201);
    await add(near.lon + 500 / 102_000, near.lat, { name_zh: '某化工储存企业', district_id: 'huadu', kind: 'storage', major_hazard: true, level: 'red', r_value: 120 });
    await add(other.lon + 20 / 102_000, other.lat, { name_zh: '某加油站', district_id: 'huadu', kind: 'gas_station', major_hazard: false, level: 'yellow', r_value: 12 });

    // a caller with a key sees the difference: the test would notice a leak
    const keyed = await request(app).get('/analysis/exposure?district=huadu').set('authorization', editor).expect(200);
    const flaggedBy = keyed.body.shelters.flagged.filter((s: { id: number }) => s.id === near.id || s.id === other.id);
    expect(flaggedBy.map((s: { id: number; flag: string }) => [s.id, s.flag]).sort()).toEqual([[near.id, 'unusable'], [other.id, 'unusable']].sort());

    const after = await answers();
    const changed = [...before.keys()].filter((k) => JSON.stringify(before.get(k)) !== JSON.stringify(after.get(k)));
    expect(changed).toEqual([]);
  }, 600_000); // about seventy answers twice, static maps and siting among them
});
