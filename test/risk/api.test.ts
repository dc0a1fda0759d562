import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import ExcelJS from 'exceljs';
import type { Express } from 'express';
import { testApp } from '../helpers/test-app.ts';
import { expectGolden } from '../helpers/golden.ts';
import type { Db } from '../../server/db/types.ts';

/**
 * The one table, inspections by colour, levels and their disagreements,
 * GB 18218 substances, hazard exposure and scenarios — over HTTP on the demo
 * data. Golden outputs for exposure and scenario live in test/fixtures/risk
 * (REGEN=1 rewrites them after a deliberate change); both backends must
 * reproduce them exactly.
 */
const AS_OF = '2026-11-01'; // the demo data's as-of date (data/generate.ts DATA_AS_OF)

let db: Db;
let app: Express;
let editor: string;
let viewer: string;
let pingshanEditor: string;
beforeAll(async () => {
  ({ db, app, bearer: { editor, viewer, pingshanEditor } } = await testApp({ keys: { editor: { role: 'editor', name: 'risk officer' }, viewer: { role: 'viewer', name: 'duty desk' }, pingshanEditor: { role: 'editor', districts: ['pingshan'], name: 'pingshan desk' } } }));
});
afterAll(async () => db?.close());

/** Everything a risk write could touch; a refused request must leave it unchanged. */
async function checksum(): Promise<string> {
  const r = await db.query<{ s: string }>(
    `SELECT md5(string_agg(t, '|' ORDER BY t)) AS s FROM (
       SELECT 'r' || id || level || level_source || coalesce(level_reason, '') || coalesce(lec_l::text, '') || coalesce(last_inspection::text, '') || version AS t FROM risk_points
       UNION ALL SELECT 'i' || id FROM risk_inspections
       UNION ALL SELECT 'h' || id || level || coalesce(r_value::text, '') || major_hazard || version FROM hazard_sources
       UNION ALL SELECT 'a' || hazard_source_id || r_value FROM hazard_assessments
       UNION ALL SELECT 'q' || id FROM hazard_substances
       UNION ALL SELECT 's' || id || status || version FROM shelters
       UNION ALL SELECT 'l' || id FROM audit_log
       UNION ALL SELECT 'v' || version FROM data_version) x`,
  );
  return r.rows[0].s;
}

const dataVersion = async () => Number((await db.query<{ v: number }>('SELECT version AS v FROM data_version')).rows[0].v);

/** Compares with test/fixtures/risk/<name>.json; the data version (which other writes move) is left out. */
function golden(name: string, body: unknown): void {
  const strip = JSON.parse(JSON.stringify(body), (k, v) => (k === 'data_version' ? undefined : v));
  expectGolden(`risk/${name}.json`, strip);
}

// A typhoon warning over the northern hills of Huadu (synthetic; lon/lat WGS84).
const HUADU_NORTH = { type: 'Polygon', coordinates: [[[112.95, 23.45], [113.48, 23.45], [113.48, 23.62], [112.95, 23.62], [112.95, 23.45]]] };
const SCENARIO = { district: 'huadu', rainfall_mm_h: 65, warning_area: HUADU_NORTH };

/** A small square (about ±`m` metres) around a point. */
const squareAround = (lon: number, lat: number, m: number) => {
  const dx = m / 102_000;
  const dy = m / 110_700;
  return { type: 'Polygon', coordinates: [[[lon - dx, lat - dy], [lon + dx, lat - dy], [lon + dx, lat + dy], [lon - dx, lat + dy], [lon - dx, lat - dy]]] };
};

