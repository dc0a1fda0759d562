import type { CoverageUnit } from '../api.ts';
import { escapeHtml } from '../dom.ts';
import { formatNumber, lang, t } from '../i18n.ts';
import { targetState } from './coverage-table.ts';

/**
 * Shelter area per resident per unit as horizontal bars, with the target as a
 * vertical line: red bars fall short of it; a unit without residents has no
 * bar and says so (neither met nor missed). Plain SVG, in the table's order.
 */
export function barChartSvg(units: CoverageUnit[], target: number, width = 340): string {
  const rowH = 16;
  const labelW = 92;
  const valueW = 40;
  const top = 6;
  const plotW = width - labelW - valueW;
  const max = Math.max(target * 1.25, ...units.map((u) => u.area_per_resident_m2 ?? 0), 0.1);
  const x = (v: number) => labelW + (Math.min(v, max) / max) * plotW;
  const height = top * 2 + units.length * rowH;
  const bars = units
    .map((u, i) => {
      const y = top + i * rowH;
      const v = u.area_per_resident_m2 ?? 0;
      const state = targetState(u.meets_target);
      const name = lang() === 'en' ? u.name_en || u.name_zh : u.name_zh;
      const short = name.length > 11 ? `${name.slice(0, 10)}…` : name;
      const figure = state === 'no-residents' ? t('noResidents') : `${formatNumber(v, 2)} m²`;
      return `<g class="bar ${state}" data-unit-id="${escapeHtml(u.id)}">
        <title>${escapeHtml(name)}: ${escapeHtml(figure)}</title>
        <text x="${labelW - 4}" y="${y + 11.5}" text-anchor="end">${escapeHtml(short)}</text>
        <rect x="${labelW}" y="${y + 2}" width="${Math.max(0.5, x(v) - labelW).toFixed(1)}" height="${rowH - 4}"/>
        <text class="value" x="${(x(v) + 3).toFixed(1)}" y="${y + 11.5}">${state === 'no-residents' ? '–' : formatNumber(v, 2)}</text></g>`;
    })
    .join('');
  const tx = x(target).toFixed(1);
  return `<svg class="bar-chart" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(t('chartTitle'))}">
    ${bars}<line class="target" x1="${tx}" x2="${tx}" y1="0" y2="${height}"/></svg>`;
}
