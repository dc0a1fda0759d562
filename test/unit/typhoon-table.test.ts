import { describe, expect, it } from 'vitest';
import { DEFAULT_RISK_OPTIONS as O, riskOptions } from '../../server/risk/options.ts';
import { checkRiskOptions } from '../../server/risk/grading.ts';
import { scenarioEffects } from '../../server/risk/scenario.ts';
import { BEAUFORT_MIN_MS, DEFAULT_TYPHOON_LEVELS, TYPHOON_LEVELS, typhoonLevelLine, typhoonTableProblems, type TyphoonLevelRule } from '../../server/risk/typhoon.ts';
import { metresPerDegree } from '../../server/analysis/geodesy.ts';
import type { Shelter } from '../../server/analysis/model.ts';
import type { DistrictHazards } from '../../server/risk/hazards.ts';

/** The typhoon warning-signal table (CMA's lead times and winds, our rain and closures) and the rule it must keep. */

describe('typhoon warning signals', () => {
  it.each([
    // level, lead hours, mean wind force, gust force — CMA Order No. 16 (2007), annex
    ['blue', 24, 6, 8],
    ['yellow', 24, 8, 10],
    ['orange', 12, 10, 12],
    ['red', 6, 12, 14],
  ] as const)('%s: within %i h, mean wind ≥ force %i or gusts ≥ force %i (CMA)', (level, hours, mean, gust) => {
    const r = DEFAULT_TYPHOON_LEVELS[level];
    expect(r.level).toBe(level);
    expect([r.lead_hours, r.mean_wind_force, r.gust_force]).toEqual([hours, mean, gust]);
  });

  it('our assumptions: 20/35/50/70 mm/h, outdoor shelters close from orange up', () => {
    expect(TYPHOON_LEVELS.map((l) => DEFAULT_TYPHOON_LEVELS[l].rainfall_mm_h)).toEqual([20, 35, 50, 70]);
    expect(TYPHOON_LEVELS.map((l) => DEFAULT_TYPHOON_LEVELS[l].close_outdoor_shelters)).toEqual([false, false, true, true]);
  });

  it('wind speeds are the lower bounds of the Beaufort forces (GB/T 28591-2012)', () => {
    expect(typhoonLevelLine(DEFAULT_TYPHOON_LEVELS.blue)).toMatchObject({ mean_wind_min_ms: 10.8, gust_min_ms: 17.2 });
    expect(typhoonLevelLine(DEFAULT_TYPHOON_LEVELS.yellow)).toMatchObject({ mean_wind_min_ms: 17.2, gust_min_ms: 24.5 });
    expect(typhoonLevelLine(DEFAULT_TYPHOON_LEVELS.orange)).toMatchObject({ mean_wind_min_ms: 24.5, gust_min_ms: 32.7 });
    expect(typhoonLevelLine(DEFAULT_TYPHOON_LEVELS.red)).toMatchObject({ mean_wind_min_ms: 32.7, gust_min_ms: 41.5 });
    // each force's lower bound is above the one before
    const forces = Object.keys(BEAUFORT_MIN_MS).map(Number);
    for (let i = 1; i < forces.length; i++) expect(BEAUFORT_MIN_MS[forces[i]]).toBeGreaterThan(BEAUFORT_MIN_MS[forces[i - 1]]);
  });

  it('the defaults keep the rule: a higher colour comes no earlier, with no less wind or rain, and keeps closures', () => {
    expect(typhoonTableProblems(DEFAULT_TYPHOON_LEVELS)).toEqual([]);
    expect(() => checkRiskOptions(O)).not.toThrow();
  });

  const edit = (level: keyof typeof DEFAULT_TYPHOON_LEVELS, change: Partial<TyphoonLevelRule>) => ({ ...DEFAULT_TYPHOON_LEVELS, [level]: { ...DEFAULT_TYPHOON_LEVELS[level], ...change } });
  it.each([
    ['red.rainfall_mm_h', edit('red', { rainfall_mm_h: 40 })],
    ['red.close_outdoor_shelters', edit('red', { close_outdoor_shelters: false })],
    ['yellow.lead_hours', edit('yellow', { lead_hours: 48 })],
    ['orange.gust_force', edit('orange', { gust_force: 9 })],
    ['blue.mean_wind_force', edit('blue', { mean_wind_force: 5 })],
    ['red: level says orange', edit('red', { level: 'orange' })],
    ['blue.rainfall_mm_h', edit('blue', { rainfall_mm_h: -1 })],
  ])('a table breaking it is refused at start-up, naming %s', (problem, table) => {
    expect(typhoonTableProblems(table).join('; ')).toContain(problem);
    expect(() => checkRiskOptions(riskOptions({ typhoonLevels: table }))).toThrow(problem);
  });

  it('riskOptions takes a deployment’s own level and keeps the others', () => {
    const o = riskOptions({ typhoonLevels: { ...O.typhoonLevels, red: { ...O.typhoonLevels.red, rainfall_mm_h: 90 } } });
    expect(o.typhoonLevels.red.rainfall_mm_h).toBe(90);
    expect(o.typhoonLevels.orange).toEqual(DEFAULT_TYPHOON_LEVELS.orange);
  });
});