describe('golden outputs on the demo data', () => {
  it('exposure of Huadu: flagged shelters with reasons, exposed residents per street, coverage without the unusable shelters', async () => {
    const r = await request(app).get('/analysis/exposure?district=huadu').set('authorization', viewer).expect(200);
    golden('exposure-huadu', r.body);
    const { shelters, residents, coverage } = r.body;
    expect(shelters.closed + shelters.unusable + shelters.at_risk + shelters.not_flagged).toBe(shelters.total);
    // a closed shelter is out of service already, never flagged
    for (const s of shelters.flagged) expect(s.status).not.toBe('closed');
    for (const s of shelters.flagged) {
      expect(s.reasons.length).toBeGreaterThan(0);
      expect(s.flag).toBe(s.reasons[0].flag);
      for (const reason of s.reasons) expect(reason.distance_m).toBeLessThanOrEqual(reason.within_m);
    }
    // Exposed residents per street add up to the district's.
    const sum = (k: string) => residents.by_street.reduce((a: number, s: Record<string, number>) => a + s[k], 0);
    expect(sum('exposed_residents')).toBeLessThanOrEqual(residents.total.exposed_residents);
    expect(sum('residents')).toBeLessThanOrEqual(residents.total.residents);
    expect(residents.total.residents).toBe(1_107_200);
    // The coverage analysis agrees when asked for the same exclusion.
    const cov = await request(app).get(coverage.coverage_query).expect(200);
    expect(cov.body.total.covered_residents).toBe(coverage.after_excluding_unusable.covered_residents);
    expect(cov.body.parameters.excluded_shelters).toEqual(coverage.excluded_shelters);
    expect(coverage.before.covered_residents - coverage.after_excluding_unusable.covered_residents).toBe(coverage.residents_losing_cover);
  });

  it('exposure without an API key is computed without hazardous-chemical enterprises: none flags a shelter, the resident count near them is withheld', async () => {
    const anon = await request(app).get('/analysis/exposure?district=huadu').expect(200);
    const full = await request(app).get('/analysis/exposure?district=huadu').set('authorization', viewer).expect(200);
    expect(anon.body.restricted).toEqual(['hazard_sources']);
    expect(full.body.restricted).toEqual([]);
    const reasons = (body: { shelters: { flagged: { reasons: { hazard: string }[] }[] } }) => body.shelters.flagged.flatMap((s) => s.reasons);
    expect(reasons(full.body).some((x) => x.hazard.endsWith('hazard_source'))).toBe(true);
    expect(reasons(anon.body).some((x) => x.hazard.endsWith('hazard_source'))).toBe(false);
    // what the public hazards flag is the same for both
    const publicFlags = (body: { shelters: { flagged: { id: number; reasons: { hazard: string; id: number; flag: string }[] }[] } }) =>
      body.shelters.flagged.flatMap((s) => s.reasons.filter((x) => !x.hazard.endsWith('hazard_source')).map((x) => [s.id, x.hazard, x.id, x.flag]));
    expect(publicFlags(anon.body)).toEqual(publicFlags(full.body));
    expect(anon.body.residents.hazards.some((h: { hazard: string }) => h.hazard === 'major_hazard_source')).toBe(false);
    expect(anon.body.residents.total.near_major_hazard_sources).toBeNull();
    expect(anon.body.residents.by_street.every((s: { near_major_hazard_sources: unknown }) => s.near_major_hazard_sources === null)).toBe(true);
    expect(anon.body.residents.total.near_red_points).toBe(full.body.residents.total.near_red_points);
    expect(anon.body.residents.total.residents).toBe(full.body.residents.total.residents);
  });

  it('scenario in Huadu: 65 mm/h and a typhoon warning in the north; before − after = residents who lost cover; nothing stored', async () => {
    const before = await checksum();
    const r = await request(app).post('/analysis/scenario').send(SCENARIO).expect(200);
    golden('scenario-huadu', r.body);
    const { coverage, shelters, flood_points, geohazard_sites } = r.body;
    expect(r.body.applied).toBeNull();
    expect(flood_points.active.length).toBeGreaterThan(0);
    for (const f of flood_points.active) expect(f.rainfall_mm_h).toBeGreaterThan(f.threshold_mm_h);
    expect(geohazard_sites.active.length).toBeGreaterThan(0);
    expect(shelters.closed.length).toBeGreaterThan(0);
    expect(coverage.before.covered_residents - coverage.after.covered_residents).toBe(coverage.residents_losing_cover);
    expect(coverage.residents_gaining_cover).toBe(0);
    const lostByStreet = coverage.by_street.reduce((a: number, s: { residents_losing_cover: number }) => a + s.residents_losing_cover, 0);
    expect(lostByStreet).toBeLessThanOrEqual(coverage.residents_losing_cover);
    // Coverage before counts only shelters stored usable: a closed shelter already flagged (here both, each in the
    // zone of an active hazard since the data was loaded) was not counted before and takes nothing away.
    const stored = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM shelters WHERE id = ANY($1::bigint[]) AND usable', [shelters.closed.map((s: { id: number }) => s.id)]);
    expect(coverage.after.shelters_counted).toBe(coverage.before.shelters_counted - stored.rows[0].n);
    expect(await checksum()).toBe(before);
  });
});

