import type { LayerDef } from '../../catalog/layers.ts';
import type { MapArea } from './area.ts';
import { gridCluster, type ScreenPoint } from './cluster.ts';
import type { ContextUnits, LayerFeatures } from './features.ts';
import { unitLayerDef } from './features.ts';
import { boundarySection, layerSection, legendGroup, type LegendSection } from './legend.ts';
import { escapeXml, fitText, geometryPath, pointPositions, px, textWidth } from './markup.ts';
import type { Lang } from './params.ts';
import { metresPerPixelAt, type Rect, type Viewport } from './projection.ts';
import { OVERLAY_STYLE, overlaySection, type OverlayShapes } from './overlay.ts';

/**
 * Composes a static map as one SVG document: the map frame (area, outlines,
 * features in their registry colours, clusters, labels, north arrow, scale bar)
 * with a title bar above, the legend to the right and a footer with the
 * timestamp and, where it applies, the synthetic-data notice. All sizes are CSS
 * pixels; `scale` only multiplies the output size.
 */

export interface MapLayout {
  width: number;
  height: number;
  /** Title bar, legend panel and footer; null on images too small for them (map only). */
  title: Rect | null;
  legend: Rect | null;
  footer: Rect | null;
  frame: Rect;
}

/** Below this size an image is a thumbnail: the map alone, no title, legend or footer. */
export const MIN_DECORATED = { width: 320, height: 200 } as const;
const TITLE_HEIGHT = 34;
const FOOTER_HEIGHT = 22;

export function layoutFor(width: number, height: number): MapLayout {
  if (width < MIN_DECORATED.width || height < MIN_DECORATED.height) {
    return { width, height, title: null, legend: null, footer: null, frame: { x: 0, y: 0, width, height } };
  }
  const legendWidth = Math.min(240, Math.max(140, Math.round(width * 0.28)));
  const frameHeight = height - TITLE_HEIGHT - FOOTER_HEIGHT;
  return {
    width,
    height,
    title: { x: 0, y: 0, width, height: TITLE_HEIGHT },
    frame: { x: 0, y: TITLE_HEIGHT, width: width - legendWidth, height: frameHeight },
    legend: { x: width - legendWidth, y: TITLE_HEIGHT, width: legendWidth, height: frameHeight },
    footer: { x: 0, y: height - FOOTER_HEIGHT, width, height: FOOTER_HEIGHT },
  };
}

export interface MapScene {
  layout: MapLayout;
  viewport: Viewport;
  scale: 1 | 2;
  lang: Lang;
  area: MapArea;
  layers: readonly LayerFeatures[];
  context: readonly ContextUnits[];
  /** Coverage analysis drawn over the polygons, under outlines and points. */
  overlays?: readonly OverlayShapes[];
  fontFamily: string;
  /** When the map was made; printed in the footer. */
  timestamp: Date;
  timeZone: string;
  clusterCell: number;
  clusterMinPoints: number;
}

export interface ComposedMap {
  svg: string;
  /** Points drawn one by one, clusters drawn, and whether the synthetic notice was printed. */
  stats: { points: number; clusters: number; shapes: number; synthetic: boolean };
}

export const MAP_TEXT = {
  titleSuffix: { zh: '应急一张图', en: 'emergency map' },
  made: { zh: '制图时间', en: 'Made' },
  synthetic: { zh: '合成示意数据，非真实位置', en: 'Synthetic demo data, not real locations' },
  north: { zh: '北', en: 'N' },
} as const;

const COLORS = {
  paper: '#ffffff',
  outside: '#e9edf1',
  inside: '#ffffff',
  frame: '#9aa5b1',
  text: '#1f2933',
  muted: '#52606d',
  notice: '#b44d12',
  halo: '#ffffff',
};

/** Colour of a feature and its severity rank (0 = first colour of the registry's list). */
function colourOf(layer: LayerDef, value: string | null): { color: string; rank: number } {
  const by = layer.style.by;
  if (!by || value === null) return { color: layer.style.color, rank: Number.MAX_SAFE_INTEGER };
  const values = Object.keys(by.colors);
  const i = values.indexOf(value);
  return i < 0 ? { color: layer.style.color, rank: Number.MAX_SAFE_INTEGER } : { color: by.colors[value], rank: i };
}

