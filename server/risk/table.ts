import type ExcelJS from 'exceljs';
import { loadExcelJs } from '../imports/excel.ts';
import { RISK_COLORS, RISK_LEVELS, type RiskLevel } from '../../catalog/layers.ts';
import { valueTitle } from '../../catalog/vocabulary.ts';
import type { countPoints, RiskPointLine } from './points.ts';
import type { loadHazardSourceLines } from './hazards.ts';

/**
 * "The one table" (一张表) as CSV and XLSX: the same columns as the JSON, for
 * spreadsheets. CSV is UTF-8 with a byte-order mark (Excel on Chinese Windows
 * otherwise reads GBK and garbles the names), CRLF line ends, and text cells
 * starting with = + - @ prefixed with ' so a spreadsheet never runs them.
 */

export type Counts = ReturnType<typeof countPoints>;
export type HazardSourceLine = Awaited<ReturnType<typeof loadHazardSourceLines>>[number] & { r_level: RiskLevel | null; level_disagrees: boolean };

interface Column<T> {
  key: string;
  zh: string;
  get: (row: T) => unknown;
  /** Coded value: the XLSX shows its Chinese title. */
  coded?: boolean;
  width?: number;
}

export const POINT_COLUMNS: Column<RiskPointLine>[] = [
  { key: 'id', zh: '编号', get: (p) => p.id, width: 8 },
  { key: 'district_id', zh: '区', get: (p) => p.district_id, width: 10 },
  { key: 'street_id', zh: '街道编码', get: (p) => p.street_id, width: 16 },
  { key: 'street_name_zh', zh: '街道/镇', get: (p) => p.street_name_zh, width: 14 },
  { key: 'name_zh', zh: '名称', get: (p) => p.name_zh, width: 30 },
  { key: 'name_en', zh: '英文名称', get: (p) => p.name_en, width: 30 },
  { key: 'category', zh: '类别', get: (p) => p.category, coded: true, width: 14 },
  { key: 'level', zh: '风险等级', get: (p) => p.level, coded: true, width: 12 },
  { key: 'level_source', zh: '定级方式', get: (p) => p.level_source, coded: true, width: 10 },
  { key: 'level_reason', zh: '人工定级理由', get: (p) => p.level_reason, width: 30 },
  { key: 'lec_l', zh: 'L', get: (p) => p.lec_l, width: 6 },
  { key: 'lec_e', zh: 'E', get: (p) => p.lec_e, width: 6 },
  { key: 'lec_c', zh: 'C', get: (p) => p.lec_c, width: 6 },
  { key: 'lec_d', zh: 'D=L×E×C', get: (p) => p.lec_d, width: 9 },
  { key: 'assessed_level', zh: '评估等级', get: (p) => p.assessed_level, coded: true, width: 12 },
  { key: 'level_disagrees', zh: '等级不一致', get: (p) => p.level_disagrees, width: 10 },
  { key: 'responsible_unit', zh: '责任单位', get: (p) => p.responsible_unit, width: 26 },
  { key: 'last_inspection', zh: '最近检查', get: (p) => p.inspection.last_inspection, width: 12 },
  { key: 'next_due', zh: '下次检查期限', get: (p) => p.inspection.next_due, width: 12 },
  { key: 'inspection_status', zh: '检查状态', get: (p) => p.inspection.status, width: 12 },
  { key: 'days_overdue', zh: '逾期天数', get: (p) => p.inspection.days_overdue, width: 9 },
  { key: 'lon', zh: '经度', get: (p) => p.lon, width: 12 },
  { key: 'lat', zh: '纬度', get: (p) => p.lat, width: 12 },
  { key: 'address', zh: '地址', get: (p) => p.address, width: 30 },
  { key: 'synthetic', zh: '合成数据', get: (p) => p.synthetic, width: 9 },
];

type CountRow = Counts['by_street_category'][number] & { district_id?: string; street_name_zh?: string | null };

const levelColumns = <T extends Record<RiskLevel | 'total', number>>(): Column<T>[] => [
  ...RISK_LEVELS.map((l) => ({ key: l, zh: valueTitle(l).zh, get: (r: T) => r[l], width: 10 })),
  { key: 'total', zh: '合计', get: (r: T) => r.total, width: 8 },
];

export const COUNT_COLUMNS: Column<CountRow>[] = [
  { key: 'district_id', zh: '区', get: (r) => r.district_id ?? null, width: 10 },
  { key: 'street_id', zh: '街道编码', get: (r) => r.street_id, width: 16 },
  { key: 'street_name_zh', zh: '街道/镇', get: (r) => r.street_name_zh ?? null, width: 14 },
  { key: 'category', zh: '类别', get: (r) => r.category, coded: true, width: 14 },
  ...levelColumns<CountRow>(),
];

type StreetRow = Counts['by_street'][number];
const STREET_COLUMNS: Column<StreetRow>[] = [
  { key: 'district_id', zh: '区', get: (r) => r.district_id, width: 10 },
  { key: 'street_id', zh: '街道编码', get: (r) => r.street_id, width: 16 },
  { key: 'name_zh', zh: '街道/镇', get: (r) => r.name_zh, width: 14 },
  ...levelColumns<StreetRow>(),
];