describe('the one table', () => {
  it.each([
    ['yuexiu', { red: 0, orange: 1, yellow: 21, blue: 124, total: 146 }],
    ['huadu', { red: 1, orange: 3, yellow: 27, blue: 120, total: 151 }],
  ])('%s: counts equal the plan figures and the database', async (district, plan) => {
    const r = await request(app).get(`/risk/table?district=${district}&asOf=${AS_OF}`).expect(200);
    const { counts, points } = r.body;
    expect(counts.total).toEqual(plan);
    const own = await db.query<{ level: string; n: number }>('SELECT level, count(*)::int AS n FROM risk_points WHERE district_id = $1 AND deleted_at IS NULL GROUP BY level', [district]);
    for (const row of own.rows) expect(counts.total[row.level]).toBe(row.n);
    expect(points).toHaveLength(plan.total);
    // street × level and category × level add up to the same totals
    for (const level of ['red', 'orange', 'yellow', 'blue', 'total']) {
      const byStreet = counts.by_street.reduce((a: number, s: Record<string, number>) => a + s[level], 0) + counts.no_street[level];
      expect(byStreet, level).toBe(plan[level as keyof typeof plan]);
      expect(counts.by_category.reduce((a: number, s: Record<string, number>) => a + s[level], 0), level).toBe(plan[level as keyof typeof plan]);
      expect(counts.by_street_category.reduce((a: number, s: Record<string, number>) => a + s[level], 0), level).toBe(plan[level as keyof typeof plan]);
    }
    const byStreetDb = await db.query<{ street_id: string; n: number }>(
      'SELECT street_id, count(*)::int AS n FROM risk_points WHERE district_id = $1 AND deleted_at IS NULL GROUP BY street_id',
      [district],
    );
    for (const row of byStreetDb.rows) expect(counts.by_street.find((s: { street_id: string }) => s.street_id === row.street_id)?.total).toBe(row.n);
    const p = points[0];
    for (const k of ['name_zh', 'category', 'level', 'responsible_unit', 'last_inspection', 'next_due', 'lon', 'lat', 'assessed_level', 'level_disagrees']) expect(p).toHaveProperty(k);
  });

  it('CSV carries a UTF-8 BOM and one row per point; counts and hazard sources are other parts', async () => {
    const r = await request(app).get(`/risk/table?district=huadu&f=csv&asOf=${AS_OF}`).buffer(true).parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    }).expect(200);
    expect(r.headers['content-type']).toMatch(/^text\/csv; charset=utf-8/);
    expect(r.headers['content-disposition']).toMatch(/attachment; filename="?risk-table-huadu-2026-11-01\.csv"?$/);
    const bytes = r.body as Buffer;
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.toString('utf8').slice(1).trimEnd().split('\r\n');
    expect(lines).toHaveLength(152);
    expect(lines[0].split(',').slice(0, 8)).toEqual(['id', 'district_id', 'street_id', 'street_name_zh', 'name_zh', 'name_en', 'category', 'level']);
    expect(lines.slice(1).filter((l) => l.includes(',orange,')).length).toBe(3);
    expect(lines[1]).toContain('花都区');

    const counts = await request(app).get(`/risk/table?district=huadu&f=csv&part=counts&asOf=${AS_OF}`).expect(200);
    const rows = counts.text.replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    expect(rows[0]).toBe('district_id,street_id,street_name_zh,category,red,orange,yellow,blue,total');
    expect(rows.slice(1).reduce((a, l) => a + Number(l.split(',').at(-1)), 0)).toBe(151);

    await request(app).get('/risk/table?district=huadu&f=csv&part=hazard_sources').expect(401);
    const hs = await request(app).get('/risk/table?district=jianghai&f=csv&part=hazard_sources').set('authorization', viewer).expect(200);
    expect(hs.text.replace(/^\uFEFF/, '').trimEnd().split('\r\n')).toHaveLength(191);
  });

  it('XLSX opens with exceljs: counts, street × category and the list with Chinese values', async () => {
    const r = await request(app).get(`/risk/table?district=yuexiu&f=xlsx&asOf=${AS_OF}`).buffer(true).parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    }).expect(200);
    expect(r.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(r.body as unknown as ArrayBuffer);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['说明 About', '按街道 By street', '按类别 By category', '街道×类别 Street×category', '清单 Points']);
    const streets = wb.getWorksheet('按街道 By street')!;
    expect(streets.getRow(1).values).toContain('重大风险');
    let total = 0;
    let orange = 0;
    streets.eachRow((row, n) => {
      if (n > 2) {
        total += Number(row.getCell(8).value);
        orange += Number(row.getCell(5).value);
      }
    });
    expect([total, orange]).toEqual([146, 1]);
    const list = wb.getWorksheet('清单 Points')!;
    expect(list.rowCount).toBe(2 + 146);
    const levels = new Map<string, number>();
    list.eachRow((row, n) => {
      if (n > 2) levels.set(String(row.getCell(8).value), (levels.get(String(row.getCell(8).value)) ?? 0) + 1);
    });
    expect(Object.fromEntries(levels)).toEqual({ 较大风险: 1, 一般风险: 21, 低风险: 124 });
  });

  it('all districts at once, and hazard sources only with a key', async () => {
    const all = await request(app).get(`/risk/table?asOf=${AS_OF}`).expect(200);
    const n = Number((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM risk_points WHERE deleted_at IS NULL')).rows[0].n);
    expect(all.body.counts.total.total).toBe(n);
    await request(app).get('/risk/table?district=jianghai&include_hazard_sources=true').expect(401);
    const j = await request(app).get('/risk/table?district=jianghai&include_hazard_sources=true').set('authorization', viewer).expect(200);
    expect(j.body.hazard_sources).toHaveLength(190);
    expect(j.body.hazard_sources.filter((h: { major_hazard: boolean }) => h.major_hazard)).toHaveLength(4);
  });
});