/** `2026-11-25 09:30 (UTC+8)` in the given time zone. */
export function formatTimestamp(date: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'shortOffset',
  }).formatToParts(date);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const offset = get('timeZoneName').replace(/^GMT$/, 'UTC').replace(/^GMT/, 'UTC');
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')} (${offset})`;
}

/** A length of 1, 2 or 5 × 10^n metres that is at most `maxMetres`. */
export function niceLength(maxMetres: number): number {
  const pow = 10 ** Math.floor(Math.log10(maxMetres));
  for (const f of [5, 2, 1]) if (f * pow <= maxMetres) return f * pow;
  return pow;
}

function scaleBar(viewport: Viewport): string {
  const { frame, metresPerPixel } = viewport;
  const maxPx = Math.min(120, frame.width * 0.3);
  const metres = niceLength(maxPx * metresPerPixel);
  const len = metres / metresPerPixel;
  const label = metres >= 1000 ? `${metres / 1000} km` : `${metres} m`;
  const x = frame.x + 12;
  const y = frame.y + frame.height - 14;
  const half = len / 2;
  return (
    `<g class="scale-bar">` +
    `<rect x="${px(x - 5)}" y="${px(y - 19)}" width="${px(len + 10 + Math.max(0, textWidth(label, 10) - len))}" height="28" fill="#ffffff" fill-opacity="0.8" rx="2"/>` +
    `<rect x="${px(x)}" y="${px(y)}" width="${px(half)}" height="4" fill="${COLORS.text}"/>` +
    `<rect x="${px(x + half)}" y="${px(y)}" width="${px(half)}" height="4" fill="#ffffff" stroke="${COLORS.text}" stroke-width="0.8"/>` +
    `<rect x="${px(x)}" y="${px(y)}" width="${px(len)}" height="4" fill="none" stroke="${COLORS.text}" stroke-width="0.8"/>` +
    `<text x="${px(x)}" y="${px(y - 5)}" font-size="10" fill="${COLORS.text}">${escapeXml(label)}</text>` +
    `</g>`
  );
}

function northArrow(frame: Rect, lang: Lang): string {
  const cx = frame.x + 20;
  const top = frame.y + 10;
  return (
    `<g class="north-arrow">` +
    `<circle cx="${px(cx)}" cy="${px(top + 15)}" r="15" fill="#ffffff" fill-opacity="0.8"/>` +
    `<path d="M${px(cx)} ${px(top + 2)}L${px(cx + 6)} ${px(top + 18)}L${px(cx)} ${px(top + 14)}Z" fill="${COLORS.text}"/>` +
    `<path d="M${px(cx)} ${px(top + 2)}L${px(cx - 6)} ${px(top + 18)}L${px(cx)} ${px(top + 14)}Z" fill="#ffffff" stroke="${COLORS.text}" stroke-width="0.8"/>` +
    `<text x="${px(cx)}" y="${px(top + 28)}" font-size="9" font-weight="bold" text-anchor="middle" fill="${COLORS.text}">${MAP_TEXT.north[lang]}</text>` +
    `</g>`
  );
}

/** Short label for a unit on the map; English drops the generic suffix to save room. */
function unitLabel(name: { zh: string; en: string }, lang: Lang): string {
  return lang === 'zh' ? name.zh : name.en.replace(/\s+(Subdistrict|Town|Community|Village|District)$/i, '');
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}
const overlaps = (a: Box, b: Box) => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;

