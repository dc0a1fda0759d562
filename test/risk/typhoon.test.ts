import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { testApp, type TestApp } from '../helpers/test-app.ts';
import { DEFAULT_TYPHOON_LEVELS, TYPHOON_LEVELS } from '../../server/risk/typhoon.ts';

/**
 * Typhoon-level scenarios over HTTP on the demo data: `typhoon_level` stands for its
 * rainfall and outdoor closures (RiskOptions.typhoonLevels), refuses a rainfall beside
 * it, and GET /analysis/scenario/options lists the levels for the client's picker.
 */
let t: TestApp<'editor'>;
beforeAll(async () => {
  t = await testApp({ keys: { editor: 'editor' } });
});
afterAll(() => t.close());

const scenario = (body: Record<string, unknown>, status = 200) => request(t.app).post('/analysis/scenario').send(body).expect(status);
const ids = (list: { id: number }[]) => list.map((x) => x.id).sort((a, b) => a - b);

/** Shelters' statuses and the data version: a refused request must leave both unchanged. */
async function stored(): Promise<string> {
  const r = await t.db.query<{ s: string }>(
    `SELECT (SELECT version::text FROM data_version) || ':' || string_agg(id || status || version, ',' ORDER BY id) AS s FROM shelters`,
  );
  return r.rows[0].s;
}

describe('GET /analysis/scenario/options', () => {
  it('lists the four levels in order with their CMA winds and our rain and closures', async () => {
    const r = await request(t.app).get('/analysis/scenario/options').expect(200);
    expect(r.body.typhoon_levels.map((l: { level: string }) => l.level)).toEqual([...TYPHOON_LEVELS]);
    expect(r.body.typhoon_levels[2]).toMatchObject({ level: 'orange', name_zh: '台风橙色预警', lead_hours: 12, mean_wind_force: 10, gust_force: 12, mean_wind_min_ms: 24.5, rainfall_mm_h: 50, close_outdoor_shelters: true });
    expect(r.body.sources.rainfall_mm_h).toMatch(/our assumption/);
    expect(r.body.rainfall_mm_h).toEqual({ min: 0, max: 500 });
  });

  it('refuses a parameter by name', async () => {
    const r = await request(t.app).get('/analysis/scenario/options?district=huadu').expect(400);
    expect(JSON.parse(r.text).param).toBe('district');
  });
});

