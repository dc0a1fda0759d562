import type ExcelJS from 'exceljs';

/**
 * ExcelJS, loaded the first time a spreadsheet is read or written. Loading it takes about
 * 0.6 s of CPU, paid otherwise by every process and every analysis worker thread at start
 * (each worker imports the import parsers), though most never touch a spreadsheet.
 */
let excel: Promise<typeof ExcelJS> | undefined;
export function loadExcelJs(): Promise<typeof ExcelJS> {
  excel ??= import('exceljs').then((m) => (m.default ?? m) as typeof ExcelJS);
  return excel;
}
