/**
 * Shelter usability as stored, audited data, on the grid fixture (test/analysis/coverage.test.ts
 * works it out by hand): S1 (cols 0–1) and S2 (cols 3–5) cover 900 + 1400 = 2300 of 4200
 * residents; S3 is closed. Each way a shelter becomes unusable — an editor's flag, a scenario
 * run, an active hazard's zone — leaves it out of coverage by default (S2 out: 900 covered;
 * S1 out: 1400) and include_unusable=true counts it again; each change is audited and announced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { testApp } from '../helpers/test-app.ts';
import type { Db } from '../../server/db/types.ts';
import { ChangeBus, type FeatureChange } from '../../server/changes.ts';
import { relayChanges } from '../../server/live/notify.ts';
import { silentLogger } from '../../server/log.ts';
import { fixtureToLonLat, loadGridFixture, readFixture } from '../analysis/fixture-db.ts';

const S1 = 900001;
const S2 = 900002;
let db: Db;
let app: Express;
let editor: string;
let viewer: string;
let pingshan: string;
const events: FeatureChange[] = [];
let stopRelay: () => Promise<void>;
const fx = readFixture('grid');
/** lon/lat of a point `dx` metres east of the centre of cell (col, row). */
const near = (col: number, row: number, dx: number) => fixtureToLonLat(fx.origin, (col + 0.5) * fx.cell_size_m + dx, (row + 0.5) * fx.cell_size_m);

beforeAll(async () => {
  ({ db, app, bearer: { editor, viewer, pingshan } } = await testApp({
    keys: { editor: { role: 'editor', name: 'planner Chen' }, viewer: 'viewer', pingshan: { role: 'editor', districts: ['pingshan'] } },
  }));
  await loadGridFixture(db);
  const bus = new ChangeBus();
  bus.on((c) => events.push(c));
  stopRelay = await relayChanges(db, bus, silentLogger);
});
afterAll(async () => {
  await stopRelay?.();
  await db?.close();
});

const covered = async (extra = '') => (await request(app).get(`/analysis/coverage?district=fixture_grid${extra}`).expect(200)).body.total.covered_residents as number;
const shelter = async (id: number) => (await request(app).get(`/ogc/collections/shelters/items/${id}`).expect(200)).body.properties;
const etag = async (id: number) => (await request(app).get(`/ogc/collections/shelters/items/${id}`).expect(200)).headers.etag as string;
const audits = async (id: number) =>
  (await db.query<{ actor: string; after: Record<string, unknown> }>(`SELECT actor, after FROM audit_log WHERE layer = 'shelters' AND feature_id = $1 ORDER BY id`, [String(id)])).rows;
const waitForEvent = async (pred: (c: FeatureChange) => boolean) => {
  for (let i = 0; i < 100 && !events.some(pred); i++) await new Promise((r) => setTimeout(r, 20));
  return events.find(pred);
};
async function addFloodPoint(col: number, row: number, dx: number, threshold: number): Promise<number> {
  const [lon, lat] = near(col, row, dx);
  const r = await db.query<{ id: number }>(
    `INSERT INTO flood_points (district_id, name_zh, kind, threshold_mm_h, status, synthetic, geom)
     VALUES ('fixture_grid', '测试积水点', 'black_spot', $1, 'active', true, ST_SetSRID(ST_MakePoint($2, $3), 4326)) RETURNING id::int8 AS id`,
    [threshold, lon, lat],
  );
  return Number(r.rows[0].id);
}