type CategoryRow = Counts['by_category'][number];
const CATEGORY_COLUMNS: Column<CategoryRow>[] = [{ key: 'category', zh: '类别', get: (r) => r.category, coded: true, width: 14 }, ...levelColumns<CategoryRow>()];

export const HAZARD_SOURCE_COLUMNS: Column<HazardSourceLine>[] = [
  { key: 'id', zh: '编号', get: (h) => h.id, width: 8 },
  { key: 'district_id', zh: '区', get: (h) => h.district_id, width: 10 },
  { key: 'street_id', zh: '街道编码', get: (h) => h.street_id, width: 16 },
  { key: 'street_name_zh', zh: '街道/镇', get: (h) => h.street_name_zh, width: 14 },
  { key: 'name_zh', zh: '名称', get: (h) => h.name_zh, width: 30 },
  { key: 'kind', zh: '类型', get: (h) => h.kind, coded: true, width: 12 },
  { key: 'major_hazard', zh: '重大危险源', get: (h) => h.major_hazard, width: 10 },
  { key: 'sum_q_over_q', zh: 'Σq/Q', get: (h) => h.sum_q_over_q, width: 8 },
  { key: 'r_value', zh: 'R值', get: (h) => h.r_value, width: 8 },
  { key: 'r_level', zh: 'R值分级', get: (h) => h.r_level, coded: true, width: 12 },
  { key: 'level', zh: '风险等级', get: (h) => h.level, coded: true, width: 12 },
  { key: 'level_disagrees', zh: '等级不一致', get: (h) => h.level_disagrees, width: 10 },
  { key: 'lon', zh: '经度', get: (h) => h.lon, width: 12 },
  { key: 'lat', zh: '纬度', get: (h) => h.lat, width: 12 },
  { key: 'address', zh: '地址', get: (h) => h.address, width: 30 },
];

// ------------------------------------------------------------------ CSV

export const CSV_BOM = '\uFEFF';

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let s = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const lines = [columns.map((c) => c.key).join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvCell(c.get(row))).join(','));
  return CSV_BOM + lines.join('\r\n') + '\r\n';
}

/** The street × category × level rows with the street's district and name (CSV `part=counts`, XLSX sheet). */
export function countRows(counts: Counts): CountRow[] {
  const streets = new Map(counts.by_street.map((s) => [s.street_id, s]));
  return counts.by_street_category.map((r) => ({ ...r, district_id: r.street_id ? streets.get(r.street_id)?.district_id : undefined, street_name_zh: r.street_id ? (streets.get(r.street_id)?.name_zh ?? null) : null }));
}

// ------------------------------------------------------------------ XLSX

function addSheet<T>(wb: ExcelJS.Workbook, name: string, rows: readonly T[], columns: readonly Column<T>[]): void {
  const ws = wb.addWorksheet(name, { views: [{ state: 'frozen', ySplit: 2 }] });
  ws.columns = columns.map((c) => ({ key: c.key, width: c.width ?? 12 }));
  ws.addRow(columns.map((c) => c.zh)).font = { bold: true };
  ws.addRow(columns.map((c) => c.key)).font = { italic: true, color: { argb: 'FF666666' } };
  const levelCols = columns.map((c, i) => (c.key === 'level' || c.key === 'assessed_level' || c.key === 'r_level' ? i + 1 : 0)).filter(Boolean);
  for (const row of rows) {
    const values = columns.map((c) => {
      const v = c.get(row);
      if (v === null || v === undefined) return null;
      if (c.coded && typeof v === 'string') return valueTitle(v).zh;
      if (typeof v === 'boolean') return v ? '是' : '否';
      return v as ExcelJS.CellValue;
    });
    const added = ws.addRow(values);
    for (const col of levelCols) {
      const raw = columns[col - 1].get(row) as RiskLevel | null;
      if (raw && RISK_COLORS[raw]) {
        added.getCell(col).fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: `FF${RISK_COLORS[raw].slice(1).toUpperCase()}` } };
      }
    }
  }
  ws.autoFilter = { from: { row: 2, column: 1 }, to: { row: 2, column: columns.length } };
}

export async function toXlsx(input: {
  title: string;
  counts: Counts;
  points: readonly RiskPointLine[];
  hazardSources?: readonly HazardSourceLine[];
  notes: string[];
}): Promise<Buffer> {
  const wb = new (await loadExcelJs()).Workbook();
  wb.creator = 'onemap';
  // A fixed date keeps the file the same for the same data (ExcelJS stamps "now" otherwise).
  wb.created = new Date(0);
  wb.modified = new Date(0);
  const about = wb.addWorksheet('说明 About');
  about.columns = [{ width: 100 }];
  about.addRow([input.title]).font = { bold: true, size: 14 };
  for (const n of input.notes) about.addRow([n]);
  addSheet(wb, '按街道 By street', [...input.counts.by_street], STREET_COLUMNS);
  addSheet(wb, '按类别 By category', [...input.counts.by_category], CATEGORY_COLUMNS);
  addSheet(wb, '街道×类别 Street×category', countRows(input.counts), COUNT_COLUMNS);
  addSheet(wb, '清单 Points', input.points, POINT_COLUMNS);
  if (input.hazardSources) addSheet(wb, '危化企业 Hazard sources', input.hazardSources, HAZARD_SOURCE_COLUMNS);
  return Buffer.from(await wb.xlsx.writeBuffer());
}