describe('POST /analysis/scenario with typhoon_level', () => {
  it('orange floods what 50 mm/h floods and, with no area drawn, closes every outdoor shelter in service in the district', async () => {
    const typhoon = (await scenario({ district: 'huadu', typhoon_level: 'orange' })).body;
    const rain = (await scenario({ district: 'huadu', rainfall_mm_h: DEFAULT_TYPHOON_LEVELS.orange.rainfall_mm_h })).body;
    expect(typhoon.parameters.rainfall_mm_h).toBe(50);
    expect(typhoon.parameters.typhoon_level).toMatchObject({ level: 'orange', rainfall_mm_h: 50, close_outdoor_shelters: true });
    expect(typhoon.parameters.close_outdoor_in_warning_area).toBe(true);
    expect(ids(typhoon.flood_points.active)).toEqual(ids(rain.flood_points.active));

    const outdoor = await t.db.query<{ id: number }>(`SELECT id::int8 AS id FROM shelters WHERE district_id = 'huadu' AND deleted_at IS NULL AND setting = 'outdoor' AND status <> 'closed'`);
    expect(outdoor.rows.length).toBeGreaterThan(0);
    const closedIds = ids(typhoon.shelters.closed);
    for (const o of outdoor.rows) expect(closedIds).toContain(Number(o.id));
    // the rain's closures are all there too, and every other closure is an outdoor one
    for (const id of ids(rain.shelters.closed)) expect(closedIds).toContain(id);
    const byWarning = typhoon.shelters.closed.filter((s: { reasons: { hazard: string }[] }) => s.reasons.some((x) => x.hazard === 'warning_area'));
    expect(byWarning.every((s: { setting: string }) => s.setting === 'outdoor')).toBe(true);
    expect(byWarning[0].reasons.find((x: { hazard: string }) => x.hazard === 'warning_area').detail).toEqual({ setting: 'outdoor', typhoon_level: 'orange' });
    expect(typhoon.coverage.before.covered_residents - typhoon.coverage.after.covered_residents).toBe(typhoon.coverage.residents_losing_cover);
    expect(typhoon.shelters.closed.length).toBeGreaterThan(rain.shelters.closed.length);
  });

  it('a higher level closes at least what a lower one closes; blue and yellow close no outdoor shelter for the wind', async () => {
    let previous: number[] = [];
    for (const level of TYPHOON_LEVELS) {
      const r = (await scenario({ district: 'huadu', typhoon_level: level })).body;
      const closed = ids(r.shelters.closed);
      for (const id of previous) expect(closed, level).toContain(id);
      const byWarning = r.shelters.closed.filter((s: { reasons: { hazard: string }[] }) => s.reasons.some((x) => x.hazard === 'warning_area'));
      expect(byWarning.length > 0, level).toBe(DEFAULT_TYPHOON_LEVELS[level].close_outdoor_shelters);
      previous = closed;
    }
  });

  it('the request may keep outdoor shelters open, and a warning area limits the closures to it', async () => {
    const open = (await scenario({ district: 'huadu', typhoon_level: 'red', close_outdoor_in_warning_area: false })).body;
    expect(open.shelters.closed.some((s: { reasons: { hazard: string }[] }) => s.reasons.some((x) => x.hazard === 'warning_area'))).toBe(false);
    const north = { type: 'Polygon', coordinates: [[[112.95, 23.45], [113.48, 23.45], [113.48, 23.62], [112.95, 23.62], [112.95, 23.45]]] };
    const inArea = (await scenario({ district: 'huadu', typhoon_level: 'red', warning_area: north })).body;
    const all = (await scenario({ district: 'huadu', typhoon_level: 'red' })).body;
    const outdoorClosed = (r: { shelters: { closed: { id: number; reasons: { hazard: string }[] }[] } }) => r.shelters.closed.filter((s) => s.reasons.some((x) => x.hazard === 'warning_area'));
    expect(outdoorClosed(inArea).length).toBeGreaterThan(0);
    expect(outdoorClosed(inArea).length).toBeLessThan(outdoorClosed(all).length);
  });

  it('typhoon_level with rainfall_mm_h is refused naming both, and nothing is stored', async () => {
    const before = await stored();
    const r = await request(t.app)
      .post('/analysis/scenario')
      .set('authorization', t.bearer.editor)
      .send({ district: 'huadu', typhoon_level: 'red', rainfall_mm_h: 80, apply: true })
      .expect(400);
    const problem = JSON.parse(r.text);
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(problem['invalid-params'].map((p: { name: string }) => p.name).sort()).toEqual(['rainfall_mm_h', 'typhoon_level']);
    expect(problem.detail).toMatch(/typhoon_level.*rainfall_mm_h|rainfall_mm_h.*typhoon_level/);
    expect(await stored()).toBe(before);
  });

  it.each([['purple'], [3], [null]])('an unknown level (%j) is refused naming typhoon_level', async (level) => {
    const r = await scenario({ district: 'huadu', typhoon_level: level }, 400);
    expect(JSON.parse(r.text).param).toBe('typhoon_level');
  });

  it('applied by an editor, the level’s closures are written', async () => {
    const r = await request(t.app).post('/analysis/scenario').set('authorization', t.bearer.editor).send({ district: 'huadu', typhoon_level: 'orange', apply: true }).expect(200);
    expect(r.body.applied.shelters_closed.length).toBe(r.body.shelters.closed.length);
    const statuses = await t.db.query<{ status: string }>(`SELECT status FROM shelters WHERE id = ANY($1::int8[])`, [r.body.applied.shelters_closed]);
    expect(statuses.rows.every((s) => s.status === 'closed')).toBe(true);
  });
});