describe('shelter usability', () => {
  it('every shelter starts usable; the layer carries the columns (OGC)', async () => {
    expect(await shelter(S1)).toMatchObject({ usable: true, unusable_reason: null, unusable_note: null, unusable_since: null });
    expect(await covered()).toBe(2300);
  });

  it('an editor flags a shelter through the edit path with If-Match: reason editor, since set, audited, announced, left out', async () => {
    await request(app).patch(`/ogc/collections/shelters/items/${S2}`).set('authorization', editor).send({ type: 'Feature', properties: { usable: false } }).expect(428);
    await request(app).patch(`/ogc/collections/shelters/items/${S2}`).set('authorization', viewer).set('if-match', await etag(S2)).send({ type: 'Feature', properties: { usable: false } }).expect(403);
    // the reason and the time are the server's: an edit may not set them
    await request(app)
      .patch(`/ogc/collections/shelters/items/${S2}`)
      .set('authorization', editor)
      .set('if-match', await etag(S2))
      .send({ type: 'Feature', properties: { usable: false, unusable_reason: 'scenario' } })
      .expect(400);
    await request(app)
      .patch(`/ogc/collections/shelters/items/${S2}`)
      .set('authorization', editor)
      .set('if-match', await etag(S2))
      .send({ type: 'Feature', properties: { usable: false, unusable_note: '屋顶受损' } })
      .expect(200);
    const p = await shelter(S2);
    expect(p).toMatchObject({ usable: false, unusable_reason: 'editor', unusable_note: '屋顶受损' });
    expect(p.unusable_since).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect((await audits(S2)).at(-1)).toMatchObject({ actor: expect.stringContaining('planner Chen'), after: { usable: false, unusable_reason: 'editor', unusable_note: '屋顶受损' } });
    expect(await waitForEvent((c) => c.layer === 'shelters' && c.id === S2 && c.op === 'update')).toBeDefined();
    // S2 out: only S1's cols 0–1
    expect(await covered()).toBe(900);
    expect(await covered('&include_unusable=true')).toBe(2300);
    const cov = (await request(app).get('/analysis/coverage?district=fixture_grid').expect(200)).body;
    expect(cov.parameters).toMatchObject({ include_unusable: false, shelters_counted: 1 });
  });

  it('nearest shelters and the area summary leave it out unless asked', async () => {
    const [lon, lat] = near(4, 1, 10);
    const nearest = (await request(app).get(`/analysis/nearest-shelters?lon=${lon}&lat=${lat}&n=1&district=fixture_grid`).expect(200)).body;
    expect(nearest.shelters[0].id).toBe(S1);
    const withUnusable = (await request(app).get(`/analysis/nearest-shelters?lon=${lon}&lat=${lat}&n=1&district=fixture_grid&include_unusable=true`).expect(200)).body;
    expect(withUnusable.shelters[0]).toMatchObject({ id: S2, usable: false });
    const batch = (await request(app).post('/analysis/nearest-shelters').send({ points: [[lon, lat]], n: 1, district: 'fixture_grid' }).expect(200)).body;
    expect(batch.results[0].shelters[0].id).toBe(S1);
    const [x0, y0] = fixtureToLonLat(fx.origin, -10, -10);
    const [x1, y1] = fixtureToLonLat(fx.origin, 2410, 910);
    const area = { type: 'Polygon', coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] };
    const summary = (await request(app).post('/analysis/area-summary').send(area).expect(200)).body.shelters;
    // S1 600 m² only (S3 is closed, S2 unusable)
    expect(summary).toMatchObject({ counted: 1, effective_area_m2: 600, unusable: 1, unusable_counted: false });
    const all = (await request(app).post('/analysis/area-summary?include_unusable=true').send(area).expect(200)).body.shelters;
    expect(all).toMatchObject({ counted: 2, effective_area_m2: 2700 });
  });

  it('a scenario never overwrites an editor’s flag; the hazard-zone recomputation neither', async () => {
    const spot = await addFloodPoint(4, 1, 40, 50);
    const r = await request(app).post('/analysis/scenario').set('authorization', editor).send({ district: 'fixture_grid', rainfall_mm_h: 60, mark_unusable: true }).expect(200);
    expect(r.body.scenario_run).toMatchObject({ shelters_marked_unusable: [], already_unusable: [S2] });
    const z = await request(app).post('/shelters/usability/hazard-zones').set('authorization', editor).send({ district: 'fixture_grid' }).expect(200);
    expect(z.body).toMatchObject({ flagged: [], restored: [], in_hazard_zones: 1 });
    expect(await shelter(S2)).toMatchObject({ unusable_reason: 'editor' });
    await request(app).delete(`/analysis/scenario/${r.body.scenario_run.id}`).set('authorization', editor).expect(200);
    await db.query('UPDATE flood_points SET deleted_at = now() WHERE id = $1', [spot]);
    // the editor makes it usable again
    await request(app).patch(`/ogc/collections/shelters/items/${S2}`).set('authorization', editor).set('if-match', await etag(S2)).send({ type: 'Feature', properties: { usable: true } }).expect(200);
    expect(await shelter(S2)).toMatchObject({ usable: true, unusable_reason: null, unusable_note: null, unusable_since: null });
    expect(await covered()).toBe(2300);
  });

  it('a scenario run with mark_unusable marks the shelters it closes until DELETE ends it', async () => {
    // a flood-prone spot 40 m from S2 floods above 50 mm/h: S2 lies in its 100 m zone
    const spot = await addFloodPoint(4, 1, 40, 50);
    const body = { district: 'fixture_grid', rainfall_mm_h: 60, mark_unusable: true };
    await request(app).post('/analysis/scenario').send(body).expect(401);
    await request(app).post('/analysis/scenario').set('authorization', viewer).send(body).expect(403);
    await request(app).post('/analysis/scenario').set('authorization', pingshan).send(body).expect(403);
    const dry = await request(app).post('/analysis/scenario').set('authorization', editor).send({ ...body, rainfall_mm_h: 40 }).expect(200);
    expect(dry.body.scenario_run.shelters_marked_unusable).toEqual([]);
    await request(app).delete(`/analysis/scenario/${dry.body.scenario_run.id}`).set('authorization', editor).expect(200);

    const r = await request(app).post('/analysis/scenario').set('authorization', editor).send(body).expect(200);
    const run = r.body.scenario_run;
    expect(run).toMatchObject({ shelters_marked_unusable: [S2], already_unusable: [], end: `DELETE /analysis/scenario/${run.id}` });
    const p = await shelter(S2);
    expect(p).toMatchObject({ usable: false, unusable_reason: 'scenario', status: 'open' });
    expect(p.unusable_note).toMatch(new RegExp(`^scenario: within 100 m of flood point ${spot} `));
    expect((await audits(S2)).at(-1)).toMatchObject({ actor: expect.stringContaining('planner Chen'), after: { usable: false, unusable_reason: 'scenario' } });
    expect(await waitForEvent((c) => c.kind === 'usability' && c.id === S2 && c.summary?.usable === false)).toBeDefined();
    expect(await covered()).toBe(900);

    await request(app).delete(`/analysis/scenario/${run.id}`).set('authorization', viewer).expect(403);
    await request(app).delete(`/analysis/scenario/${run.id}`).set('authorization', pingshan).expect(403);
    const ended = await request(app).delete(`/analysis/scenario/${run.id}`).set('authorization', editor).expect(200);
    expect(ended.body).toMatchObject({ scenario_id: run.id, restored: [S2] });
    expect(await shelter(S2)).toMatchObject({ usable: true, unusable_reason: null });
    expect(await waitForEvent((c) => c.kind === 'usability' && c.id === S2 && c.summary?.usable === true)).toBeDefined();
    expect(await covered()).toBe(2300);
    await request(app).delete(`/analysis/scenario/${run.id}`).set('authorization', editor).expect(409);
    await request(app).delete('/analysis/scenario/999999').set('authorization', editor).expect(404);
    await db.query('UPDATE flood_points SET deleted_at = now() WHERE id = $1', [spot]);
  });

  it('POST /shelters/usability/hazard-zones flags shelters in an active hazard’s zone and gives them back when it is gone', async () => {
    await request(app).post('/shelters/usability/hazard-zones').send({}).expect(401);
    await request(app).post('/shelters/usability/hazard-zones').set('authorization', viewer).send({}).expect(403);
    await request(app).post('/shelters/usability/hazard-zones').set('authorization', pingshan).send({ district: 'fixture_grid' }).expect(403);
    await request(app).post('/shelters/usability/hazard-zones').set('authorization', editor).send({ district: 'nowhere' }).expect(404);
    // 60 m west of S1's cell centre (S1 sits there): inside the 100 m zone of a flood-prone spot
    const spot = await addFloodPoint(0, 1, -60, 80);
    const r = await request(app).post('/shelters/usability/hazard-zones').set('authorization', editor).send({ district: 'fixture_grid' }).expect(200);
    expect(r.body).toMatchObject({ flagged: [S1], restored: [] });
    const p = await shelter(S1);
    expect(p).toMatchObject({ usable: false, unusable_reason: 'hazard_zone' });
    expect(p.unusable_note).toMatch(new RegExp(`^within 100 m of active flood point ${spot} \\(60(\\.\\d)? m\\)$`));
    // S1 out: S2's cols 3–5
    expect(await covered()).toBe(1400);
    // again: nothing changes, no new data version
    const again = await request(app).post('/shelters/usability/hazard-zones').set('authorization', editor).send({ district: 'fixture_grid' }).expect(200);
    expect(again.body).toMatchObject({ flagged: [], restored: [], data_version: null });
    await db.query("UPDATE flood_points SET status = 'treated' WHERE id = $1", [spot]);
    const back = await request(app).post('/shelters/usability/hazard-zones').set('authorization', editor).send({ district: 'fixture_grid' }).expect(200);
    expect(back.body).toMatchObject({ flagged: [], restored: [S1] });
    expect(await covered()).toBe(2300);
    expect((await audits(S1)).map((a) => a.after.unusable_reason ?? null)).toEqual(['hazard_zone', null]);
  });
});