describe('outdoor closures of a typhoon level', () => {
  const { kx, ky } = metresPerDegree(23.4);
  const at = (east: number) => ({ lon: 113.2 + east / kx, lat: 23.4 + 0 / ky });
  const shelter = (id: number, east: number, extra: Partial<Shelter> = {}): Shelter => ({
    id, name_zh: `避难场所${id}`, name_en: null, ...at(east), shelterClass: 'emergency', setting: 'outdoor', status: 'open',
    effectiveAreaM2: 3000, capacity: 2000, occupancy: 0, streetId: 's1', communityId: null, ...extra,
  });
  const none: DistrictHazards = { floodPoints: [], geohazardSites: [], hazardSources: [], riskPoints: [] };
  const shelters = [shelter(1, 0), shelter(2, 5000), shelter(3, 0, { setting: 'indoor' }), shelter(4, 100, { status: 'closed' })];
  // a square about 2 km across around shelter 1 (shelter 2 lies 5 km east, outside it)
  const d = 1000;
  const square = { type: 'Polygon' as const, coordinates: [[[113.2 - d / kx, 23.4 - d / ky], [113.2 + d / kx, 23.4 - d / ky], [113.2 + d / kx, 23.4 + d / ky], [113.2 - d / kx, 23.4 + d / ky], [113.2 - d / kx, 23.4 - d / ky]]] };

  it('with no warning area drawn, a typhoon level closes every outdoor shelter in service of the district', () => {
    const r = scenarioEffects(shelters, none, { close_outdoor_in_warning_area: true, typhoon_level: 'orange' }, O);
    expect(r.closed.map((s) => s.id)).toEqual([1, 2]);
    expect(r.closed[0].reasons[0]).toMatchObject({ hazard: 'warning_area', name_zh: '台风预警（全区）', detail: { setting: 'outdoor', typhoon_level: 'orange' } });
    expect(r.alreadyClosed).toEqual([4]);
  });

  it('with a warning area, only the outdoor shelters inside it', () => {
    const r = scenarioEffects(shelters, none, { close_outdoor_in_warning_area: true, typhoon_level: 'red', warning_area: square }, O);
    expect(r.closed.map((s) => s.id)).toEqual([1]);
    expect(r.closed[0].reasons[0].name_zh).toBe('预警区域');
  });

  it('nothing closes when closures are off, or with neither a level nor an area (as before levels existed)', () => {
    expect(scenarioEffects(shelters, none, { close_outdoor_in_warning_area: false, typhoon_level: 'red' }, O).closed).toEqual([]);
    expect(scenarioEffects(shelters, none, { close_outdoor_in_warning_area: true }, O).closed).toEqual([]);
  });
});
