import type { CoverageUnit } from '../api.ts';
import { escapeHtml } from '../dom.ts';
import { formatNumber, lang, t, type Word } from '../i18n.ts';

/** The columns of the coverage table, the CSV export and the sort keys: one list for all three. */
export interface Column {
  key: keyof CoverageUnit | 'name';
  word: Word;
  digits: number;
  /** Shown as a percentage. */
  pct?: boolean;
  value(u: CoverageUnit): number | string | null;
}

export const COLUMNS: Column[] = [
  { key: 'name', word: 'unitName', digits: 0, value: (u) => (lang() === 'en' ? u.name_en || u.name_zh : u.name_zh) },
  { key: 'residents', word: 'residents', digits: 0, value: (u) => u.residents },
  { key: 'covered_pct', word: 'coveredShort', digits: 1, pct: true, value: (u) => u.covered_pct },
  { key: 'uncovered_residents', word: 'uncoveredShort', digits: 0, value: (u) => u.uncovered_residents },
  { key: 'area_per_resident_m2', word: 'm2PerResident', digits: 2, value: (u) => u.area_per_resident_m2 },
  { key: 'area_shortfall_m2', word: 'shortfall', digits: 0, value: (u) => u.area_shortfall_m2 },
  { key: 'unsheltered_residents', word: 'unshelteredShort', digits: 0, value: (u) => u.unsheltered_residents },
];

/**
 * How a unit stands against the area target: met, missed, or neither (no
 * residents, `meets_target: null`), which must not be painted as failing.
 */
export type TargetState = 'ok' | 'bad' | 'no-residents';
export function targetState(meets: boolean | null): TargetState {
  return meets === null ? 'no-residents' : meets ? 'ok' : 'bad';
}

export interface SortState {
  key: Column['key'];
  dir: 1 | -1;
}

/** Sorted copy: numbers numerically, names by the current language's collation; missing values last. */
export function sortUnits(units: CoverageUnit[], sort: SortState): CoverageUnit[] {
  const col = COLUMNS.find((c) => c.key === sort.key) ?? COLUMNS[0];
  const collator = new Intl.Collator(lang() === 'zh' ? 'zh-CN' : 'en');
  return [...units].sort((a, b) => {
    const va = col.value(a);
    const vb = col.value(b);
    if (va === null || va === undefined) return vb === null || vb === undefined ? 0 : 1;
    if (vb === null || vb === undefined) return -1;
    const d = typeof va === 'number' && typeof vb === 'number' ? va - vb : collator.compare(String(va), String(vb));
    return d * sort.dir || a.id.localeCompare(b.id);
  });
}

function cell(col: Column, u: CoverageUnit): string {
  const v = col.value(u);
  if (v === null || v === undefined) {
    const why = col.key === 'area_per_resident_m2' && u.meets_target === null ? ` class="num no-residents" title="${escapeHtml(t('noResidents'))}"` : ' class="num"';
    return `<td${why}>–</td>`;
  }
  if (typeof v === 'string') return `<td>${escapeHtml(v)}</td>`;
  const text = `${formatNumber(v, col.digits)}${col.pct ? '%' : ''}`;
  const flag = col.key === 'area_per_resident_m2' ? ` ${targetState(u.meets_target)}` : '';
  return `<td class="num${flag}">${text}</td>`;
}

export function tableHtml(units: CoverageUnit[], sort: SortState): string {
  const head = COLUMNS.map((c) => {
    const sorted = c.key === sort.key ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none';
    const arrow = c.key === sort.key ? (sort.dir === 1 ? ' ▲' : ' ▼') : '';
    return `<th scope="col" aria-sort="${sorted}" class="${c.key === 'name' ? '' : 'num'}"><button type="button" data-sort="${c.key}">${t(c.word)}${arrow}</button></th>`;
  }).join('');
  const rows = units
    .map((u) => `<tr data-unit-id="${escapeHtml(u.id)}" class="${targetState(u.meets_target) === 'bad' ? 'below-target' : ''}">${COLUMNS.map((c) => cell(c, u)).join('')}</tr>`)
    .join('');
  return `<table class="coverage-table"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`;
}

/** CSV of the table (UTF-8 with BOM so spreadsheet programs read the Chinese names), headers in the current language. */
export function tableCsv(units: CoverageUnit[]): string {
  const quote = (v: unknown) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const header = ['id', ...COLUMNS.map((c) => t(c.word)), t('target'), t('meetsTarget')];
  const lines = units.map((u) => [u.id, ...COLUMNS.map((c) => c.value(u)), u.target_m2_per_resident, u.meets_target].map(quote).join(','));
  return `\ufeff${[header.map(quote).join(','), ...lines].join('\r\n')}\r\n`;
}
