import { legendEntries, type LayerDef } from '../../catalog/layers.ts';
import type { Lang } from './params.ts';
import { escapeXml, fitText, px, textWidth } from './markup.ts';

/**
 * The legend, derived from the layer registry exactly as the /layers catalogue
 * derives it (legendEntries): one swatch per coloured value, drawn the way the
 * map draws that geometry. Used inside the static map and alone (/maps/legend.png).
 */
export type SwatchKind = 'point' | 'line' | 'polygon' | 'outline' | 'cluster';

export interface LegendItem {
  kind: SwatchKind;
  color: string;
  label: string;
  fillOpacity?: number;
  lineWidth?: number;
}

export interface LegendSection {
  title: string;
  items: LegendItem[];
}

export const LEGEND_TEXT = {
  heading: { zh: '图例', en: 'Legend' },
  boundaries: { zh: '边界', en: 'Boundaries' },
  cluster: { zh: '聚合点（数字为个数）', en: 'Cluster (count)' },
  more: { zh: '…（图例未完）', en: '… (legend continues)' },
} as const;

function swatchKind(layer: LayerDef): SwatchKind {
  if (layer.geometry === 'point') return 'point';
  if (layer.geometry === 'line') return 'line';
  return (layer.style.fillOpacity ?? 0.35) > 0 ? 'polygon' : 'outline';
}

/** One section per layer, in the given order, with the registry's colours and titles. */
export function layerSection(layer: LayerDef, lang: Lang, withCluster: boolean): LegendSection {
  const kind = swatchKind(layer);
  const items: LegendItem[] = legendEntries(layer).map((entry) => ({
    kind,
    color: entry.color,
    label: entry.title[lang],
    fillOpacity: layer.style.fillOpacity,
    lineWidth: layer.style.lineWidth,
  }));
  if (withCluster) {
    // Ring colour of a cluster = most severe member; show it with the first (most severe) colour.
    items.push({ kind: 'cluster', color: items[0]?.color ?? layer.style.color, label: LEGEND_TEXT.cluster[lang] });
  }
  return { title: layer.title[lang], items };
}

/** The boundaries section: one outline swatch per administrative layer drawn. */
export function boundarySection(units: readonly LayerDef[], lang: Lang): LegendSection | null {
  if (units.length === 0) return null;
  return {
    title: LEGEND_TEXT.boundaries[lang],
    items: units.map((u) => ({
      kind: 'outline' as const,
      color: u.style.color,
      label: lang === 'zh' ? `${u.title.zh}界` : u.title.en,
      lineWidth: u.style.lineWidth,
    })),
  };
}

export const LEGEND_METRICS = {
  padding: 10,
  headingSize: 13,
  sectionSize: 11.5,
  itemSize: 11,
  rowHeight: 17,
  sectionGap: 6,
  swatchWidth: 18,
} as const;

function swatch(item: LegendItem, x: number, cy: number): string {
  const w = LEGEND_METRICS.swatchWidth;
  switch (item.kind) {
    case 'point':
      return `<circle cx="${px(x + w / 2)}" cy="${px(cy)}" r="5" fill="${item.color}" stroke="#ffffff" stroke-width="1.2"/>`;
    case 'line':
      return `<line x1="${px(x)}" y1="${px(cy)}" x2="${px(x + w)}" y2="${px(cy)}" stroke="${item.color}" stroke-width="${item.lineWidth ?? 2}" stroke-linecap="round"/>`;
    case 'polygon':
      return `<rect x="${px(x + 1)}" y="${px(cy - 6)}" width="${w - 2}" height="12" fill="${item.color}" fill-opacity="${item.fillOpacity ?? 0.35}"${
        (item.lineWidth ?? 1) > 0 ? ` stroke="${item.color}" stroke-width="1"` : ''
      }/>`;
    case 'outline':
      return `<rect x="${px(x + 1)}" y="${px(cy - 6)}" width="${w - 2}" height="12" fill="none" stroke="${item.color}" stroke-width="${Math.min(item.lineWidth ?? 1, 2.5)}"/>`;
    case 'cluster':
      return `<circle cx="${px(x + w / 2)}" cy="${px(cy)}" r="7" fill="#ffffff" stroke="${item.color}" stroke-width="2.5"/><text x="${px(x + w / 2)}" y="${px(cy + 3)}" font-size="8" font-weight="bold" text-anchor="middle" fill="#222222">n</text>`;
  }
}

