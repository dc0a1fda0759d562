import { LEVEL_RANK } from './grading.ts';
import type { RiskPointLine } from './points.ts';

/**
 * Inspection supervision: which risk points are due, in the order a district
 * works through them, and how the yearly sample of blue points is going.
 */

const DUE_ORDER = { overdue: 0, due_soon: 1, scheduled: 2, done: 3, not_sampled: 4 } as const;

/**
 * Points overdue or due soon (of `levels`, when given): overdue first, never
 * inspected first among them, longest overdue, soonest due, highest level, id.
 */
export function dueList(points: readonly RiskPointLine[], levels?: readonly string[]): RiskPointLine[] {
  return points
    .filter((p) => p.inspection.status === 'overdue' || p.inspection.status === 'due_soon')
    .filter((p) => !levels || levels.includes(p.level))
    .sort(
      (a, b) =>
        DUE_ORDER[a.inspection.status] - DUE_ORDER[b.inspection.status] ||
        Number(b.inspection.never_inspected) - Number(a.inspection.never_inspected) ||
        (b.inspection.days_overdue ?? 0) - (a.inspection.days_overdue ?? 0) ||
        (a.inspection.days_until_due ?? 0) - (b.inspection.days_until_due ?? 0) ||
        LEVEL_RANK[a.level] - LEVEL_RANK[b.level] ||
        a.id - b.id,
    );
}

export interface BlueSampling {
  blue_points: number;
  sample_size: number;
  sample_inspected: number;
  inspected_this_year: number;
}

/** Per district: blue points, the size of this year's sample, how many of it are done, and blue points inspected in `asOf`'s year. */
export function blueSampling(points: readonly RiskPointLine[], asOf: string): Map<string, BlueSampling> {
  const blue = new Map<string, BlueSampling>();
  for (const p of points) {
    if (p.level !== 'blue') continue;
    const b = blue.get(p.district_id) ?? { blue_points: 0, sample_size: 0, sample_inspected: 0, inspected_this_year: 0 };
    b.blue_points++;
    if (p.inspection.sampled) b.sample_size++;
    if (p.inspection.status === 'done') b.sample_inspected++;
    if (p.inspection.last_inspection?.slice(0, 4) === asOf.slice(0, 4)) b.inspected_this_year++;
    blue.set(p.district_id, b);
  }
  return blue;
}
