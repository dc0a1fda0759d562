import { describe, expect, it } from 'vitest';
import { DEFAULT_RISK_OPTIONS as O, riskOptions } from '../../server/risk/options.ts';
import { alphaFor, bandLevel, checkBands, checkRiskOptions, geohazardGrade, hazardGrade, invalidLecFactor, LEC_VALUES, lecGrade, lecScore } from '../../server/risk/grading.ts';
import { addMonths, blueSample, daysBetween, dueState, isIsoDate, todayIn } from '../../server/risk/schedule.ts';
import { flagShelters, floodCandidate, residentExposure, standingCandidates, unusableZones } from '../../server/risk/exposure.ts';
import { rainfallAt, scenarioEffects } from '../../server/risk/scenario.ts';
import { distanceM, metresPerDegree } from '../../server/analysis/geodesy.ts';
import { mulberry32 } from '../../data/random.ts';
import type { Shelter } from '../../server/analysis/model.ts';
import type { DistrictHazards } from '../../server/risk/hazards.ts';

/** Pure rules: grading at every band edge (both sides), inspection schedules, exposure distances and scenario triggers. */

describe('LEC: D = L × E × C', () => {
  it.each([
    // D, level — the digest: > 320 red, 160–320 orange, 70–160 yellow, < 70 blue
    [1000, 'red'],
    [320.0001, 'red'],
    [320, 'orange'],
    [319.9999, 'orange'],
    [160, 'orange'],
    [159.9999, 'yellow'],
    [70, 'yellow'],
    [69.9999, 'blue'],
    [0.05, 'blue'],
  ] as const)('D = %s is %s', (d, level) => {
    expect(bandLevel(d, O.lecBands)).toBe(level);
  });

  it.each([
    [{ l: 10, e: 6, c: 40 }, 2400, 'red'],
    [{ l: 6, e: 6, c: 15 }, 540, 'red'],
    [{ l: 1, e: 10, c: 7 }, 70, 'yellow'], // exactly on the 70 edge
    [{ l: 3, e: 6, c: 15 }, 270, 'orange'],
    [{ l: 0.5, e: 6, c: 40 }, 120, 'yellow'],
    [{ l: 1, e: 6, c: 7 }, 42, 'blue'],
    [{ l: 0.1, e: 3, c: 1 }, 0.3, 'blue'], // 0.1 × 3 is 0.30000000000000004 in floats
  ] as const)('%o gives D = %s, %s', (input, d, level) => {
    expect(lecGrade(input, O)).toEqual({ d, level });
    expect(lecScore(input)).toBe(d);
  });

  it('every combination of the tables grades, and the edges 70/160/320 land as documented', () => {
    let n = 0;
    for (const l of LEC_VALUES.l) for (const e of LEC_VALUES.e) for (const c of LEC_VALUES.c) {
      const { d, level } = lecGrade({ l, e, c }, O);
      const expected = d > 320 ? 'red' : d >= 160 ? 'orange' : d >= 70 ? 'yellow' : 'blue';
      expect(level, `${l}×${e}×${c}`).toBe(expected);
      n++;
    }
    expect(n).toBe(7 * 6 * 6);
  });

  it.each([
    [{ l: 2, e: 6, c: 7 }, 'l'],
    [{ l: 1, e: 4, c: 7 }, 'e'],
    [{ l: 1, e: 6, c: 0 }, 'c'],
    [{ l: -1, e: 6, c: 7 }, 'l'],
  ] as const)('%o is refused naming %s', (input, factor) => {
    expect(invalidLecFactor(input)).toBe(factor);
    expect(() => lecGrade(input, O)).toThrow(RangeError);
  });
});