/** Natural size of the legend block (CSS px) when nothing is cut. */
export function legendSize(sections: readonly LegendSection[], lang: Lang): { width: number; height: number } {
  const m = LEGEND_METRICS;
  let width = textWidth(LEGEND_TEXT.heading[lang], m.headingSize);
  let height = m.padding + m.headingSize + m.sectionGap;
  for (const s of sections) {
    width = Math.max(width, textWidth(s.title, m.sectionSize));
    height += m.rowHeight + s.items.length * m.rowHeight + m.sectionGap;
    for (const i of s.items) width = Math.max(width, m.swatchWidth + 6 + textWidth(i.label, m.itemSize));
  }
  return { width: Math.ceil(width + 2 * m.padding), height: Math.ceil(height + m.padding) };
}

/**
 * The legend as an SVG group at (x, y) within `width`×`maxHeight`. Rows that do
 * not fit are replaced by one "legend continues" line rather than drawn outside.
 */
export function legendGroup(sections: readonly LegendSection[], lang: Lang, x: number, y: number, width: number, maxHeight: number): string {
  const m = LEGEND_METRICS;
  const inner = width - 2 * m.padding;
  const left = x + m.padding;
  const bottom = y + maxHeight - m.padding;
  let cy = y + m.padding + m.headingSize;
  const out: string[] = [`<text x="${px(left)}" y="${px(cy)}" font-size="${m.headingSize}" font-weight="bold" fill="#1f2933">${escapeXml(LEGEND_TEXT.heading[lang])}</text>`];
  cy += m.sectionGap;
  const flat: ({ kind: 'section'; text: string } | { kind: 'item'; item: LegendItem } | { kind: 'gap' })[] = [];
  for (const s of sections) {
    flat.push({ kind: 'section', text: s.title });
    for (const item of s.items) flat.push({ kind: 'item', item });
    flat.push({ kind: 'gap' });
  }
  for (let i = 0; i < flat.length; i++) {
    const row = flat[i];
    if (row.kind === 'gap') {
      cy += m.sectionGap;
      continue;
    }
    const rowsLeft = flat.slice(i).filter((r) => r.kind !== 'gap').length;
    // Keep one row free for the "continues" note unless this is the last row.
    if (cy + m.rowHeight > bottom || (rowsLeft > 1 && cy + 2 * m.rowHeight > bottom)) {
      out.push(`<text x="${px(left)}" y="${px(cy + m.rowHeight - 5)}" font-size="${m.itemSize}" fill="#52606d">${escapeXml(LEGEND_TEXT.more[lang])}</text>`);
      break;
    }
    const mid = cy + m.rowHeight / 2;
    if (row.kind === 'section') {
      out.push(`<text x="${px(left)}" y="${px(cy + m.rowHeight - 5)}" font-size="${m.sectionSize}" font-weight="bold" fill="#323f4b">${escapeXml(fitText(row.text, m.sectionSize, inner))}</text>`);
    } else {
      out.push(swatch(row.item, left, mid));
      const label = fitText(row.item.label, m.itemSize, inner - m.swatchWidth - 6);
      out.push(`<text x="${px(left + m.swatchWidth + 6)}" y="${px(cy + m.rowHeight - 5)}" font-size="${m.itemSize}" fill="#323f4b">${escapeXml(label)}</text>`);
    }
    cy += m.rowHeight;
  }
  return `<g class="legend">${out.join('')}</g>`;
}

/** A standalone legend image (for /maps/legend.png), sized to its content. */
export function legendSvg(sections: readonly LegendSection[], lang: Lang, scale: number, fontFamily: string): string {
  const { width, height } = legendSize(sections, lang);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width * scale}" height="${height * scale}" viewBox="0 0 ${width} ${height}" font-family="${escapeXml(fontFamily)}">` +
    `<rect width="${width}" height="${height}" fill="#ffffff"/>` +
    legendGroup(sections, lang, 0, 0, width, height + LEGEND_METRICS.padding) +
    `</svg>`
  );
}
