import type { Geometry } from 'geojson';
import type ExcelJS from 'exceljs';
import { loadExcelJs } from './excel.ts';
import type { LayerDef } from '../../catalog/layers.ts';
import { DISTRICT_ALIASES, VALUE_ALIASES, normaliseHeader } from './headers.ts';

/** One input row before validation: 1-based row number as the user sees it in their file. */
export interface RawRow {
  row: number;
  properties: Record<string, unknown>;
  geometry?: unknown;
  /** Coordinates from lon/lat or x/y columns (CSV/XLSX). */
  position?: [unknown, unknown];
}

export interface RowError {
  row: number;
  field: string;
  reason: string;
}

export type ImportFormat = 'geojson' | 'csv' | 'xlsx';

export function formatOf(contentType: string | undefined): ImportFormat | null {
  const t = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (t === 'application/geo+json' || t === 'application/json') return 'geojson';
  if (t === 'text/csv' || t === 'application/csv') return 'csv';
  if (t === 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet') return 'xlsx';
  return null;
}

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and line breaks. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const s = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '"') {
        if (s[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && s[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => r.some((cell) => cell.trim() !== ''));
}

/** Coerces a text cell to the registry type; Chinese values (红, 是, 花都区 …) to stored codes. */
function coerceCell(layer: LayerDef, name: string, value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') {
    const v = value.trim();
    if (v === '') return undefined;
    const prop = layer.properties.find((p) => p.name === name);
    if (name === 'district_id') return DISTRICT_ALIASES[v] ?? v;
    const aliased = VALUE_ALIASES[v] ?? v;
    if (!prop) return aliased;
    if (prop.type === 'integer' || prop.type === 'number') return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(aliased) ? Number(aliased) : aliased;
    if (prop.type === 'boolean') return ['true', '1', 'yes'].includes(aliased.toLowerCase()) ? true : ['false', '0', 'no'].includes(aliased.toLowerCase()) ? false : aliased;
    return aliased;
  }
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  return value;
}

function coordCell(value: unknown): unknown {
  if (typeof value === 'string' && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(value.trim())) return Number(value.trim());
  return value;
}

/** Turns a header row + value rows (CSV or a worksheet) into raw rows. */
function tableToRows(layer: LayerDef, header: string[], body: unknown[][], firstRowNumber: number): RawRow[] {
  const names = header.map((h) => normaliseHeader(String(h ?? '')));
  const lonCol = names.indexOf('lon') >= 0 ? names.indexOf('lon') : names.indexOf('x');
  const latCol = names.indexOf('lat') >= 0 ? names.indexOf('lat') : names.indexOf('y');
  return body.map((cells, i) => {
    const properties: Record<string, unknown> = {};
    names.forEach((name, c) => {
      if (c === lonCol || c === latCol || name === '') return;
      const v = coerceCell(layer, name, cells[c]);
      if (v !== undefined) properties[name] = v;
    });
    return {
      row: firstRowNumber + i,
      properties,
      position: lonCol >= 0 && latCol >= 0 ? [coordCell(cells[lonCol]), coordCell(cells[latCol])] : undefined,
    };
  });
}

export function parseCsvRows(layer: LayerDef, text: string): RawRow[] {
  const [header, ...body] = parseCsv(text);
  if (!header) return [];
  // Row 1 is the header, so the first data row is row 2, as a spreadsheet shows it.
  return tableToRows(layer, header, body, 2);
}

export async function parseXlsxRows(layer: LayerDef, data: Buffer): Promise<RawRow[]> {
  const workbook = new (await loadExcelJs()).Workbook();
  await workbook.xlsx.load(data as unknown as ArrayBuffer);
  const sheet = workbook.worksheets[0];
  if (!sheet) return [];
  const cellValue = (v: ExcelJS.CellValue): unknown => {
    if (v && typeof v === 'object' && !(v instanceof Date)) {
      if ('richText' in v) return v.richText.map((t) => t.text).join('');
      if ('result' in v) return v.result;
      if ('text' in v) return v.text;
    }
    return v;
  };
  const table: unknown[][] = [];
  sheet.eachRow({ includeEmpty: false }, (row) => {
    const values = row.values as ExcelJS.CellValue[];
    table.push(values.slice(1).map(cellValue));
  });
  const [header, ...body] = table;
  if (!header) return [];
  return tableToRows(layer, header.map(String), body, 2);
}

export function parseGeoJsonRows(layer: LayerDef, text: string): RawRow[] | RowError {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { row: 0, field: 'body', reason: 'not valid JSON' };
  }
  const fc = doc as { type?: string; features?: unknown[] };
  if (fc?.type !== 'FeatureCollection' || !Array.isArray(fc.features)) return { row: 0, field: 'body', reason: 'a GeoJSON FeatureCollection' };
  return fc.features.map((f, i) => {
    const feature = f as { type?: string; properties?: Record<string, unknown> | null; geometry?: Geometry };
    const properties: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(feature?.properties ?? {})) {
      const name = normaliseHeader(k);
      const value = typeof v === 'string' ? coerceCell(layer, name, v) : v;
      if (value !== undefined && value !== null) properties[name] = value;
    }
    // GeoJSON rows are numbered from 1 in the order of `features`.
    return { row: i + 1, properties, geometry: feature?.geometry };
  });
}
