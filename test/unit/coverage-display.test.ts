/**
 * The planner's coverage table and bar chart against the server's coverage
 * lines: a unit without residents (`meets_target: null`) is neither met nor
 * missed, so it must not be painted as failing.
 */
import { describe, expect, it } from 'vitest';
import type { CoverageUnit } from '../../client/src/api.ts';
import { barChartSvg } from '../../client/src/planner/bar-chart.ts';
import { tableCsv, tableHtml, targetState } from '../../client/src/planner/coverage-table.ts';

const line = (id: string, residents: number, areaM2: number, target = 1.5): CoverageUnit => {
  const perResident = residents > 0 ? areaM2 / residents : null;
  return {
    id,
    name_zh: `单元${id}`,
    name_en: `Unit ${id}`,
    residents,
    covered_residents: residents,
    uncovered_residents: 0,
    covered_pct: residents > 0 ? 100 : null,
    shelters: areaM2 > 0 ? 1 : 0,
    shelter_area_m2: areaM2,
    area_per_resident_m2: perResident,
    target_m2_per_resident: target,
    meets_target: perResident === null ? null : perResident >= target,
    area_shortfall_m2: Math.max(0, target * residents - areaM2),
    capacity: 0,
    catchment_m2_per_resident: perResident,
    catchment_meets_target: perResident === null ? null : perResident >= target,
    residents_below_target_by_catchment: 0,
    sheltered_residents: residents,
    unsheltered_residents: 0,
    unsheltered_pct: residents > 0 ? 0 : null,
  };
};

const met = line('met', 1000, 2000);
const missed = line('missed', 1000, 500);
const empty = line('empty', 0, 0);
const units = [met, missed, empty];

const barClass = (svg: string, id: string) => new RegExp(`<g class="bar ([\\w-]+)" data-unit-id="${id}"`).exec(svg)?.[1];
const row = (html: string, id: string) => new RegExp(`<tr data-unit-id="${id}" class="([^"]*)">(.*?)</tr>`).exec(html);

describe('coverage display of units without residents', () => {
  it('names three states', () => {
    expect([true, false, null].map(targetState)).toEqual(['ok', 'bad', 'no-residents']);
  });

  it('the bar chart paints met and missed units, and marks an empty unit as neither', () => {
    const svg = barChartSvg(units, 1.5);
    expect(barClass(svg, 'met')).toBe('ok');
    expect(barClass(svg, 'missed')).toBe('bad');
    expect(barClass(svg, 'empty')).toBe('no-residents');
    expect(svg).toContain('<title>单元empty: 无常住人口</title>');
  });

  it('the table flags only the missed unit as below target', () => {
    const html = tableHtml(units, { key: 'name', dir: 1 });
    expect(row(html, 'missed')![1]).toBe('below-target');
    expect(row(html, 'met')![1]).toBe('');
    const emptyRow = row(html, 'empty')!;
    expect(emptyRow[1]).toBe('');
    expect(emptyRow[2]).not.toMatch(/class="num (ok|bad)"/);
    expect(emptyRow[2]).toContain('class="num no-residents"');
  });

  it('the CSV leaves the verdict of an empty unit blank', () => {
    const lines = tableCsv(units).split('\r\n');
    expect(lines.find((l) => l.startsWith('empty,'))!.endsWith(',1.5,')).toBe(true);
    expect(lines.find((l) => l.startsWith('missed,'))!.endsWith(',1.5,false')).toBe(true);
  });
});