export function composeMapSvg(scene: MapScene): ComposedMap {
  const { layout, viewport, lang, area } = scene;
  const { frame } = layout;
  const project = viewport.project;
  const W = layout.width;
  const H = layout.height;
  const out: string[] = [];
  let synthetic = area.synthetic;
  let shapes = 0;
  let pointsDrawn = 0;
  let clustersDrawn = 0;

  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W * scene.scale}" height="${H * scene.scale}" viewBox="0 0 ${W} ${H}" font-family="${escapeXml(scene.fontFamily)}">`,
  );
  const outlinePath = area.outline ? geometryPath(area.outline, project) : '';
  out.push('<defs>');
  out.push(`<clipPath id="frame"><rect x="${px(frame.x)}" y="${px(frame.y)}" width="${px(frame.width)}" height="${px(frame.height)}"/></clipPath>`);
  if (outlinePath) out.push(`<clipPath id="area"><path d="${outlinePath}" clip-rule="evenodd"/></clipPath>`);
  out.push('</defs>');
  out.push(`<rect width="${W}" height="${H}" fill="${COLORS.paper}"/>`);

  // ---- map frame ----
  out.push(`<g clip-path="url(#frame)">`);
  out.push(`<rect x="${px(frame.x)}" y="${px(frame.y)}" width="${px(frame.width)}" height="${px(frame.height)}" fill="${outlinePath ? COLORS.outside : COLORS.inside}"/>`);
  if (outlinePath) out.push(`<path d="${outlinePath}" fill="${COLORS.inside}" fill-rule="evenodd"/>`);
  const clipArea = outlinePath ? ' clip-path="url(#area)"' : '';

  // Polygons first, then unit outlines, then lines: points stay on top of everything.
  const byGeometry = (g: LayerDef['geometry']) => scene.layers.filter((l) => l.layer.geometry === g);
  for (const { layer, features } of byGeometry('polygon')) {
    const fillOpacity = layer.style.fillOpacity ?? 0.35;
    const lineWidth = layer.style.lineWidth ?? 1;
    out.push(`<g class="layer-${layer.id}"${clipArea}>`);
    for (const f of features) {
      const d = geometryPath(f.geometry, project);
      if (!d) continue;
      const { color } = colourOf(layer, f.styleValue);
      out.push(
        `<path d="${d}" fill="${fillOpacity > 0 ? color : 'none'}"${fillOpacity > 0 ? ` fill-opacity="${fillOpacity}"` : ''} fill-rule="evenodd"${
          lineWidth > 0 ? ` stroke="${color}" stroke-width="${lineWidth}" stroke-linejoin="round"` : ''
        }/>`,
      );
      synthetic ||= f.synthetic;
      shapes++;
    }
    out.push('</g>');
  }

  for (const overlay of scene.overlays ?? []) {
    if (overlay.kind === 'gaps') {
      const { color, fillOpacity, lineWidth } = OVERLAY_STYLE.gaps;
      out.push(`<g class="overlay-gaps"${clipArea} fill="${color}" fill-opacity="${fillOpacity}"${lineWidth > 0 ? ` stroke="${color}" stroke-width="${lineWidth}"` : ''} stroke-linejoin="round">`);
      for (const g of overlay.gaps) {
        const d = geometryPath(g.geometry, project);
        if (d) out.push(`<path d="${d}" fill-rule="evenodd"/>`);
      }
      out.push('</g>');
    } else {
      // One group opacity: overlapping service areas read as their union, not darker.
      const { color, fillOpacity } = OVERLAY_STYLE.coverage;
      out.push(`<g class="overlay-coverage"${clipArea}><g opacity="${fillOpacity}" fill="${color}">`);
      for (const c of overlay.circles) {
        const [x, y] = project(c.lon, c.lat);
        out.push(`<circle cx="${px(x)}" cy="${px(y)}" r="${px(c.radiusM / metresPerPixelAt(viewport, c.lat))}"/>`);
      }
      out.push('</g></g>');
    }
    synthetic ||= overlay.synthetic;
  }

  const labels: { x: number; y: number; text: string }[] = [];
  for (const ctx of scene.context) {
    const def = unitLayerDef(ctx.layer);
    out.push(`<g class="units-${ctx.layer}"${clipArea} fill="none" stroke="${def.style.color}" stroke-width="${def.style.lineWidth ?? 1}" stroke-linejoin="round">`);
    for (const u of ctx.units) {
      const d = geometryPath(u.geometry, project);
      if (d) out.push(`<path d="${d}"/>`);
      synthetic ||= u.synthetic;
      if (ctx.labelled) {
        const [x, y] = project(u.labelAt[0], u.labelAt[1]);
        labels.push({ x, y, text: unitLabel(u.name, lang) });
      }
    }
    out.push('</g>');
  }

  for (const { layer, features } of byGeometry('line')) {
    out.push(`<g class="layer-${layer.id}"${clipArea} fill="none" stroke-width="${layer.style.lineWidth ?? 2}" stroke-linecap="round" stroke-linejoin="round">`);
    for (const f of features) {
      const d = geometryPath(f.geometry, project);
      if (!d) continue;
      out.push(`<path d="${d}" stroke="${colourOf(layer, f.styleValue).color}"/>`);
      synthetic ||= f.synthetic;
      shapes++;
    }
    out.push('</g>');
  }

  if (outlinePath && area.unitLayer) {
    const def = unitLayerDef(area.unitLayer);
    out.push(`<path class="area-outline" d="${outlinePath}" fill="none" stroke="${def.style.color}" stroke-width="${Math.max(2, def.style.lineWidth ?? 1)}" stroke-linejoin="round"/>`);
  }

  // Points: clustered where the registry says so and the map is zoomed out; the
  // least severe are drawn first so the most severe end up on top.
  const clusteredLayers = new Set<string>();
  const markers: string[] = [];
  // Clusters go above every layer's single markers, so their counts stay readable.
  const clusterMarkers: string[] = [];
  const markerBoxes: Box[] = [];
  for (const { layer, features } of byGeometry('point')) {
    const r = layer.style.radius ?? 5;
    const screen: (ScreenPoint & { i: number })[] = [];
    for (const f of features) {
      const { color, rank } = colourOf(layer, f.styleValue);
      for (const pos of pointPositions(f.geometry)) {
        const [x, y] = project(pos[0], pos[1]);
        if (x < frame.x - r || x > frame.x + frame.width + r || y < frame.y - r || y > frame.y + frame.height + r) continue;
        screen.push({ x, y, color, rank, i: screen.length });
        synthetic ||= f.synthetic;
      }
    }
    const clusterHere = layer.cluster !== undefined && viewport.zoom < layer.cluster.belowZoom;
    const { singles, clusters } = clusterHere
      ? gridCluster(screen, scene.clusterCell, scene.clusterMinPoints)
      : { singles: screen, clusters: [] };
    (singles as (ScreenPoint & { i: number })[]).sort((a, b) => b.rank - a.rank || a.i - b.i);
    markers.push(`<g class="layer-${layer.id}" stroke="#ffffff" stroke-width="1.2">`);
    for (const p of singles) {
      markers.push(`<circle cx="${px(p.x)}" cy="${px(p.y)}" r="${r}" fill="${p.color}"/>`);
      markerBoxes.push({ x0: p.x - r, y0: p.y - r, x1: p.x + r, y1: p.y + r });
    }
    markers.push('</g>');
    if (clusters.length > 0) {
      clusteredLayers.add(layer.id);
      clusterMarkers.push(`<g class="clusters-${layer.id}">`);
      for (const c of clusters) {
        const cr = Math.min(17, 8 + 2.2 * Math.log2(c.count));
        const label = c.count >= 1000 ? `${Math.floor(c.count / 1000)}k` : String(c.count);
        clusterMarkers.push(
          `<circle cx="${px(c.x)}" cy="${px(c.y)}" r="${px(cr)}" fill="#ffffff" fill-opacity="0.92" stroke="${c.color}" stroke-width="3"/>` +
            `<text x="${px(c.x)}" y="${px(c.y + 3.5)}" font-size="10" font-weight="bold" text-anchor="middle" fill="${COLORS.text}">${label}</text>`,
        );
        markerBoxes.push({ x0: c.x - cr, y0: c.y - cr, x1: c.x + cr, y1: c.y + cr });
      }
      clusterMarkers.push('</g>');
    }
    pointsDrawn += singles.length;
    clustersDrawn += clusters.length;
  }

  // Unit labels (not on thumbnails): in id order, skipped where they would hit a
  // label already placed. A label goes on top of the markers only where it covers
  // none (trying a little above and below its anchor); otherwise it goes beneath
  // them, so a name never hides a risk point or shelter.
  const above: string[] = [];
  const beneath: string[] = [];
  const placed: Box[] = [];
  const labelSize = 10.5;
  for (const l of layout.title ? labels : []) {
    const w = textWidth(l.text, labelSize);
    const boxAt = (dy: number) => ({ x0: l.x - w / 2 - 2, y0: l.y + dy - labelSize, x1: l.x + w / 2 + 2, y1: l.y + dy + 3 });
    const inFrame = (b: Box) => b.x0 >= frame.x && b.x1 <= frame.x + frame.width && b.y0 >= frame.y && b.y1 <= frame.y + frame.height;
    const candidates = [0, -12, 12, -24, 24].map(boxAt).filter((b) => inFrame(b) && !placed.some((p) => overlaps(p, b)));
    if (candidates.length === 0) continue;
    const free = candidates.find((b) => !markerBoxes.some((m) => overlaps(m, b)));
    const box = free ?? candidates[0];
    placed.push(box);
    (free ? above : beneath).push(
      `<text x="${px(l.x)}" y="${px(box.y1 - 3)}" font-size="${labelSize}" text-anchor="middle" fill="${COLORS.muted}" stroke="${COLORS.halo}" stroke-width="3" stroke-linejoin="round" paint-order="stroke">${escapeXml(l.text)}</text>`,
    );
  }
  out.push(...beneath, ...markers, ...clusterMarkers, ...above);

  if (layout.title) {
    out.push(northArrow(frame, lang));
    out.push(scaleBar(viewport));
  }
  out.push('</g>');
  out.push(`<rect x="${px(frame.x + 0.5)}" y="${px(frame.y + 0.5)}" width="${px(frame.width - 1)}" height="${px(frame.height - 1)}" fill="none" stroke="${COLORS.frame}" stroke-width="1"/>`);

  // ---- title, legend, footer ----
  if (layout.title) {
    const t = layout.title;
    const title = `${area.name[lang]}${lang === 'zh' ? ' ' : ' — '}${MAP_TEXT.titleSuffix[lang]}`;
    out.push(
      `<text x="${px(t.x + 12)}" y="${px(t.y + 23)}" font-size="17" font-weight="bold" fill="${COLORS.text}">${escapeXml(fitText(title, 17, t.width - 24))}</text>`,
    );
  }
  if (layout.legend) {
    const l = layout.legend;
    const sections: LegendSection[] = [];
    const units = [
      ...(area.unitLayer ? [unitLayerDef(area.unitLayer)] : []),
      ...scene.context.filter((c) => c.units.length > 0).map((c) => unitLayerDef(c.layer)),
    ];
    const boundaries = boundarySection([...new Map(units.map((u) => [u.id, u])).values()], lang);
    for (const { layer } of scene.layers) sections.push(layerSection(layer, lang, clusteredLayers.has(layer.id)));
    for (const overlay of scene.overlays ?? []) sections.push(overlaySection(overlay, lang));
    if (boundaries) sections.push(boundaries);
    out.push(legendGroup(sections, lang, l.x, l.y, l.width, l.height));
  }
  if (layout.footer) {
    const f = layout.footer;
    const made = `${MAP_TEXT.made[lang]} ${formatTimestamp(scene.timestamp, scene.timeZone)}`;
    out.push(`<text x="${px(f.x + 12)}" y="${px(f.y + 15)}" font-size="10" fill="${COLORS.muted}">${escapeXml(made)}</text>`);
    if (synthetic) {
      const notice = MAP_TEXT.synthetic[lang];
      out.push(
        `<text class="synthetic-notice" x="${px(f.x + f.width - 12)}" y="${px(f.y + 15)}" font-size="10.5" font-weight="bold" text-anchor="end" fill="${COLORS.notice}">${escapeXml(notice)}</text>`,
      );
    }
  }
  out.push('</svg>');
  return { svg: out.join(''), stats: { points: pointsDrawn, clusters: clustersDrawn, shapes, synthetic } };
}