describe('inspections by colour', () => {
  it('the due list agrees with the database’s own date arithmetic', async () => {
    const r = await request(app).get(`/risk/inspections/due?district=huadu&asOf=${AS_OF}`).expect(200);
    const own = await db.query<{ overdue: number; due_soon: number }>(
      `WITH p AS (
         SELECT (last_inspection + make_interval(months => CASE level WHEN 'red' THEN 1 WHEN 'orange' THEN 3 ELSE 6 END))::date AS due
           FROM risk_points WHERE district_id = 'huadu' AND deleted_at IS NULL AND level <> 'blue')
       SELECT count(*) FILTER (WHERE due < $1::date)::int AS overdue,
              count(*) FILTER (WHERE due >= $1::date AND due <= $1::date + 30)::int AS due_soon FROM p`,
      [AS_OF],
    );
    expect(r.body.summary).toEqual({ overdue: own.rows[0].overdue, never_inspected: 0, due_soon: own.rows[0].due_soon });
    expect(r.body.summary.overdue).toBeGreaterThan(0);
    for (const p of r.body.points) {
      expect(['overdue', 'due_soon']).toContain(p.status);
      if (p.status === 'overdue') expect(p.next_due < AS_OF).toBe(true);
    }
    // overdue first, most days first
    const overdue = r.body.points.filter((p: { status: string }) => p.status === 'overdue').map((p: { days_overdue: number }) => p.days_overdue);
    expect(overdue).toEqual([...overdue].sort((a, b) => b - a));
    // Blue: 30 % of 120 drawn for 2026, reproducibly
    expect(r.body.blue_sampling.huadu).toMatchObject({ blue_points: 120, sample_size: 36 });
    const again = await request(app).get(`/risk/inspections/due?district=huadu&asOf=${AS_OF}&within_days=61&level=blue`).expect(200);
    const b = r.body.blue_sampling.huadu;
    expect(again.body.points).toHaveLength(b.sample_size - b.sample_inspected);
    expect(again.body.points.every((p: { level: string; next_due: string }) => p.level === 'blue' && p.next_due === '2026-12-31')).toBe(true);
    const repeat = await request(app).get(`/risk/inspections/due?district=huadu&asOf=${AS_OF}&within_days=61&level=blue`).expect(200);
    expect(repeat.body.points.map((p: { id: number }) => p.id)).toEqual(again.body.points.map((p: { id: number }) => p.id));
  });

  it('recording an inspection moves the point out of the due list, with audit, data version and history', async () => {
    const due = await request(app).get(`/risk/inspections/due?district=huadu&asOf=${AS_OF}`).expect(200);
    const point = due.body.points.find((p: { status: string }) => p.status === 'overdue');
    const v0 = await dataVersion();
    const r = await request(app)
      .post(`/risk/points/${point.id}/inspections`)
      .set('authorization', editor)
      .send({ date: '2026-10-30', inspector: '王检查', findings: '消防通道堵塞，已现场整改', hazards_found: 2, hazards_fixed: 1 })
      .expect(201);
    expect(r.body.inspection).toMatchObject({ risk_point_id: point.id, date: '2026-10-30', inspector: '王检查', hazards_found: 2, hazards_fixed: 1 });
    expect(r.body.point.last_inspection).toBe('2026-10-30');
    expect(await dataVersion()).toBe(v0 + 1);
    const after = await request(app).get(`/risk/inspections/due?district=huadu&asOf=${AS_OF}`).expect(200);
    expect(after.body.points.some((p: { id: number }) => p.id === point.id)).toBe(false);
    expect(after.body.summary.overdue).toBe(due.body.summary.overdue - 1);
    const list = await request(app).get(`/risk/points/${point.id}/inspections`).expect(200);
    expect(list.body.inspections).toHaveLength(1);
    expect(list.body.inspections[0]).toMatchObject({ date: '2026-10-30', findings: '消防通道堵塞，已现场整改', recorded_by: expect.stringMatching(/^key#[0-9a-f]{10}$/) });
    const listed = await request(app).get(`/risk/points/${point.id}/inspections`).set('authorization', editor).expect(200);
    expect(listed.body.inspections[0].recorded_by).toContain('risk officer');
    const audit = await db.query<{ actor: string; after: { last_inspection: string } }>("SELECT actor, after FROM audit_log WHERE layer = 'risk_points' AND feature_id = $1", [String(point.id)]);
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0].after.last_inspection).toBe('2026-10-30');
    // An older inspection is recorded but never moves last_inspection back.
    const older = await request(app).post(`/risk/points/${point.id}/inspections`).set('authorization', editor).send({ date: '2026-09-01', inspector: '李检查' }).expect(201);
    expect(older.body.point.last_inspection).toBe('2026-10-30');
    // …and as of a date before both, the point is overdue again (history is by date)
    const past = await request(app).get(`/risk/table?district=huadu&asOf=2026-08-31`).expect(200);
    expect(past.body.points.find((p: { id: number }) => p.id === point.id).last_inspection).not.toBe('2026-10-30');
  });

  it.each([
    ['date', { date: '2026-02-30', inspector: 'x' }],
    ['date', { date: '30/10/2026', inspector: 'x' }],
    ['date', { date: '2999-01-01', inspector: 'x' }],
    ['inspector', { date: '2026-10-01', inspector: '  ' }],
    ['inspector', { date: '2026-10-01' }],
    ['hazards_fixed', { date: '2026-10-01', inspector: 'x', hazards_found: 1, hazards_fixed: 2 }],
    ['hazards_fixed', { date: '2026-10-01', inspector: 'x', hazards_fixed: -1 }],
    ['colour', { date: '2026-10-01', inspector: 'x', colour: 'red' }],
  ])('a bad %s is a 400 naming it, and nothing is stored', async (param, body) => {
    const before = await checksum();
    const r = await request(app).post('/risk/points/1/inspections').set('authorization', editor).send(body).expect(400);
    expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(JSON.parse(r.text).param).toBe(param);
    expect(await checksum()).toBe(before);
  });

  it('unknown point 404, bad id 400, no key 401, viewer 403, other district 403 — nothing stored', async () => {
    const before = await checksum();
    const body = { date: '2026-10-01', inspector: 'x' };
    expect(JSON.parse((await request(app).post('/risk/points/999999/inspections').set('authorization', editor).send(body).expect(404)).text).param).toBe('id');
    expect(JSON.parse((await request(app).post('/risk/points/abc/inspections').set('authorization', editor).send(body).expect(400)).text).param).toBe('id');
    await request(app).post('/risk/points/1/inspections').send(body).expect(401);
    await request(app).post('/risk/points/1/inspections').set('authorization', viewer).send(body).expect(403);
    await request(app).post('/risk/points/1/inspections').set('authorization', pingshanEditor).send(body).expect(403);
    await request(app).get('/risk/points/999999/inspections').expect(404);
    await request(app).get('/risk/inspections/due?asOf=2026-13-01').expect(400);
    expect(JSON.parse((await request(app).get('/risk/inspections/due?asOf=2026-13-01').expect(400)).text).param).toBe('asOf');
    expect(JSON.parse((await request(app).get('/risk/inspections/due?district=atlantis').expect(404)).text).param).toBe('district');
    expect(JSON.parse((await request(app).get('/risk/inspections/due?level=purple').expect(400)).text).param).toBe('level');
    expect(JSON.parse((await request(app).get('/risk/table?f=pdf').expect(400)).text).param).toBe('f');
    expect(await checksum()).toBe(before);
  });
});

describe('levels: assessed or set by hand, and their disagreements', () => {
  it('a hand-set level over LEC inputs shows up as a disagreement; LEC inputs make it assessed again', async () => {
    const d0 = await request(app).get('/risk/disagreements?district=huadu').expect(200);
    expect(d0.body.counts.risk_points).toBe(0);
    const assessed = (await db.query<{ id: number; level: string }>("SELECT id::int8 AS id, level FROM risk_points WHERE district_id = 'huadu' AND level_source = 'assessed' AND level = 'yellow' ORDER BY id LIMIT 1")).rows[0];
    const id = Number(assessed.id);
    const set = await request(app).put(`/risk/points/${id}/level`).set('authorization', editor).send({ level: 'orange', reason: '汛期提级管控' }).expect(200);
    expect(set.body).toMatchObject({ level: 'orange', level_source: 'manual', level_reason: '汛期提级管控', assessed_level: 'yellow', level_disagrees: true, previous_level: 'yellow' });
    const d1 = await request(app).get('/risk/disagreements?district=huadu').expect(200);
    expect(d1.body.risk_points).toEqual([expect.objectContaining({ id, level: 'orange', assessed_level: 'yellow', direction: 'raised', level_reason: '汛期提级管控' })]);
    const table = await request(app).get(`/risk/table?district=huadu&asOf=${AS_OF}`).expect(200);
    expect(table.body.counts.total).toMatchObject({ orange: 4, yellow: 26 });
    expect(table.body.points.find((p: { id: number }) => p.id === id)).toMatchObject({ level: 'orange', assessed_level: 'yellow', level_disagrees: true });

    // LEC 6 × 6 × 15 = 540: red, assessed; the disagreement is gone. A stale If-Match is refused.
    await request(app).put(`/risk/points/${id}/level`).set('authorization', editor).set('if-match', '"v1"').send({ lec_l: 6, lec_e: 6, lec_c: 15 }).expect(412);
    const lec = await request(app).put(`/risk/points/${id}/level`).set('authorization', editor).set('if-match', set.body.etag).send({ lec_l: 6, lec_e: 6, lec_c: 15 }).expect(200);
    expect(lec.body).toMatchObject({ level: 'red', level_source: 'assessed', level_reason: null, lec_d: 540, assessed_level: 'red', level_disagrees: false });
    expect((await request(app).get('/risk/disagreements?district=huadu').expect(200)).body.counts.risk_points).toBe(0);
    // Both changes are in the feature's history, with who made them (named to editors; viewers see a pseudonym).
    const history = await request(app).get(`/ogc/collections/risk_points/items/${id}/history`).set('authorization', editor).expect(200);
    expect(history.body.history.map((h: { after: { level: string } }) => h.after.level)).toEqual(['orange', 'red']);
    expect(history.body.history[0].actor).toContain('risk officer');
  });

  it.each([
    ['lec_l', { lec_l: 2, lec_e: 6, lec_c: 7 }],
    ['lec_e', { lec_l: 1, lec_e: 4, lec_c: 7 }],
    ['lec_c', { lec_l: 1, lec_e: 6, lec_c: 0 }],
    ['lec_c', { lec_l: 1, lec_e: 6 }],
    ['reason', { level: 'red' }],
    ['level', { level: 'purple', reason: 'x' }],
    ['level', { reason: 'x' }],
    ['lec_l', {}],
  ])('a bad %s is a 400 naming it, and nothing is stored', async (param, body) => {
    const before = await checksum();
    const r = await request(app).put('/risk/points/1/level').set('authorization', editor).send(body).expect(400);
    expect(JSON.parse(r.text).param).toBe(param);
    expect(await checksum()).toBe(before);
  });
});

describe('GB 18218 substances', () => {
  it('substances give S, R, major-hazard status and level; stored with audit; a disagreement appears when the level is moved by hand', async () => {
    const src = (await db.query<{ id: number }>("SELECT id::int8 AS id FROM hazard_sources WHERE district_id = 'jianghai' AND NOT major_hazard AND kind = 'storage' ORDER BY id LIMIT 1")).rows[0];
    const id = Number(src.id);
    const v0 = await dataVersion();
    // 120 t of liquid ammonia (Q 10, β 2) and 60 t of methanol (Q 500, β 1), 60 people nearby (α 1.5):
    // S = 12 + 0.12 = 12.12; R = 1.5 × (24 + 0.12) = 36.18 → yellow, major hazard source
    const r = await request(app)
      .put(`/risk/hazard-sources/${id}/substances`)
      .set('authorization', editor)
      .send({ people_exposed: 60, substances: [{ name_zh: '液氨', cas: '7664-41-7', q_t: 120, threshold_t: 10, beta: 2 }, { name_zh: '甲醇', q_t: 60, threshold_t: 500 }] })
      .expect(200);
    expect(r.body).toMatchObject({ hazard_source_id: id, alpha: 1.5, people_exposed: 60, sum_q_over_q: 12.12, r_value: 36.18, major_hazard: true, level: 'yellow' });
    expect(r.body.substances).toHaveLength(2);
    expect(await dataVersion()).toBe(v0 + 1);
    await request(app).get(`/risk/hazard-sources/${id}/assessment`).expect(401);
    const read = await request(app).get(`/risk/hazard-sources/${id}/assessment`).set('authorization', viewer).expect(200);
    expect(read.body).toMatchObject({ r_value: 36.18, substances: [{ name_zh: '液氨', beta: 2 }, { name_zh: '甲醇', beta: 1 }] });
    const row = (await db.query<{ r_value: number; major_hazard: boolean; level: string }>('SELECT r_value::float8 AS r_value, major_hazard, level FROM hazard_sources WHERE id = $1', [id])).rows[0];
    expect(row).toEqual({ r_value: 36.18, major_hazard: true, level: 'yellow' });

    // Someone sets the level by hand through the OGC edit API: the R grade now disagrees.
    const item = await request(app).get(`/ogc/collections/hazard_sources/items/${id}`).set('authorization', editor).expect(200);
    await request(app).patch(`/ogc/collections/hazard_sources/items/${id}`).set('authorization', editor).set('if-match', item.headers.etag).send({ type: 'Feature', properties: { level: 'blue' } }).expect(200);
    const anon = await request(app).get('/risk/disagreements?district=jianghai').expect(200);
    expect(anon.body.hazard_sources).toBeNull();
    const dis = await request(app).get('/risk/disagreements?district=jianghai').set('authorization', viewer).expect(200);
    expect(dis.body.hazard_sources).toEqual([expect.objectContaining({ id, level: 'blue', r_level: 'yellow', r_value: 36.18 })]);
  });

  it.each([
    ['substances.0.threshold_t', { alpha: 1, substances: [{ name_zh: '氯', q_t: 1, threshold_t: 0 }] }],
    ['substances.0.q_t', { alpha: 1, substances: [{ name_zh: '氯', q_t: -5, threshold_t: 5 }] }],
    ['substances.0.beta', { alpha: 1, substances: [{ name_zh: '氯', q_t: 1, threshold_t: 5, beta: 0 }] }],
    ['substances.0.cas', { alpha: 1, substances: [{ name_zh: '氯', cas: 'chlorine', q_t: 1, threshold_t: 5 }] }],
    ['substances', { alpha: 1, substances: [] }],
    ['alpha', { substances: [{ name_zh: '氯', q_t: 1, threshold_t: 5 }] }],
    ['alpha', { alpha: 1, people_exposed: 3, substances: [{ name_zh: '氯', q_t: 1, threshold_t: 5 }] }],
    ['alpha', { alpha: -1, substances: [{ name_zh: '氯', q_t: 1, threshold_t: 5 }] }],
  ])('a bad %s is a 400 naming it, and nothing is stored', async (param, body) => {
    const before = await checksum();
    const r = await request(app).put('/risk/hazard-sources/1/substances').set('authorization', editor).send(body).expect(400);
    expect(JSON.parse(r.text).param).toBe(param);
    expect(await checksum()).toBe(before);
  });

  it('unknown hazard source 404, nothing stored', async () => {
    const before = await checksum();
    await request(app).put('/risk/hazard-sources/999999/substances').set('authorization', editor).send({ alpha: 1, substances: [{ name_zh: '氯', q_t: 1, threshold_t: 5 }] }).expect(404);
    expect(await checksum()).toBe(before);
  });
});

describe('geohazard danger grades', () => {
  it('Huadu’s 39 sites graded by the higher of people threatened and potential loss', async () => {
    const r = await request(app).get('/risk/geohazards?district=huadu').expect(200);
    expect(r.body.counts.total).toBe(39);
    for (const s of r.body.sites) {
      const byPeople = s.people_threatened >= 1000 ? 'red' : s.people_threatened >= 500 ? 'orange' : s.people_threatened >= 100 ? 'yellow' : 'blue';
      expect(s.grade_by_people).toBe(byPeople);
    }
  });
});

describe('scenarios', () => {
  it('rain over the flood spot next to a shelter closes it and costs coverage; applying it closes the shelter in the data', async () => {
    // A shelter whose closure costs coverage: the first shelter the standing exposure flags whose exclusion lowers it.
    const exposure = await request(app).get('/analysis/exposure?district=huadu').set('authorization', viewer).expect(200);
    const base = exposure.body.coverage.before.covered_residents;
    let shelterId = 0;
    for (const s of exposure.body.shelters.flagged) {
      const c = await request(app).get(`/analysis/coverage?district=huadu&exclude_shelters=${s.id}`).expect(200);
      if (c.body.total.covered_residents < base) {
        shelterId = s.id;
        break;
      }
    }
    expect(shelterId).toBeGreaterThan(0);
    // A waterlogging spot 60 m east of it that floods above 40 mm/h, added through the edit API.
    const at = (await db.query<{ x: number; y: number }>('SELECT ST_X(geom) AS x, ST_Y(geom) AS y FROM shelters WHERE id = $1', [shelterId])).rows[0];
    const spotAt = [Number(at.x) + 60 / 102_000, Number(at.y)];
    const created = await request(app)
      .post('/ogc/collections/flood_points/items')
      .set('authorization', editor)
      .send({ type: 'Feature', geometry: { type: 'Point', coordinates: spotAt }, properties: { name_zh: '避难场所旁内涝点', district_id: 'huadu', kind: 'waterlogging', threshold_mm_h: 40 } })
      .expect(201);
    const spot = { id: created.body.id };
    // An active spot's 100 m zone makes the shelter unusable at once (docs/analysis.md, Shelter
    // usability); an editor judges it usable in dry weather, so the rain below is what closes it.
    const flagged = await request(app).get(`/ogc/collections/shelters/items/${shelterId}`).expect(200);
    expect(flagged.body.properties).toMatchObject({ usable: false, unusable_reason: 'hazard_zone' });
    await request(app)
      .patch(`/ogc/collections/shelters/items/${shelterId}`)
      .set('authorization', editor)
      .set('if-match', flagged.headers.etag)
      .send({ type: 'Feature', properties: { usable: true } })
      .expect(200);
    const threshold = 40;
    const area = squareAround(spotAt[0], spotAt[1], 50);
    const flooded = { id: shelterId, street_id: (await db.query<{ s: string }>('SELECT street_id AS s FROM shelters WHERE id = $1', [shelterId])).rows[0].s };

    // At the threshold nothing floods; above it the spot floods and the shelter closes.
    const dry = await request(app).post('/analysis/scenario').send({ district: 'huadu', rainfall_areas: [{ geometry: area, rainfall_mm_h: threshold }] }).expect(200);
    expect(dry.body.flood_points.active).toEqual([]);
    expect(dry.body.coverage.residents_losing_cover).toBe(0);
    const before = await checksum();
    const wet = await request(app).post('/analysis/scenario').send({ district: 'huadu', rainfall_areas: [{ geometry: area, rainfall_mm_h: threshold + 1 }] }).expect(200);
    expect(wet.body.flood_points.active.map((f: { id: number }) => f.id)).toEqual([spot.id]);
    expect(wet.body.shelters.closed.map((s: { id: number }) => s.id)).toEqual([flooded.id]);
    const { coverage } = wet.body;
    expect(coverage.residents_losing_cover).toBeGreaterThan(0);
    expect(coverage.before.covered_residents - coverage.after.covered_residents).toBe(coverage.residents_losing_cover);
    expect(coverage.before.residents).toBe(coverage.after.residents);
    expect(coverage.after.uncovered_residents - coverage.before.uncovered_residents).toBe(coverage.residents_losing_cover);
    const street = coverage.by_street.find((s: { id: string }) => s.id === flooded.street_id);
    expect(street).toMatchObject({ closed_shelters: 1 });
    expect(coverage.by_street.reduce((a: number, s: { residents_losing_cover: number }) => a + s.residents_losing_cover, 0)).toBeLessThanOrEqual(coverage.residents_losing_cover);
    expect(await checksum()).toBe(before);

    // Applying needs an editor; then the shelter is closed, audited, and coverage reads the new state.
    await request(app).post('/analysis/scenario').send({ district: 'huadu', rainfall_areas: [{ geometry: area, rainfall_mm_h: threshold + 1 }], apply: true }).expect(401);
    await request(app).post('/analysis/scenario').set('authorization', pingshanEditor).send({ district: 'huadu', rainfall_areas: [{ geometry: area, rainfall_mm_h: threshold + 1 }], apply: true }).expect(403);
    expect(await checksum()).toBe(before);
    const v0 = await dataVersion();
    const applied = await request(app)
      .post('/analysis/scenario')
      .set('authorization', editor)
      .send({ district: 'huadu', rainfall_areas: [{ geometry: area, rainfall_mm_h: threshold + 1 }], apply: true })
      .expect(200);
    expect(applied.body.applied).toEqual({ shelters_closed: [flooded.id], data_version: v0 + 1 });
    const status = (await db.query<{ status: string }>('SELECT status FROM shelters WHERE id = $1', [flooded.id])).rows[0].status;
    expect(status).toBe('closed');
    const now = await request(app).get('/analysis/coverage?district=huadu').expect(200);
    expect(now.body.total.covered_residents).toBe(coverage.after.covered_residents);
    // Run again: the shelter is already closed, so nothing more changes.
    const again = await request(app).post('/analysis/scenario').send({ district: 'huadu', rainfall_areas: [{ geometry: area, rainfall_mm_h: threshold + 1 }] }).expect(200);
    expect(again.body.shelters.closed).toEqual([]);
    expect(again.body.shelters.already_closed).toContain(flooded.id);
    expect(again.body.coverage.residents_losing_cover).toBe(0);
  });

  it('a typhoon may close outdoor shelters in the warning area', async () => {
    const r = await request(app).post('/analysis/scenario').send({ district: 'huadu', warning_area: HUADU_NORTH, close_outdoor_in_warning_area: true }).expect(200);
    const outdoor = r.body.shelters.closed.filter((s: { reasons: { hazard: string }[] }) => s.reasons.some((x) => x.hazard === 'warning_area'));
    expect(outdoor.length).toBeGreaterThan(0);
    expect(outdoor.every((s: { setting: string }) => s.setting === 'outdoor')).toBe(true);
    expect(r.body.coverage.before.covered_residents - r.body.coverage.after.covered_residents).toBe(r.body.coverage.residents_losing_cover);
  });

  const bowTie = { type: 'Polygon', coordinates: [[[113.2, 23.4], [113.3, 23.5], [113.3, 23.4], [113.2, 23.5], [113.2, 23.4]]] };
  it.each([
    ['rainfall_mm_h', { district: 'huadu', rainfall_mm_h: -1 }, 400],
    ['rainfall_mm_h', { district: 'huadu', rainfall_mm_h: '60' }, 400],
    ['rainfall_mm_h', { district: 'huadu' }, 400],
    ['rainfall_areas.0.rainfall_mm_h', { district: 'huadu', rainfall_areas: [{ geometry: HUADU_NORTH, rainfall_mm_h: -3 }] }, 400],
    ['warning_area', { district: 'huadu', warning_area: bowTie }, 400],
    ['warning_area.type', { district: 'huadu', warning_area: { type: 'Point', coordinates: [113.2, 23.4] } }, 400],
    ['district', { district: 'atlantis', rainfall_mm_h: 50 }, 404],
    ['apply', { district: 'huadu', rainfall_mm_h: 50, apply: 'yes' }, 400],
    ['typhoon', { district: 'huadu', rainfall_mm_h: 50, typhoon: true }, 400],
  ])('a bad %s is refused naming it, and nothing is stored', async (param, body, status) => {
    const before = await checksum();
    const r = await request(app).post('/analysis/scenario').set('authorization', editor).send({ ...body, apply: (body as { apply?: unknown }).apply ?? true }).expect(status);
    expect(JSON.parse(r.text).param).toBe(param);
    expect(await checksum()).toBe(before);
  });

  it('exposure refuses a missing or unknown district', async () => {
    expect(JSON.parse((await request(app).get('/analysis/exposure').expect(400)).text).param).toBe('district');
    expect(JSON.parse((await request(app).get('/analysis/exposure?district=atlantis').expect(404)).text).param).toBe('district');
    expect(JSON.parse((await request(app).get('/analysis/exposure?district=huadu&radius=5').expect(400)).text).param).toBe('radius');
  });
});
