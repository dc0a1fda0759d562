import type { FeatureLike } from 'ol/Feature.js';
import { Circle, Fill, RegularShape, Stroke, Style, Text } from 'ol/style.js';
import type { LayerInfo } from './api.ts';
import { levelRank, riskLevelColor } from './risk.ts';
import { shapeOf, shapeParams, styleValue, symbolFor, type PointSpec, type SymbolSpec } from './symbols.ts';
import { FONT_STACK, type Theme } from './theme.ts';

/**
 * OpenLayers styles generated from the catalogue's style entries (colour, colour
 * by property, radius, line width, fill opacity). Styles are cached by what
 * distinguishes them, so rendering thousands of points allocates almost nothing.
 */

/** What styles need to know about live changes (see live/store.ts). */
export interface LiveView {
  /** A newer version of this feature is drawn by the live overlay, or it was deleted. */
  overridden(layerId: string, id: string | number | undefined): boolean;
  /** Latest occupancy of a shelter, when it changed since the tiles were loaded. */
  shelter(id: string | number | undefined): { occupancy?: number; capacity?: number; status?: string } | undefined;
}

export const NO_LIVE: LiveView = { overridden: () => false, shelter: () => undefined };

const cache = new Map<string, Style | Style[]>();
function cached<T extends Style | Style[]>(key: string, make: () => T): T {
  let s = cache.get(key) as T | undefined;
  if (!s) {
    if (cache.size > 5000) cache.clear();
    cache.set(key, (s = make()));
  }
  return s;
}

/**
 * Symbols are never decluttered. Saying so explicitly matters: OpenLayers 10's
 * vector-tile hit detection skips images in 'declutter' mode (the default) on
 * layers that do not declutter, so without it no point could be clicked.
 */
const NO_DECLUTTER = 'none' as const;

function pointImage(spec: PointSpec, strokeWidth = 1.5) {
  const fill = new Fill({ color: spec.color });
  const stroke = new Stroke({ color: spec.stroke, width: strokeWidth });
  if (spec.shape === 'circle') return new Circle({ radius: spec.radius, fill, stroke, declutterMode: NO_DECLUTTER });
  const p = shapeParams(spec.shape);
  return new RegularShape({ points: p.points, radius: spec.radius * p.radiusFactor, angle: p.angle, rotation: p.rotation, fill, stroke, declutterMode: NO_DECLUTTER });
}

function specStyle(spec: SymbolSpec, zIndex?: number): Style {
  if (spec.kind === 'point') return new Style({ image: pointImage(spec), zIndex });
  if (spec.kind === 'line') return new Style({ stroke: new Stroke({ color: spec.color, width: spec.width }), zIndex });
  return new Style({
    stroke: spec.stroke ? new Stroke({ color: spec.stroke, width: spec.width, lineDash: spec.dashed ? [6, 4] : undefined }) : undefined,
    fill: spec.fill ? new Fill({ color: spec.fill }) : undefined,
    zIndex,
  });
}

/** A server cluster: neutral disc with the count, ring in the colour of the highest level inside. */
function clusterStyle(layer: LayerInfo, feature: FeatureLike, theme: Theme): Style {
  const count = Number(feature.get('point_count')) || 0;
  const highest = feature.get('highest_level') as string | undefined;
  const ring = highest ? riskLevelColor(layer, highest) : layer.style.color;
  const radius = Math.round((9 + 3.2 * Math.log10(Math.max(2, count))) * theme.scale);
  return cached(`cluster|${layer.id}|${theme.name}|${ring}|${count}`, () => {
    const fill = new Fill({ color: theme.clusterFill });
    const stroke = new Stroke({ color: ring, width: 3 * theme.scale });
    const shape = shapeOf(null, layer.id);
    const p = shapeParams(shape);
    return new Style({
      image:
        shape === 'circle'
          ? new Circle({ radius, fill, stroke, declutterMode: NO_DECLUTTER })
          : new RegularShape({ points: p.points, radius: radius * p.radiusFactor, angle: p.angle, rotation: p.rotation, fill, stroke, declutterMode: NO_DECLUTTER }),
      text: new Text({
        text: count > 999 ? `${Math.round(count / 100) / 10}k` : String(count),
        font: `700 ${Math.round(11 * theme.scale)}px ${FONT_STACK}`,
        fill: new Fill({ color: theme.clusterText }),
      }),
      // Clusters with a red point inside draw above the others.
      zIndex: 1 + levelRank(highest),
    });
  });
}

/** Shelters: size by capacity, fill by status, a bar under the symbol for occupancy; an unusable
 *  shelter (hazard zone, scenario, editor's flag) is drawn in the closed colour with a cross. */