describe('GB 18218: R = α · Σ β·q/Q', () => {
  it.each([
    [100, 'red'],
    [99.9999, 'orange'],
    [50, 'orange'],
    [49.9999, 'yellow'],
    [10, 'yellow'],
    [9.9999, 'blue'],
    [0, 'blue'],
  ] as const)('R = %s is %s', (r, level) => {
    expect(bandLevel(r, O.rBands)).toBe(level);
  });

  it('sums substances, applies α and β, and marks a major hazard source at Σ q/Q ≥ 1', () => {
    // 50 t of a substance with Q = 50 (S = 1) and 10 t chlorine (Q = 5, β = 4): S = 3, R = 1.5 × (1 + 8) = 13.5
    expect(hazardGrade(1.5, [{ q: 50, Q: 50, beta: 1 }, { q: 10, Q: 5, beta: 4 }], O)).toEqual({ sum_q_over_q: 3, r_value: 13.5, major_hazard: true, level: 'yellow' });
    // exactly R = 100 and exactly S = 1
    expect(hazardGrade(2, [{ q: 25, Q: 1, beta: 2 }], O)).toMatchObject({ r_value: 100, level: 'red', major_hazard: true });
    expect(hazardGrade(1, [{ q: 0.7, Q: 1, beta: 1 }, { q: 0.3, Q: 1, beta: 1 }], O)).toMatchObject({ sum_q_over_q: 1, major_hazard: true });
    expect(hazardGrade(1, [{ q: 0.99, Q: 1, beta: 1 }], O)).toMatchObject({ sum_q_over_q: 0.99, major_hazard: false, level: 'blue' });
    expect(hazardGrade(1, [], O)).toMatchObject({ sum_q_over_q: 0, r_value: 0, major_hazard: false, level: 'blue' });
  });

  it.each([
    [[{ q: -1, Q: 1, beta: 1 }], 1, /q must be ≥ 0/],
    [[{ q: 1, Q: 0, beta: 1 }], 1, /Q must be > 0/],
    [[{ q: 1, Q: 1, beta: 0 }], 1, /β must be > 0/],
    [[{ q: 1, Q: 1, beta: 1 }], 0, /α must be > 0/],
  ])('refuses %o with α %s', (substances, alpha, message) => {
    expect(() => hazardGrade(alpha, substances, O)).toThrow(message);
  });

  it.each([
    [0, 0.5],
    [1, 1.0],
    [29, 1.0],
    [30, 1.2],
    [49, 1.2],
    [50, 1.5],
    [99, 1.5],
    [100, 2.0],
    [5000, 2.0],
  ])('%s people exposed → α = %s', (people, alpha) => {
    expect(alphaFor(people, O)).toBe(alpha);
  });
});

describe('geohazard danger grade: the higher of people threatened and potential loss', () => {
  it.each([
    [1000, 'red'],
    [999, 'orange'],
    [500, 'orange'],
    [499, 'yellow'],
    [100, 'yellow'],
    [99, 'blue'],
    [0, 'blue'],
  ] as const)('%s people threatened → %s', (people, level) => {
    expect(geohazardGrade(people, 0, O)).toEqual({ by_people: level, by_loss: 'blue', level });
  });

  it.each([
    [100e6, 'red'],
    [99_999_999, 'orange'],
    [50e6, 'orange'],
    [49_999_999, 'yellow'],
    [5e6, 'yellow'],
    [4_999_999, 'blue'],
  ] as const)('¥%s potential loss → %s', (loss, level) => {
    expect(geohazardGrade(0, loss, O)).toEqual({ by_people: 'blue', by_loss: level, level });
  });

  it('takes the higher grade', () => {
    expect(geohazardGrade(120, 60e6, O)).toEqual({ by_people: 'yellow', by_loss: 'orange', level: 'orange' });
    expect(geohazardGrade(1200, 1e6, O)).toEqual({ by_people: 'red', by_loss: 'blue', level: 'red' });
  });
});

describe('cutoffs are configuration', () => {
  it('a deployment may move a cutoff and its edge', () => {
    const strict = riskOptions({ lecBands: [{ level: 'red', min: 240, inclusive: true }, ...O.lecBands.slice(1)] });
    expect(bandLevel(240, strict.lecBands)).toBe('red');
    expect(bandLevel(240, O.lecBands)).toBe('orange');
    expect(() => checkRiskOptions(strict)).not.toThrow();
  });

  it('refuses band tables out of order', () => {
    expect(() => checkBands('lecBands', [{ level: 'red', min: 100, inclusive: true }, { level: 'orange', min: 200, inclusive: true }])).toThrow(/below the red cutoff/);
    expect(() => checkBands('lecBands', [{ level: 'orange', min: 100, inclusive: true }])).toThrow(/must be red/);
    // the same cutoff twice is fine when only the lower band takes the edge itself
    expect(() => checkBands('x', [{ level: 'red', min: 100, inclusive: false }, { level: 'orange', min: 100, inclusive: true }])).not.toThrow();
    expect(() => checkRiskOptions(riskOptions({ blueSampleShare: 0 }))).toThrow(/blueSampleShare/);
    expect(() => checkRiskOptions(O)).not.toThrow();
  });
});

