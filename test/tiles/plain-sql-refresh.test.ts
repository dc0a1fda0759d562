import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { testApp } from '../helpers/test-app.ts';
import { waitFor } from '../helpers/sse.ts';
import { ChangeBus, type FeatureChange } from '../../server/changes.ts';
import { tileContaining } from '../../tiles/tile-coords.ts';
import type { Db } from '../../server/db/types.ts';
import { currentDataVersion } from '../../server/db/data-version.ts';
import { LAYERS } from '../../catalog/layers.ts';
import { fetchTile } from './helpers/http.ts';
import { decodeTile } from './helpers/decode.ts';

// Rows written in plain SQL (psql, an ETL job) are announced at COMMIT (migration 017):
// the cached tiles of their layers go, and open maps hear of it, as after an edit
// made through the server.
let db: Db;
let app: Express;
let editor: string;
const heard: FeatureChange[] = [];
let point: { id: number; lon: number; lat: number; level: string };

beforeAll(async () => {
  const changes = new ChangeBus();
  changes.on((c) => heard.push(c));
  ({ db, app, bearer: { editor } } = await testApp({ keys: { editor: 'editor' }, app: { changes } }));
  await app.locals.ready;
  const r = await db.query<{ id: number; lon: number; lat: number; level: string }>(
    "SELECT id::int8 AS id, ST_X(geom) AS lon, ST_Y(geom) AS lat, level FROM risk_points WHERE district_id = 'huadu' AND level <> 'blue' AND deleted_at IS NULL ORDER BY id LIMIT 1",
  );
  point = { ...r.rows[0], id: Number(r.rows[0].id) };
});
afterAll(async () => db?.close());

const version = async () => Number(await currentDataVersion(db));
const heardFrom = (v: number) => heard.filter((c) => c.dataVersion === v);

/** The level the z16 tile holding the point gives it (the tile is cached after the first call). */
async function levelInTile(): Promise<unknown> {
  const t = tileContaining(point.lon, point.lat, 16);
  const r = await fetchTile(app, `/tiles/risk_points/16/${t.x}/${t.y}.mvt`);
  expect(r.status).toBe(200);
  return (decodeTile(r.body).risk_points ?? []).find((f) => f.id === point.id)?.properties.level;
}

describe('writes made in plain SQL', () => {
  it('every table whose writes move the data version is a layer\'s, or describes one (the catalogue knows what to announce)', async () => {
    const r = await db.query<{ name: string }>(
      `SELECT DISTINCT c.relname AS name FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid
        WHERE p.proname = 'data_version_touch' AND NOT t.tgisinternal ORDER BY 1`,
    );
    // audit rows waiting for their transaction's version (migration 015) are no features
    const tables = r.rows.map((row) => row.name).filter((t) => t !== 'audit_log_pending');
    expect(tables.length).toBeGreaterThan(10);
    const known = new Set(LAYERS.flatMap((l) => [l.table, ...(l.describedBy ?? [])]));
    expect(tables.filter((t) => !known.has(t))).toEqual([]);
  });

  it('drop the cached tiles of their layer, announced once with the version they committed', async () => {
    expect(await levelInTile()).toBe(point.level); // now cached
    await db.query("UPDATE risk_points SET level = 'blue' WHERE id = $1", [point.id]);
    const v = await version();
    await waitFor(() => (heardFrom(v).length ? true : undefined), 10_000, 'the change of the plain SQL write');
    expect(heardFrom(v)).toEqual([{ layer: 'risk_points', id: 'resync', op: 'update', summary: { resync: true }, dataVersion: v, tables: ['risk_points'] }]);
    expect(await levelInTile()).toBe('blue');
  });

  it('announce the layer a table describes, and every layer of a transaction', async () => {
    await db.tx(async (q) => {
      await q.query("UPDATE shelters SET name_zh = name_zh WHERE district_id = 'huadu'");
      await q.query("UPDATE flood_points SET name_zh = name_zh WHERE district_id = 'huadu'");
    });
    const both = await version();
    await waitFor(() => (heardFrom(both).length ? true : undefined), 10_000, 'the changes of the transaction');
    expect(heardFrom(both).map((c) => c.layer).sort()).toEqual(['flood_points', 'shelters']);

    // an inspection is no layer's own table: it changes what a risk point shows
    await db.query("INSERT INTO risk_inspections (risk_point_id, inspected_on, inspector, actor) VALUES ($1, current_date, '巡查员', 'psql')", [point.id]);
    const inspection = await version();
    await waitFor(() => (heardFrom(inspection).length ? true : undefined), 10_000, 'the change of the inspection');
    expect(heardFrom(inspection).map((c) => [c.layer, c.tables])).toEqual([['risk_points', ['risk_inspections']]]);
  });

  it('a statement that wrote no row changes nothing: an ETL job finding nothing new does not empty the caches', async () => {
    const before = await version();
    const count = heard.length;
    await db.query("UPDATE flood_points SET status = 'treated' WHERE district_id = 'no such district'");
    await db.query('DELETE FROM shelters WHERE id = -1');
    await db.query("INSERT INTO risk_points (district_id, name_zh, category, level, responsible_unit, synthetic, geom) SELECT district_id, name_zh, category, level, responsible_unit, synthetic, geom FROM risk_points WHERE false");
    await db.query('UPDATE risk_inspections SET findings = findings WHERE risk_point_id = -1');
    // the version moves, and the announcement is sent, when a transaction that wrote settles at COMMIT: neither happened
    expect(await version()).toBe(before);
    // In one transaction with a write that did write, only that one's table is announced.
    await db.tx(async (q) => {
      await q.query("UPDATE flood_points SET name_zh = name_zh WHERE district_id = 'no such district'");
      await q.query('UPDATE risk_points SET name_zh = name_zh WHERE id = $1', [point.id]);
    });
    const v = await version();
    expect(v).toBe(before + 1);
    await waitFor(() => (heardFrom(v).length ? true : undefined), 10_000, 'the change of the write');
    expect(heard.slice(count).map((c) => [c.layer, c.tables, c.dataVersion])).toEqual([['risk_points', ['risk_points'], v]]);
    // TRUNCATE shows no rows to the triggers: it always counts, even of an empty table.
    await db.query('TRUNCATE shelter_checkins');
    expect(await version()).toBe(v + 1);
    // and it is announced (awaited, so the announcement cannot land in the next case's window)
    await waitFor(() => (heardFrom(v + 1).length ? true : undefined), 10_000, 'the change of the TRUNCATE');
  });

  it('a rolled-back write announces nothing, and an edit through the server only its own change', async () => {
    const before = await version();
    const count = heard.length;
    await expect(
      db.tx(async (q) => {
        await q.query("UPDATE risk_points SET level = 'red' WHERE id = $1", [point.id]);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await version()).toBe(before);

    const read = await request(app).get(`/ogc/collections/risk_points/items/${point.id}`).expect(200);
    const edited = await request(app)
      .patch(`/ogc/collections/risk_points/items/${point.id}`)
      .set('authorization', editor)
      .set('if-match', read.headers.etag)
      .send({ type: 'Feature', properties: { level: 'yellow' } })
      .expect(200);
    const v = await version();
    expect(v).toBe(before + 1);
    await waitFor(() => (heardFrom(v).length ? true : undefined), 10_000, 'the change of the edit');
    // nothing from the rollback, and the edit's own change only (no second one at COMMIT)
    expect(heard.slice(count).map((c) => [c.layer, c.id, c.dataVersion])).toEqual([['risk_points', point.id, v]]);
    expect(edited.body.properties.level).toBe('yellow');
    expect(await levelInTile()).toBe('yellow');
  });
});
