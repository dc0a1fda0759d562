/**
 * meets_target on a hand-worked case: a street of 4,529 residents with exactly
 * 1.5 × 4,529 = 6,793.5 m² of shelters (6,632.4 + 160.9 + 0.2) at target 1.5.
 * Summed in id order the floats give 6793.499999999999, one ulp short; the
 * street meets the target, as its area_per_resident_m2 (1.5) and shortfall (0) say.
 */
import { describe, expect, it } from 'vitest';
import { coverageTable, type CoverageAnalysis } from '../../server/analysis/coverage.ts';
import type { Shelter } from '../../server/analysis/model.ts';

const shelter = (id: number, area: number): Shelter => ({
  id, name_zh: `S${id}`, name_en: null, lon: 0, lat: 0, shelterClass: 'emergency', setting: 'outdoor', status: 'open',
  effectiveAreaM2: area, capacity: 0, occupancy: 0, streetId: 's1', communityId: null,
});

function table(areas: number[], residents: number, target: number) {
  const snapshot = {
    cells: [{ id: 1, lon: 0, lat: 0, residents, streetId: 's1', communityId: null }],
    streets: [{ id: 's1', name_zh: '街道', name_en: 'Street' }],
    communities: [],
  };
  const analysis = {
    model: { usable: areas.map((a, i) => shelter(i + 1, a)), capacity: new Float64Array(areas.length) },
    covered: Uint8Array.of(1),
    catchment: { access: Float64Array.of(target) },
    allocation: { sheltered: Float64Array.of(residents) },
  } as unknown as CoverageAnalysis;
  return coverageTable(snapshot, analysis, 'street', target);
}

describe('meets_target', () => {
  it('is true when the area equals target × residents up to float rounding', () => {
    expect(6632.4 + 160.9 + 0.2).toBeLessThan(6793.5); // the case really is one ulp short
    const t = table([6632.4, 160.9, 0.2], 4529, 1.5);
    expect(t.units[0]).toMatchObject({ area_per_resident_m2: 1.5, area_shortfall_m2: 0, meets_target: true, catchment_meets_target: true });
    expect(t.total.meets_target).toBe(true);
  });

  it('is false one square metre short, and null without residents', () => {
    const short = table([6632.4, 160.1], 4529, 1.5).units[0];
    expect(short.meets_target).toBe(false);
    expect(short.area_shortfall_m2).toBeCloseTo(1, 6);
    expect(table([100], 0, 1.5).units[0].meets_target).toBeNull();
  });
});