describe('inspection schedule', () => {
  it('reads only real dates', () => {
    for (const ok of ['2026-11-01', '2024-02-29', '2000-12-31']) expect(isIsoDate(ok), ok).toBe(true);
    for (const bad of ['2026-02-29', '2026-13-01', '2026-1-1', '20261101', '2026-11-01T00:00', 'yesterday', '']) expect(isIsoDate(bad), bad).toBe(false);
  });

  it.each([
    ['2026-01-31', 1, '2026-02-28'],
    ['2024-01-31', 1, '2024-02-29'],
    ['2026-08-31', 3, '2026-11-30'],
    ['2026-11-15', 3, '2027-02-15'],
    ['2026-07-01', 6, '2027-01-01'],
  ])('%s + %s months = %s', (from, n, to) => {
    expect(addMonths(from, n)).toBe(to);
  });

  const sched = { inspectionEvery: O.inspectionEvery, blueSampleShare: 0.3, dueSoonDays: 30 };
  const point = (level: 'red' | 'orange' | 'yellow' | 'blue', lastInspection: string | null, extra: { sampled?: boolean; inspectedThisYear?: boolean } = {}) => ({
    level,
    lastInspection,
    sampled: extra.sampled ?? false,
    inspectedThisYear: extra.inspectedThisYear ?? false,
  });

  it.each([
    // level, last inspection, as of, status, days overdue, days until due
    ['orange', '2026-08-01', '2026-11-01', 'due_soon', null, 0], // due today: not yet overdue
    ['orange', '2026-08-01', '2026-11-02', 'overdue', 1, null],
    ['orange', '2026-08-02', '2026-11-01', 'due_soon', null, 1],
    ['orange', '2026-09-01', '2026-11-01', 'due_soon', null, 30], // due 2026-12-01: the window's last day
    ['orange', '2026-09-02', '2026-11-01', 'scheduled', null, 31],
    ['yellow', '2026-05-01', '2026-11-01', 'due_soon', null, 0],
    ['yellow', '2026-04-30', '2026-11-01', 'overdue', 2, null], // due 2026-10-30
    ['yellow', '2026-04-30', '2026-10-31', 'overdue', 1, null],
    ['red', '2026-10-01', '2026-11-01', 'due_soon', null, 0],
    ['red', '2026-09-01', '2026-11-01', 'overdue', 31, null],
  ] as const)('%s inspected %s, as of %s: %s', (level, last, asOf, status, overdue, until) => {
    const s = dueState(point(level, last), asOf, sched);
    expect(s).toMatchObject({ status, days_overdue: overdue, days_until_due: until, never_inspected: false });
  });

  it('never-inspected coloured points are overdue without a day count; blue points follow the sample', () => {
    expect(dueState(point('yellow', null), '2026-11-01', sched)).toMatchObject({ status: 'overdue', next_due: null, days_overdue: null, never_inspected: true });
    expect(dueState(point('blue', null), '2026-11-01', sched)).toMatchObject({ status: 'not_sampled', next_due: null });
    expect(dueState(point('blue', null, { sampled: true }), '2026-11-01', sched)).toMatchObject({ status: 'scheduled', next_due: '2026-12-31', days_until_due: 60 });
    expect(dueState(point('blue', '2025-03-01', { sampled: true }), '2026-12-15', sched)).toMatchObject({ status: 'due_soon', days_until_due: 16 });
    expect(dueState(point('blue', '2026-03-01', { sampled: true, inspectedThisYear: true }), '2026-12-15', sched)).toMatchObject({ status: 'done', next_due: null });
  });

  it('the blue sample is reproducible, seeded by year, and at least the share', () => {
    const ids = Array.from({ length: 124 }, (_, i) => 1000 + i);
    const a = blueSample(2026, ids, 0.3);
    expect(a.size).toBe(38); // ⌈0.3 × 124⌉
    expect([...blueSample(2026, [...ids].reverse(), 0.3)].sort()).toEqual([...a].sort());
    const b = blueSample(2027, ids, 0.3);
    expect(b.size).toBe(38);
    expect([...b].sort()).not.toEqual([...a].sort());
    expect(blueSample(2026, ids.slice(0, 10), 0.3).size).toBe(3);
    expect(blueSample(2026, [], 0.3).size).toBe(0);
  });

  it('counts days and knows today in China', () => {
    expect(daysBetween('2026-10-31', '2026-11-01')).toBe(1);
    expect(daysBetween('2026-03-28', '2026-03-30')).toBe(2);
    // 2026-11-01T17:00Z is already 2 November in Beijing
    expect(todayIn('Asia/Shanghai', new Date('2026-11-01T17:00:00Z'))).toBe('2026-11-02');
  });
});

