import { createHash } from 'node:crypto';
import type { RiskLevel } from '../../catalog/layers.ts';
import type { RiskOptions } from './options.ts';

/**
 * Inspection supervision by colour, as pure functions of dates (ISO
 * `YYYY-MM-DD` strings, calendar days, no clock): when each point is next due,
 * and which blue points a year's sample draws.
 */

const DAY_MS = 86_400_000;

/** Whether `s` is a real calendar date written YYYY-MM-DD (2026-02-30 is not). */
export function isIsoDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

const dayNumber = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / DAY_MS;

/** Whole days from `a` to `b` (positive when b is later). */
export const daysBetween = (a: string, b: string) => Math.round(dayNumber(b) - dayNumber(a));

export const addDays = (iso: string, days: number) => new Date((dayNumber(iso) + days) * DAY_MS).toISOString().slice(0, 10);

/** `n` calendar months later; a day the target month lacks becomes its last day (Jan 31 + 1 → Feb 28/29). */
export function addMonths(iso: string, n: number): string {
  const [y, m, d] = iso.split('-').map(Number);
  const first = new Date(Date.UTC(y, m - 1 + n, 1));
  const last = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate();
  first.setUTCDate(Math.min(d, last));
  return first.toISOString().slice(0, 10);
}

/** Today's date in `timeZone`, as YYYY-MM-DD. */
export function todayIn(timeZone: string, now: Date = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/**
 * The blue points drawn for inspection in `year`: ⌈share · n⌉ of them, the
 * first in the order of sha256("year:id"). Reproducible (the same year gives
 * the same sample), different every year, and independent of row order.
 */
export function blueSample(year: number, ids: readonly number[], share: number): Set<number> {
  const need = Math.ceil(share * ids.length - 1e-9);
  const ranked = ids
    .map((id) => ({ id, key: createHash('sha256').update(`${year}:${id}`).digest('hex') }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.id - b.id));
  return new Set(ranked.slice(0, need).map((r) => r.id));
}

export type DueStatus =
  /** Past its due date (or never inspected). */
  | 'overdue'
  /** Due within the due-soon window. */
  | 'due_soon'
  /** Due later than the window. */
  | 'scheduled'
  /** Blue, drawn for this year and already inspected this year. */
  | 'done'
  /** Blue, not drawn for this year's sample. */
  | 'not_sampled';

export interface DueState {
  /** How often, in words: "every 3 months", "sampled: 30 % of blue points a year". */
  rule: string;
  /** Latest inspection on or before the as-of date. */
  last_inspection: string | null;
  next_due: string | null;
  status: DueStatus;
  /** Days past the due date (> 0 when overdue with a due date). */
  days_overdue: number | null;
  /** Days left until the due date (≥ 0 when due soon or scheduled). */
  days_until_due: number | null;
  never_inspected: boolean;
  /** Blue points: drawn in this year's sample. */
  sampled?: boolean;
}

export interface PointInspections {
  level: RiskLevel;
  /** Latest inspection on or before the as-of date. */
  lastInspection: string | null;
  /** Blue points: whether any inspection falls in the as-of year, on or before the as-of date. */
  inspectedThisYear: boolean;
  /** Blue points: whether this year's sample draws the point. */
  sampled: boolean;
}

export function dueState(p: PointInspections, asOf: string, options: Pick<RiskOptions, 'inspectionEvery' | 'blueSampleShare' | 'dueSoonDays'>): DueState {
  const never = p.lastInspection === null;
  const timing = (nextDue: string): Pick<DueState, 'status' | 'days_overdue' | 'days_until_due'> => {
    const left = daysBetween(asOf, nextDue);
    if (left < 0) return { status: 'overdue', days_overdue: -left, days_until_due: null };
    return { status: left <= options.dueSoonDays ? 'due_soon' : 'scheduled', days_overdue: null, days_until_due: left };
  };
  if (p.level === 'blue') {
    const rule = `sampled: ${Math.round(options.blueSampleShare * 100)} % of blue points a year`;
    const base = { rule, last_inspection: p.lastInspection, never_inspected: never, sampled: p.sampled };
    if (!p.sampled) return { ...base, next_due: null, status: 'not_sampled', days_overdue: null, days_until_due: null };
    if (p.inspectedThisYear) return { ...base, next_due: null, status: 'done', days_overdue: null, days_until_due: null };
    const nextDue = `${asOf.slice(0, 4)}-12-31`;
    return { ...base, next_due: nextDue, ...timing(nextDue) };
  }
  const months = options.inspectionEvery[p.level].everyMonths;
  const rule = `every ${months} month${months === 1 ? '' : 's'}`;
  if (never) return { rule, last_inspection: null, next_due: null, status: 'overdue', days_overdue: null, days_until_due: null, never_inspected: true };
  const nextDue = addMonths(p.lastInspection!, months);
  return { rule, last_inspection: p.lastInspection, next_due: nextDue, ...timing(nextDue), never_inspected: false };
}
