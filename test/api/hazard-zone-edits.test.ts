/**
 * Hazard-zone usability follows the hazards automatically: an edit or import of a
 * flood-prone spot or geohazard site through the server recomputes the shelters near
 * it in the same transaction (audited, announced after commit), and never touches an
 * editor's or a scenario's flag. On the grid fixture (test/fixtures/analysis/grid.json):
 * 300 m cells, S1 on the centre of cell (0, 1), S2 on (4, 1), S3 on (7, 1). A geohazard
 * site's zone is 200 m, a flood-prone spot's 100 m (server/risk/options.ts).
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
import type { ImportFlaggedShelter as ImportFlag } from '../../server/imports/import-job.ts';

const S1 = 900001;
const S2 = 900002;
const S3 = 900003;
let db: Db;
let app: Express;
let editor: string;
let pingshan: string;
const events: FeatureChange[] = [];
let stopRelay: () => Promise<void>;
const fx = readFixture('grid');
/** A point `dx` metres east of the centre of cell (col, row). */
const at = (col: number, row: number, dx: number) => ({ type: 'Point', coordinates: fixtureToLonLat(fx.origin, (col + 0.5) * fx.cell_size_m + dx, (row + 0.5) * fx.cell_size_m) });

beforeAll(async () => {
  ({ db, app, bearer: { editor, pingshan } } = await testApp({
    keys: { editor: { role: 'editor', name: 'planner Chen' }, pingshan: { role: 'editor', districts: ['pingshan'] } },
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

const shelter = async (id: number) => (await request(app).get(`/ogc/collections/shelters/items/${id}`).expect(200)).body.properties;
const usability = async (id: number) => {
  const p = await shelter(id);
  return { usable: p.usable, reason: p.unusable_reason, note: p.unusable_note, since: p.unusable_since };
};
const etag = async (layer: string, id: number) => (await request(app).get(`/ogc/collections/${layer}/items/${id}`).expect(200)).headers.etag as string;
const audits = async (id: number) =>
  (await db.query<{ actor: string; data_version: number; after: Record<string, unknown> }>(`SELECT actor, data_version::int8 AS data_version, after FROM audit_log WHERE layer = 'shelters' AND feature_id = $1 ORDER BY id`, [String(id)])).rows;
async function waitForEvent(pred: (c: FeatureChange) => boolean): Promise<FeatureChange> {
  for (let i = 0; i < 250 && !events.some(pred); i++) await new Promise((r) => setTimeout(r, 20));
  const found = events.find(pred);
  expect(found, 'the live event').toBeDefined();
  return found!;
}
const usabilityEvents = (id: number) => events.filter((c) => c.kind === 'usability' && c.id === id);

async function patch(layer: string, id: number, body: Record<string, unknown>, status = 200, key = editor) {
  const tag = await etag(layer, id);
  return request(app).patch(`/ogc/collections/${layer}/items/${id}`).set('authorization', key).set('if-match', tag).send({ type: 'Feature', properties: {}, ...body }).expect(status);
}

let site: number;

describe('hazard-zone usability follows edits of hazards', () => {

  it('a geohazard site written in plain SQL away from every shelter changes none', async () => {
    // The fixture district is not one an edit may name (district_id is an enum of the demo
    // districts), but its features can be edited; creation goes through the server below.
    const [lon, lat] = at(2, 1, 0).coordinates;
    const r = await db.query<{ id: number }>(
      `INSERT INTO geohazard_sites (district_id, name_zh, kind, scale, status, synthetic, geom)
       VALUES ('fixture_grid', '测试滑坡', 'landslide', 'small', 'active', true, ST_SetSRID(ST_MakePoint($1, $2), 4326)) RETURNING id::int8 AS id`,
      [lon, lat],
    );
    site = Number(r.rows[0].id);
    for (const id of [S1, S2, S3]) expect(await usability(id)).toEqual({ usable: true, reason: null, note: null, since: null });
    expect(await audits(S1)).toEqual([]);
  });

  it('moved to 150 m from S1: S1 is unusable (hazard_zone, note, since), audited with the edit’s data version, announced', async () => {
    const r = await patch('geohazard_sites', site, { geometry: at(0, 1, 150) });
    expect(JSON.parse(r.text).id).toBe(site);
    const u = await usability(S1);
    expect(u).toMatchObject({ usable: false, reason: 'hazard_zone' });
    expect(u.note).toMatch(new RegExp(`^within 200 m of active geohazard site ${site} \\(150(\\.\\d)? m\\)$`));
    expect(u.since).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(await usability(S2)).toMatchObject({ usable: true });
    const edit = await db.query<{ data_version: number }>(`SELECT data_version::int8 AS data_version FROM audit_log WHERE layer = 'geohazard_sites' AND feature_id = $1 ORDER BY id DESC LIMIT 1`, [String(site)]);
    const audit = await audits(S1);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: expect.stringContaining('planner Chen'), after: { usable: false, unusable_reason: 'hazard_zone' } });
    expect(Number(audit[0].data_version)).toBe(Number(edit.rows[0].data_version));
    const e = await waitForEvent((c) => c.kind === 'usability' && c.id === S1 && c.summary?.usable === false);
    expect(e).toMatchObject({ layer: 'shelters', op: 'update', summary: { unusable_reason: 'hazard_zone', previous_usable: true } });
    expect(Number(e.dataVersion)).toBe(Number(edit.rows[0].data_version));
  });

  it('coverage leaves S1 out at once (no recomputation call)', async () => {
    // S2's cols 3–5 only (test/api/shelter-usability.test.ts)
    const cov = (await request(app).get('/analysis/coverage?district=fixture_grid').expect(200)).body;
    expect(cov.total.covered_residents).toBe(1400);
  });

  it('an edit that does not move it (a field) keeps S1’s flag and since; nothing is written for S1', async () => {
    const before = await usability(S1);
    await patch('geohazard_sites', site, { properties: { people_threatened: 12 } });
    expect(await usability(S1)).toEqual(before);
    expect(await audits(S1)).toHaveLength(1);
  });

  it('moved on to 100 m from S2: S1 is usable again, S2 unusable; both audited', async () => {
    await patch('geohazard_sites', site, { geometry: at(4, 1, -100) });
    expect(await usability(S1)).toEqual({ usable: true, reason: null, note: null, since: null });
    expect(await usability(S2)).toMatchObject({ usable: false, reason: 'hazard_zone' });
    expect((await audits(S1)).map((a) => a.after.unusable_reason ?? null)).toEqual(['hazard_zone', null]);
    await waitForEvent((c) => c.kind === 'usability' && c.id === S1 && c.summary?.usable === true);
    await waitForEvent((c) => c.kind === 'usability' && c.id === S2 && c.summary?.usable === false);
  });

  it('treated (status), then deleted and restored: the flag goes, comes back, goes', async () => {
    await patch('geohazard_sites', site, { properties: { status: 'treated' } });
    expect(await usability(S2)).toMatchObject({ usable: true, reason: null });
    await patch('geohazard_sites', site, { properties: { status: 'active' } });
    expect(await usability(S2)).toMatchObject({ usable: false, reason: 'hazard_zone' });
    await request(app).delete(`/ogc/collections/geohazard_sites/items/${site}`).set('authorization', editor).set('if-match', await etag('geohazard_sites', site)).expect(204);
    expect(await usability(S2)).toMatchObject({ usable: true, reason: null });
    await request(app).post(`/ogc/collections/geohazard_sites/items/${site}/restore`).set('authorization', editor).expect(200);
    expect(await usability(S2)).toMatchObject({ usable: false, reason: 'hazard_zone' });
  });

  it('an editor’s flag is never touched: S3 flagged by hand stays as the editor left it when the site comes and goes', async () => {
    await patch('shelters', S3, { properties: { usable: false, unusable_note: '维修中' } });
    const flagged = await usability(S3);
    expect(flagged).toMatchObject({ usable: false, reason: 'editor', note: '维修中' });
    const auditsBefore = (await audits(S3)).length;
    await patch('geohazard_sites', site, { geometry: at(7, 1, -50) });
    // S2 is given back; S3's flag and note are the editor's
    expect(await usability(S2)).toMatchObject({ usable: true });
    expect(await usability(S3)).toEqual(flagged);
    await patch('geohazard_sites', site, { geometry: at(2, 1, 0) });
    expect(await usability(S3)).toEqual(flagged);
    expect(await audits(S3)).toHaveLength(auditsBefore);
    // the editor gives it back; the site is far away now
    await patch('shelters', S3, { properties: { usable: true } });
    expect(await usability(S3)).toMatchObject({ usable: true });
  });

  it('a scenario’s mark is never touched either', async () => {
    // a flood-prone spot 40 m from S2, flooding above 50 mm/h, written in plain SQL (no automatic effect)
    const [lon, lat] = at(4, 1, 40).coordinates;
    const spot = await db.query<{ id: number }>(
      `INSERT INTO flood_points (district_id, name_zh, kind, threshold_mm_h, status, synthetic, geom)
       VALUES ('fixture_grid', '测试积水点', 'black_spot', 50, 'active', true, ST_SetSRID(ST_MakePoint($1, $2), 4326)) RETURNING id::int8 AS id`,
      [lon, lat],
    );
    expect(await usability(S2)).toMatchObject({ usable: true });
    const run = (await request(app).post('/analysis/scenario').set('authorization', editor).send({ district: 'fixture_grid', rainfall_mm_h: 60, mark_unusable: true }).expect(200)).body.scenario_run;
    expect(run.shelters_marked_unusable).toEqual([S2]);
    const marked = await usability(S2);
    expect(marked).toMatchObject({ usable: false, reason: 'scenario' });
    // the site comes within 50 m of S2 (and the spot's zone holds it too), then leaves
    await patch('geohazard_sites', site, { geometry: at(4, 1, 50) });
    expect(await usability(S2)).toEqual(marked);
    await patch('geohazard_sites', site, { geometry: at(2, 1, 0) });
    expect(await usability(S2)).toEqual(marked);
    await request(app).delete(`/analysis/scenario/${run.id}`).set('authorization', editor).expect(200);
    expect(await usability(S2)).toMatchObject({ usable: true });
    await db.query('DELETE FROM flood_points WHERE id = $1', [Number(spot.rows[0].id)]);
  });

  it('a shelter moved into an active zone is flagged; moved out, given back', async () => {
    // the site sits on cell (2, 1); S1 moves 100 m west of it
    await patch('shelters', S1, { geometry: at(2, 1, -100) });
    expect(await usability(S1)).toMatchObject({ usable: false, reason: 'hazard_zone' });
    await patch('shelters', S1, { geometry: at(0, 1, 0) });
    expect(await usability(S1)).toMatchObject({ usable: true, reason: null });
  });

  it('a writer outside the district’s scope moves nothing, and no shelter changes', async () => {
    await patch('geohazard_sites', site, { geometry: at(0, 1, 100) }, 403, pingshan);
    expect(await usability(S1)).toMatchObject({ usable: true });
  });
});

/**
 * Creation and imports name a demo district: a Huadu shelter 500 m or more inside the
 * district, with no active flood-prone spot or geohazard site within 1 km and no other
 * shelter within 300 m, and points placed by PostGIS at given distances from it.
 */
describe('hazard-zone usability follows created and imported hazards', () => {
  let demo: number;
  const place = async (metres: number, azimuthDeg: number) => {
    const r = await db.query<{ x: number; y: number }>(
      `SELECT ST_X(p) AS x, ST_Y(p) AS y FROM (SELECT ST_Project(geom::geography, $2::float8, radians($3::float8))::geometry AS p FROM shelters WHERE id = $1) q`,
      [demo, metres, azimuthDeg],
    );
    return { type: 'Point', coordinates: [Number(r.rows[0].x), Number(r.rows[0].y)] };
  };
  const flood = (name: string, point: { type: string; coordinates: number[] }) => ({
    type: 'Feature',
    geometry: point,
    properties: { name_zh: name, district_id: 'huadu', kind: 'black_spot', threshold_mm_h: 30 },
  });
  const importFlood = (features: unknown[]) =>
    request(app).post('/import/flood_points').set('authorization', editor).set('content-type', 'application/geo+json').send(JSON.stringify({ type: 'FeatureCollection', features }));

  beforeAll(async () => {
    const r = await db.query<{ id: number }>(
      `SELECT s.id::int8 AS id FROM shelters s JOIN districts d ON d.id = s.district_id
        WHERE s.district_id = 'huadu' AND s.deleted_at IS NULL AND s.usable
          AND ST_Distance(ST_Boundary(d.geom)::geography, s.geom::geography) > 500
          AND NOT EXISTS (SELECT 1 FROM flood_points f WHERE f.deleted_at IS NULL AND f.status = 'active' AND ST_DWithin(f.geom::geography, s.geom::geography, 1000))
          AND NOT EXISTS (SELECT 1 FROM geohazard_sites g WHERE g.deleted_at IS NULL AND g.status = 'active' AND ST_DWithin(g.geom::geography, s.geom::geography, 1000))
          AND NOT EXISTS (SELECT 1 FROM shelters o WHERE o.id <> s.id AND o.deleted_at IS NULL AND ST_DWithin(o.geom::geography, s.geom::geography, 300))
        ORDER BY s.id LIMIT 1`,
    );
    expect(r.rows, 'a quiet demo shelter').toHaveLength(1);
    demo = Number(r.rows[0].id);
  });

  it('a geohazard site created 150 m from a shelter flags it; deleted, gives it back', async () => {
    const r = await request(app)
      .post('/ogc/collections/geohazard_sites/items')
      .set('authorization', editor)
      .send({ type: 'Feature', geometry: await place(150, 90), properties: { name_zh: '新建滑坡', district_id: 'huadu', kind: 'landslide', scale: 'small' } })
      .expect(201);
    const created = Number(JSON.parse(r.text).id);
    const u = await usability(demo);
    expect(u).toMatchObject({ usable: false, reason: 'hazard_zone' });
    expect(u.note).toMatch(new RegExp(`^within 200 m of active geohazard site ${created} \\(150(\\.\\d)? m\\)$`));
    await waitForEvent((c) => c.kind === 'usability' && c.id === demo && c.summary?.usable === false);
    await request(app).delete(`/ogc/collections/geohazard_sites/items/${created}`).set('authorization', editor).set('if-match', await etag('geohazard_sites', created)).expect(204);
    expect(await usability(demo)).toMatchObject({ usable: true, reason: null });
  });

  /** The second spot of that import, 400 m south of the demo shelter, left active. */
  let spotB: number;

  it('an import of flood-prone spots flags the shelters in their zones, in the import’s transaction', async () => {
    const rows = [flood('导入积水点甲', await place(60, 0)), flood('导入积水点乙', await place(400, 180))];
    // a dry run writes nothing, but predicts the shelters the import will flag
    const floodCount = async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM flood_points`)).rows[0].n;
    const countBefore = await floodCount();
    const auditsBefore = (await audits(demo)).length;
    const dry = await request(app).post('/import/flood_points?dryRun=true').set('authorization', editor).set('content-type', 'application/geo+json').send(JSON.stringify({ type: 'FeatureCollection', features: rows })).expect(200);
    expect(dry.body).toMatchObject({ status: 'valid', dryRun: true, imported: 0, ids: [] });
    expect(dry.body.sheltersFlagged.map((s: { id: number }) => s.id)).toContain(demo);
    expect(await usability(demo)).toMatchObject({ usable: true });
    expect(await floodCount()).toBe(countBefore);
    expect(await audits(demo)).toHaveLength(auditsBefore);
    const r = await importFlood(rows).expect(201);
    // The prediction is the commit's report, with the hazards the import creates named by their import row
    // (the dry run drew ids in a transaction it rolled back; the commit drew others).
    expect(r.body.sheltersFlagged.length).toBeGreaterThan(0);
    for (const s of r.body.sheltersFlagged) expect(s.hazard_zone.id).toBe(r.body.ids[s.hazard_zone.row - 1]);
    const predicted = r.body.sheltersFlagged.map((s: ImportFlag) => ({
      ...s,
      unusable_note: s.unusable_note.replace(` ${s.hazard_zone.id} (`, ` of import row ${s.hazard_zone.row} (`),
      hazard_zone: { ...s.hazard_zone, id: null },
    }));
    expect(dry.body.sheltersFlagged).toEqual(predicted);
    expect(r.body).toMatchObject({ status: 'imported', imported: 2 });
    const u = await usability(demo);
    expect(u).toMatchObject({ usable: false, reason: 'hazard_zone' });
    expect(u.note).toMatch(new RegExp(`^within 100 m of active flood point ${r.body.ids[0]} \\(60(\\.\\d)? m\\)$`));
    const importVersion = await db.query<{ data_version: number }>(`SELECT DISTINCT data_version::int8 AS data_version FROM audit_log WHERE layer = 'flood_points' AND feature_id = ANY($1)`, [
      r.body.ids.map(String),
    ]);
    expect(importVersion.rows).toHaveLength(1);
    // the report names every shelter the import made unusable (those audited with it), with its zone and the stored note
    const { properties: p, geometry } = (await request(app).get(`/ogc/collections/shelters/items/${demo}`).expect(200)).body;
    const [lon, lat] = geometry.coordinates;
    expect(r.body.sheltersFlagged).toContainEqual({
      id: demo,
      row: null,
      name_zh: p.name_zh,
      name_en: p.name_en ?? null,
      lon: expect.closeTo(lon, 6),
      lat: expect.closeTo(lat, 6),
      unusable_note: u.note,
      hazard_zone: { hazard: 'flood_point', id: r.body.ids[0], row: 1, distance_m: expect.closeTo(60, 0), within_m: 100 },
    });
    const flaggedWith = await db.query<{ id: string }>(
      `SELECT feature_id AS id FROM audit_log WHERE layer = 'shelters' AND data_version = $1 AND (after->>'usable')::boolean = false ORDER BY feature_id::int8`,
      [importVersion.rows[0].data_version],
    );
    expect(r.body.sheltersFlagged.map((s: { id: number }) => s.id)).toEqual(flaggedWith.rows.map((x) => Number(x.id)));
    for (const s of r.body.sheltersFlagged) {
      const stored = await usability(s.id);
      expect(stored).toMatchObject({ usable: false, reason: 'hazard_zone', note: s.unusable_note });
      expect(s.hazard_zone.distance_m).toBeLessThanOrEqual(s.hazard_zone.within_m);
      expect(r.body.ids).toContain(s.hazard_zone.id);
    }
    const audit = (await audits(demo)).at(-1)!;
    expect(audit).toMatchObject({ actor: expect.stringContaining('planner Chen'), after: { usable: false, unusable_reason: 'hazard_zone' } });
    expect(Number(audit.data_version)).toBe(Number(importVersion.rows[0].data_version));
    await waitForEvent((c) => c.kind === 'usability' && c.id === demo && c.summary?.usable === false && c.summary?.unusable_reason === 'hazard_zone' && Number(c.dataVersion) === Number(audit.data_version));
    spotB = r.body.ids[1];
    // the spot is treated (an edit): the shelter is usable again
    await patch('flood_points', r.body.ids[0], { properties: { status: 'treated' } });
    expect(await usability(demo)).toMatchObject({ usable: true, reason: null });
  });

  it('an import the database refuses at commit changes no shelter: no flag, no audit row, no event', async () => {
    // A check the database makes only at commit, after the import and its recomputation were written.
    await db.query(`CREATE FUNCTION test_refuse_flood() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN IF NEW.name_zh = '拒绝' THEN RAISE EXCEPTION 'refused at commit'; END IF; RETURN NULL; END $$`);
    await db.query(`CREATE CONSTRAINT TRIGGER test_refuse_flood AFTER INSERT ON flood_points DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_refuse_flood()`);
    try {
      const before = await usability(demo);
      expect(before.usable).toBe(true);
      const auditsBefore = (await audits(demo)).length;
      const floodCount = async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM flood_points`)).rows[0].n;
      const countBefore = await floodCount();
      const eventsBefore = usabilityEvents(demo).length;
      const r = await importFlood([flood('接受', await place(30, 0)), flood('拒绝', await place(500, 180))]).expect(422);
      const report = JSON.parse(r.text).report;
      expect(report, JSON.stringify(report.errors)).toMatchObject({ status: 'failed', imported: 0 });
      expect(report.errors[0].reason).toMatch(/refused at commit/);
      expect(report.sheltersFlagged).toEqual([]);
      expect(await floodCount()).toBe(countBefore);
      expect(await usability(demo)).toEqual(before);
      expect(await audits(demo)).toHaveLength(auditsBefore);
      // a later change arrives; the refused one never did (NOTIFY is delivered in commit order, and only on commit)
      const marker = await patch('geohazard_sites', site, { properties: { people_threatened: 13 } });
      const markerVersion = await db.query<{ data_version: number }>(`SELECT max(data_version)::int8 AS data_version FROM audit_log WHERE layer = 'geohazard_sites' AND feature_id = $1`, [String(site)]);
      await waitForEvent((c) => c.layer === 'geohazard_sites' && c.id === JSON.parse(marker.text).id && Number(c.dataVersion) === Number(markerVersion.rows[0].data_version));
      expect(usabilityEvents(demo)).toHaveLength(eventsBefore);
    } finally {
      await db.query('DROP TRIGGER test_refuse_flood ON flood_points');
      await db.query('DROP FUNCTION test_refuse_flood()');
    }
  });

  it('an import of shelters reports the imported shelters that lie in an active hazard’s zone, and only those', async () => {
    const shelterRow = (name: string, point: { type: string; coordinates: number[] }) => ({
      type: 'Feature',
      geometry: point,
      properties: { name_zh: name, district_id: 'huadu', setting: 'outdoor', shelter_class: 'emergency', effective_area_m2: 800, capacity: 500 },
    });
    // 50 m from the active spot (400 m south of the demo shelter), and 250 m from it
    const features = [shelterRow('导入场所近', await place(350, 180)), shelterRow('导入场所远', await place(150, 180))];
    const importShelters = (query: string) =>
      request(app).post(`/import/shelters${query}`).set('authorization', editor).set('content-type', 'application/geo+json').send(JSON.stringify({ type: 'FeatureCollection', features }));
    const dry = await importShelters('?dryRun=true').expect(200);
    const r = await importShelters('').expect(201);
    const [near, far] = r.body.ids;
    expect(await usability(near)).toMatchObject({ usable: false, reason: 'hazard_zone' });
    expect(await usability(far)).toMatchObject({ usable: true });
    expect(r.body.sheltersFlagged).toEqual([
      expect.objectContaining({
        id: near,
        row: 1,
        name_zh: '导入场所近',
        unusable_note: (await usability(near)).note,
        hazard_zone: { hazard: 'flood_point', id: spotB, row: null, distance_m: expect.closeTo(50, 0), within_m: 100 },
      }),
    ]);
    // the dry run predicted it: the same shelter by its import row (it had no id yet), the same zone and note
    expect(dry.body).toMatchObject({ status: 'valid', imported: 0, ids: [] });
    expect(dry.body.sheltersFlagged).toEqual(r.body.sheltersFlagged.map((s: ImportFlag) => ({ ...s, id: null })));
  });
});