describe('exposure and scenario rules', () => {
  // A flat neighbourhood around (113.2, 23.4): metres → degrees with the same ellipsoid as the service.
  const { kx, ky } = metresPerDegree(23.4);
  const at = (east: number, north = 0) => ({ lon: 113.2 + east / kx, lat: 23.4 + north / ky });
  const shelter = (id: number, east: number, extra: Partial<Shelter> = {}): Shelter => ({
    id, name_zh: `避难场所${id}`, name_en: null, ...at(east), shelterClass: 'emergency', setting: 'outdoor', status: 'open',
    effectiveAreaM2: 3000, capacity: 2000, occupancy: 0, streetId: 's1', communityId: null, ...extra,
  });
  const hazards = (extra: Partial<DistrictHazards> = {}): DistrictHazards => ({
    floodPoints: [{ id: 1, district_id: 'd1', name_zh: '内涝点', kind: 'black_spot', status: 'active', threshold_mm_h: 40, street_id: 's1', ...at(0) }],
    geohazardSites: [],
    hazardSources: [],
    riskPoints: [],
    ...extra,
  });

  it('flags shelters by distance: unusable within 100 m of a flood spot, at risk within 300 m, nothing beyond', () => {
    const flagged = flagShelters([shelter(1, 99.9), shelter(2, 100.1), shelter(3, 299.9), shelter(4, 300.1)], standingCandidates(hazards(), O));
    expect(flagged.map((s) => [s.id, s.flag])).toEqual([[1, 'unusable'], [2, 'at_risk'], [3, 'at_risk']]);
    expect(flagged[0].reasons[0]).toMatchObject({ hazard: 'flood_point', id: 1, distance_m: 99.9, within_m: 100 });
  });

  it('treated spots flag nothing; a major hazard source reaches further than an ordinary enterprise', () => {
    const treated = hazards({ floodPoints: [{ ...hazards().floodPoints[0], status: 'treated' }] });
    expect(flagShelters([shelter(1, 10)], standingCandidates(treated, O))).toEqual([]);
    const source = { id: 7, district_id: 'd1', name_zh: '储存企业', kind: 'storage', level: 'yellow' as const, r_value: 20, street_id: null, ...at(0) };
    const ordinary = hazards({ floodPoints: [], hazardSources: [{ ...source, major_hazard: false }] });
    const major = hazards({ floodPoints: [], hazardSources: [{ ...source, major_hazard: true }] });
    expect(flagShelters([shelter(1, 900)], standingCandidates(ordinary, O))).toEqual([]);
    expect(flagShelters([shelter(1, 900)], standingCandidates(major, O))[0]).toMatchObject({ flag: 'unusable', reasons: [{ hazard: 'major_hazard_source', within_m: 1000 }] });
  });

  it('counts residents near red/orange points and major hazard sources once each', () => {
    const cells = [
      { id: 1, residents: 100, streetId: 's1', communityId: null, ...at(0, 200) },
      { id: 2, residents: 50, streetId: 's1', communityId: null, ...at(0, 400) },
      { id: 3, residents: 7, streetId: 's2', communityId: null, ...at(0, 2000) },
    ];
    const h = hazards({
      floodPoints: [],
      riskPoints: [
        { id: 1, district_id: 'd1', name_zh: '红', level: 'red', category: 'fire', street_id: 's1', ...at(0) },
        { id: 2, district_id: 'd1', name_zh: '橙', level: 'orange', category: 'gas', street_id: 's1', ...at(0, 100) },
      ],
    });
    const streets = [{ id: 's1', name_zh: '一', name_en: 'One' }, { id: 's2', name_zh: '二', name_en: 'Two' }];
    const r = residentExposure(cells, streets, h, O, 'd1');
    // cell 1: 200 m from red (≤ 500) and 100 m from orange (≤ 300); cell 2: 400 m from red only
    expect(r.total).toMatchObject({ residents: 157, exposed_residents: 150, near_red_points: 150, near_orange_points: 100, exposed_only_by_neighbouring_hazards: 0 });
    expect(r.by_street.map((s) => s.exposed_residents)).toEqual([150, 0]);
    expect(r.hazards.map((x) => x.residents_within)).toEqual([150, 100]);
    expect(r.hazards.some((x) => 'neighbouring_district' in x)).toBe(false);
  });

  it('a neighbouring district’s hazard across the edge counts, labelled, and apart', () => {
    const cells = [
      { id: 1, residents: 100, streetId: 's1', communityId: null, ...at(0, 200) },
      { id: 3, residents: 7, streetId: 's2', communityId: null, ...at(0, 2000) },
    ];
    const streets = [{ id: 's1', name_zh: '一', name_en: 'One' }, { id: 's2', name_zh: '二', name_en: 'Two' }];
    const h = hazards({
      floodPoints: [],
      riskPoints: [
        { id: 1, district_id: 'd1', name_zh: '红', level: 'red', category: 'fire', street_id: 's1', ...at(0) },
        { id: 9, district_id: 'd2', name_zh: '邻区红', level: 'red', category: 'fire', street_id: 'n1', ...at(0, 2300) },
      ],
    });
    const r = residentExposure(cells, streets, h, O, 'd1');
    // cell 3 is 300 m from the neighbour's red point only; cell 1 near its own district's point
    expect(r.total).toMatchObject({ exposed_residents: 107, near_red_points: 107, exposed_only_by_neighbouring_hazards: 7 });
    expect(r.by_street.map((s) => s.exposed_only_by_neighbouring_hazards)).toEqual([0, 7]);
    expect(r.hazards[1]).toMatchObject({ id: 9, neighbouring_district: 'd2', residents_within: 7 });
    // a shelter flagged by the neighbour's flood spot names that district
    const wet = hazards({ floodPoints: [{ ...hazards().floodPoints[0], district_id: 'd2' }] });
    expect(flagShelters([shelter(1, 50)], standingCandidates(wet, O), 'd1')[0].reasons[0]).toMatchObject({ id: 1, neighbouring_district: 'd2', flag: 'unusable' });
    expect(flagShelters([shelter(1, 50)], standingCandidates(hazards(), O), 'd1')[0].reasons[0]).not.toHaveProperty('neighbouring_district');
  });

  it('rain: polygons override the district figure, the highest where they overlap; spots flood only above their threshold', () => {
    const square = (half: number) => ({ type: 'Polygon' as const, coordinates: [[[113.2 - half, 23.4 - half], [113.2 + half, 23.4 - half], [113.2 + half, 23.4 + half], [113.2 - half, 23.4 + half], [113.2 - half, 23.4 - half]]] });
    const input = { rainfall_mm_h: 80, rainfall_areas: [{ geometry: square(0.01), rainfall_mm_h: 20 }, { geometry: square(0.001), rainfall_mm_h: 35 }] };
    expect(rainfallAt(113.2, 23.4, input)).toBe(35);
    expect(rainfallAt(113.205, 23.4, input)).toBe(20);
    expect(rainfallAt(113.3, 23.4, input)).toBe(80);
    expect(rainfallAt(113.3, 23.4, {})).toBe(0);
    const run = (mm: number) => scenarioEffects([shelter(1, 50), shelter(2, 150), shelter(3, 60, { status: 'closed' })], hazards(), { rainfall_mm_h: mm, close_outdoor_in_warning_area: false }, O);
    expect(run(40).closed).toEqual([]);
    const wet = run(40.5);
    expect(wet.floods.map((f) => f.active)).toEqual([true]);
    expect(wet.closed.map((s) => s.id)).toEqual([1]); // 150 m is outside the 100 m zone; 3 was closed already
    expect(wet.alreadyClosed).toEqual([3]);
  });
});