function shelterStyle(layer: LayerInfo, feature: FeatureLike, theme: Theme, live: LiveView): Style | Style[] {
  const over = live.shelter(feature.getId() ?? feature.get('id'));
  const status = over?.status ?? feature.get('status');
  const capacity = Number(over?.capacity ?? feature.get('capacity')) || 0;
  const occupancy = Number(over?.occupancy ?? feature.get('occupancy')) || 0;
  const unusable = feature.get('usable') === false;
  const spec = symbolFor(layer, unusable ? 'closed' : status, theme, { capacity }) as PointSpec;
  const radius = Math.round(spec.radius * 2) / 2;
  const pct = capacity > 0 ? Math.min(1, occupancy / capacity) : 0;
  const step = Math.round(pct * 20); // 5 % steps keep the cache small
  return cached(`shelter|${theme.name}|${spec.color}|${radius}|${step}|${occupancy > 0}|${unusable}`, () => {
    const symbol = new Style({ image: pointImage({ ...spec, radius }, 1.5 * theme.scale), zIndex: 1 });
    const cross = new Style({
      image: new RegularShape({ points: 4, radius: radius * 0.8, radius2: 0, angle: Math.PI / 4, stroke: new Stroke({ color: '#d73027', width: 2 * theme.scale }), declutterMode: NO_DECLUTTER }),
      zIndex: 2,
    });
    if (occupancy <= 0) return unusable ? [symbol, cross] : symbol;
    const w = Math.max(14, radius * 2 + 4) * (theme.name === 'dark' ? 1.2 : 1);
    const h = 4 * theme.scale;
    const dy = -(radius + h / 2 + 2);
    // A square of the bar's width squashed to its height: crisp, and hit-testable like any symbol.
    const bar = (width: number, color: string, dx: number) =>
      new Style({
        image: new RegularShape({ points: 4, radius: (width / 2) * Math.SQRT2, angle: Math.PI / 4, fill: new Fill({ color }), scale: [1, h / width], displacement: [dx, dy], declutterMode: NO_DECLUTTER }),
        zIndex: 2,
      });
    const filled = (w * step) / 20;
    const barColor = step >= 18 ? '#d73027' : step >= 14 ? '#fdae61' : '#1a9850';
    const styles = [symbol, ...(unusable ? [cross] : []), bar(w + 2, theme.name === 'dark' ? '#e6edf7' : '#33404f', 0)];
    if (filled >= 1) styles.push(bar(filled, barColor, -(w - filled) / 2));
    return styles;
  });
}

/**
 * The style function of one catalogue layer. Works on tile RenderFeatures and on
 * GeoJSON features alike; returns nothing for features the live overlay replaces.
 */
export function layerStyle(layer: LayerInfo, theme: Theme, live: LiveView = NO_LIVE) {
  return (feature: FeatureLike): Style | Style[] | undefined => {
    if (feature.get('cluster')) return clusterStyle(layer, feature, theme);
    const id = feature.getId() ?? (feature.get('id') as string | number | undefined);
    if (live.overridden(layer.id, id)) return undefined;
    if (layer.id === 'shelters') return shelterStyle(layer, feature, theme, live);
    const value = styleValue(layer, (name) => feature.get(name));
    const synthetic = layer.geometry === 'polygon' && feature.get('synthetic') === true;
    return cached(`${layer.id}|${theme.name}|${String(value)}|${synthetic}`, () => {
      // Higher risk draws above lower risk, so a red point is never hidden under blue ones.
      const z = layer.style.by?.property === 'level' ? 5 + levelRank(value) : undefined;
      return specStyle(symbolFor(layer, value, theme, { synthetic }), z);
    });
  };
}

/** Style of features in the live overlay (their own properties; never suppressed). */
export function overlayStyle(layerOf: (id: string) => LayerInfo | undefined, visible: (id: string) => boolean, theme: Theme, live: LiveView) {
  const styles = new Map<string, ReturnType<typeof layerStyle>>();
  return (feature: FeatureLike): Style | Style[] | undefined => {
    const layerId = feature.get('layer') as string;
    const layer = layerOf(layerId);
    if (!layer || !visible(layerId)) return undefined;
    let fn = styles.get(layerId);
    if (!fn) styles.set(layerId, (fn = layerStyle(layer, theme, { overridden: () => false, shelter: (id) => live.shelter(id) })));
    return fn(feature);
  };
}

/** Admin unit labels: halo text, bigger for districts. */
export function labelStyle(theme: Theme) {
  return (feature: FeatureLike): Style => {
    const rank = feature.get('rank') as number; // 0 district, 1 street, 2 community
    const text = feature.get('label') as string;
    const size = Math.round(theme.labelSize * (rank === 0 ? 1.35 : rank === 1 ? 1 : 0.88));
    return cached(`label|${theme.name}|${rank}|${text}`, () =>
      new Style({
        text: new Text({
          text,
          font: `${rank === 0 ? 700 : rank === 1 ? 600 : 400} ${size}px ${FONT_STACK}`,
          fill: new Fill({ color: theme.text }),
          stroke: new Stroke({ color: theme.textHalo, width: 3 }),
          overflow: true,
        }),
        zIndex: 3 - rank,
      }),
    );
  };
}