describe('hazard zones are measured only against hazards within reach', () => {
  // Hazards over a city (40 × 40 km), unusable within 30 m to 3 km and at risk within three times
  // that, and shelters among them: some on a hazard, one on a hazard and its twin (equally far from
  // both: the first in the hazards' order wins, as in a scan of all), and some just inside the
  // furthest reach, due north and south (the edge of the search).
  const random = mulberry32(20261207);
  const { kx, ky } = metresPerDegree(23.1);
  const hazards = Array.from({ length: 400 }, (_, i) => {
    const unusableWithinM = 30 + Math.floor(random() * 3000);
    const spot = { id: i + 1, district_id: 'd1', name_zh: `内涝点${i + 1}`, kind: 'black_spot', status: 'active' as const, threshold_mm_h: null, street_id: null };
    return floodCandidate({ ...spot, lon: 113.1 + (random() * 40_000) / kx, lat: 22.9 + (random() * 40_000) / ky }, { unusableWithinM, atRiskWithinM: unusableWithinM * 3 });
  });
  const twin = { ...hazards[7], id: 401 };
  const candidates = [...hazards, twin];
  // Just inside the reach of the hazard that reaches furthest, due north and due south: the band's edge.
  const furthest = (reach: (c: (typeof hazards)[number]) => number) => hazards.reduce((a, b) => (reach(b) > reach(a) ? b : a));
  const edge = (h: (typeof hazards)[number], m: number, id: number) => [
    { id, lon: h.lon, lat: h.lat + (m - 0.05) / metresPerDegree(h.lat).ky },
    { id: id + 1, lon: h.lon, lat: h.lat - (m - 0.05) / metresPerDegree(h.lat).ky },
  ];
  const unusableEdge = furthest((c) => c.limits.unusableWithinM);
  const atRiskEdge = furthest((c) => c.limits.atRiskWithinM);
  const points = [
    ...Array.from({ length: 600 }, (_, i) => ({ id: i + 1, lon: 113.1 + (random() * 40_000) / kx, lat: 22.9 + (random() * 40_000) / ky })),
    ...hazards.slice(0, 50).map((h, i) => ({ id: 1000 + i, lon: h.lon, lat: h.lat })),
    ...edge(unusableEdge, unusableEdge.limits.unusableWithinM, 5000),
    ...edge(atRiskEdge, atRiskEdge.limits.atRiskWithinM, 5002),
  ];

  it('unusable zones equal a scan of every hazard', () => {
    const scanned = new Map<number, { id: number; distance_m: number }>();
    for (const p of points) {
      let best: { id: number; d: number } | undefined;
      for (const c of candidates) {
        const d = distanceM(p.lon, p.lat, c.lon, c.lat);
        if (d <= c.limits.unusableWithinM && (!best || d < best.d)) best = { id: c.id, d };
      }
      if (best) scanned.set(p.id, { id: best.id, distance_m: Math.round(best.d * 10) / 10 });
    }
    const zones = unusableZones(points, candidates);
    expect(zones.size).toBeGreaterThan(100);
    expect(new Map([...zones].map(([id, z]) => [id, { id: z.id, distance_m: z.distance_m }]))).toEqual(scanned);
    // the twin lies where the hazard before it does: the earlier one is named
    expect(zones.get(1007)?.id).toBe(8);
    // the points at the edge of the search are in a zone (its own, or a nearer one's)
    expect(zones.has(5000) && zones.has(5001)).toBe(true);
  });

  it('flagged shelters name every hazard within its at-risk distance, as a scan of every hazard finds them', () => {
    const shelters: Shelter[] = points.map((p) => ({
      ...p, name_zh: `避难场所${p.id}`, name_en: null, shelterClass: 'emergency', setting: 'outdoor', status: 'open',
      effectiveAreaM2: 3000, capacity: 2000, occupancy: 0, streetId: null, communityId: null,
    }));
    const flagged = new Map(flagShelters(shelters, candidates).map((s) => [s.id, s.reasons.map((r) => r.id).sort((a, b) => a - b)]));
    const scanned = new Map<number, number[]>();
    for (const s of shelters) {
      const ids = candidates.filter((c) => distanceM(s.lon, s.lat, c.lon, c.lat) <= c.limits.atRiskWithinM).map((c) => c.id);
      if (ids.length) scanned.set(s.id, ids.sort((a, b) => a - b));
    }
    expect(flagged.size).toBeGreaterThan(300);
    expect(flagged).toEqual(scanned);
    expect(flagged.get(5002)).toContain(atRiskEdge.id);
    expect(flagged.get(5003)).toContain(atRiskEdge.id);
  });
});
