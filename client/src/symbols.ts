import type { LayerInfo } from './api.ts';
import { themeColor, withAlpha, type Theme } from './theme.ts';

/**
 * What a feature looks like, as data: the map (styles.ts) and the legend
 * (legend.ts) both draw from these specs, so they cannot disagree.
 */
export type Shape = 'circle' | 'triangle' | 'triangle-down' | 'square' | 'diamond' | 'pentagon';

/** Geohazard kinds get their own shapes ("icon per type"); every other point is a circle. */
export const SHAPE_BY_VALUE: Record<string, Shape> = {
  rockfall: 'triangle',
  landslide: 'diamond',
  collapse: 'square',
  subsidence: 'triangle-down',
  dangerous_slope: 'pentagon',
};

export interface PointSpec {
  kind: 'point';
  shape: Shape;
  color: string;
  radius: number;
  stroke: string;
}
export interface LineSpec {
  kind: 'line';
  color: string;
  width: number;
  dashed: boolean;
}
export interface AreaSpec {
  kind: 'area';
  stroke: string | null;
  width: number;
  fill: string | null;
  dashed: boolean;
}
export type SymbolSpec = PointSpec | LineSpec | AreaSpec;

/** Colour of a value of the layer's styling property (or the layer colour). */
export function valueColor(layer: LayerInfo, value: unknown): string {
  const by = layer.style.by;
  if (by && typeof value === 'string' && by.colors[value]) return by.colors[value];
  return layer.style.color;
}

/** The styling property's value of a feature (e.g. its `level`). */
export function styleValue(layer: LayerInfo, get: (name: string) => unknown): unknown {
  return layer.style.by ? get(layer.style.by.property) : undefined;
}

/**
 * Layers drawn with their own shape whatever the value: hazardous-chemical
 * enterprises share the four risk colours with risk points, so they are squares.
 */
export const SHAPE_BY_LAYER: Record<string, Shape> = {
  hazard_sources: 'square',
};

export function shapeOf(value: unknown, layerId?: string): Shape {
  return (typeof value === 'string' && SHAPE_BY_VALUE[value]) || (layerId && SHAPE_BY_LAYER[layerId]) || 'circle';
}

/** Shelter symbols grow with capacity: ~5 px for a 200-person hall, ~14 px for a 20,000-person park. */
export function shelterRadius(capacity: unknown, base: number): number {
  const c = typeof capacity === 'number' && capacity > 0 ? capacity : 0;
  const r = 3 + 1.6 * Math.log2(c / 200 + 1);
  return (Math.min(14, Math.max(4, r)) * base) / 7;
}

/** The symbol of one feature (value = its styling property's value; synthetic = its `synthetic` flag). */
export function symbolFor(layer: LayerInfo, value: unknown, theme: Theme, opts: { synthetic?: boolean; capacity?: unknown } = {}): SymbolSpec {
  const color = valueColor(layer, value);
  if (layer.geometry === 'point') {
    const base = layer.style.radius ?? 5;
    const radius = (layer.id === 'shelters' ? shelterRadius(opts.capacity, base) : base) * theme.scale;
    return { kind: 'point', shape: shapeOf(value, layer.id), color: themeColor(color, 'point', theme), radius, stroke: theme.pointStroke };
  }
  if (layer.geometry === 'line') {
    return { kind: 'line', color: themeColor(color, 'line', theme), width: (layer.style.lineWidth ?? 2) * theme.scale, dashed: false };
  }
  const fillOpacity = layer.style.fillOpacity ?? 0;
  const width = layer.style.lineWidth ?? 1;
  return {
    kind: 'area',
    stroke: width > 0 ? themeColor(color, 'outline', theme) : null,
    width: width * (theme.name === 'dark' ? 1.3 : 1),
    fill: fillOpacity > 0 ? withAlpha(themeColor(color, 'fill', theme), fillOpacity) : null,
    // Synthetic partitions (streets, communities) are drawn dashed: they are not real boundaries.
    dashed: Boolean(opts.synthetic),
  };
}

/** Vertices of a regular shape centred on 0,0 (y down), the same construction OpenLayers uses. */
export function shapeParams(shape: Shape): { points: number; angle: number; rotation: number; radiusFactor: number } {
  switch (shape) {
    case 'triangle':
      return { points: 3, angle: 0, rotation: 0, radiusFactor: 1.25 };
    case 'triangle-down':
      return { points: 3, angle: 0, rotation: Math.PI, radiusFactor: 1.25 };
    case 'square':
      return { points: 4, angle: Math.PI / 4, rotation: 0, radiusFactor: 1.15 };
    case 'diamond':
      return { points: 4, angle: 0, rotation: 0, radiusFactor: 1.3 };
    case 'pentagon':
      return { points: 5, angle: 0, rotation: 0, radiusFactor: 1.15 };
    default:
      return { points: 0, angle: 0, rotation: 0, radiusFactor: 1 };
  }
}

function shapePath(shape: Shape, cx: number, cy: number, r: number): string {
  const { points, angle, rotation, radiusFactor } = shapeParams(shape);
  const rr = r * radiusFactor;
  const vertices: string[] = [];
  for (let i = 0; i < points; i++) {
    const a = (i * 2 * Math.PI) / points - Math.PI / 2 + angle + rotation;
    vertices.push(`${(cx + rr * Math.cos(a)).toFixed(2)},${(cy + rr * Math.sin(a)).toFixed(2)}`);
  }
  return `M${vertices.join('L')}Z`;
}

/** A small SVG of a symbol for the legend and the layer switcher. */
export function symbolSvg(spec: SymbolSpec, size = 20): string {
  const c = size / 2;
  let body: string;
  if (spec.kind === 'point') {
    const r = Math.min(spec.radius, c - 2);
    body =
      spec.shape === 'circle'
        ? `<circle cx="${c}" cy="${c}" r="${r}" fill="${spec.color}" stroke="${spec.stroke}" stroke-width="1.5"/>`
        : `<path d="${shapePath(spec.shape, c, c, r * 0.85)}" fill="${spec.color}" stroke="${spec.stroke}" stroke-width="1.2"/>`;
  } else if (spec.kind === 'line') {
    body = `<path d="M2,${c + 4} C${c},${c - 8} ${c},${c + 8} ${size - 2},${c - 4}" fill="none" stroke="${spec.color}" stroke-width="${Math.min(spec.width, 4)}"/>`;
  } else {
    body = `<rect x="2.5" y="3.5" width="${size - 5}" height="${size - 7}" fill="${spec.fill ?? 'none'}" stroke="${spec.stroke ?? 'none'}" stroke-width="${Math.min(Math.max(spec.width, 1), 3)}"${spec.dashed ? ' stroke-dasharray="3 2"' : ''}/>`;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}" aria-hidden="true">${body}</svg>`;
}

/** A cluster symbol for the legend: neutral disc (or the layer's shape), ring in the highest level's colour. */
export function clusterSvg(ring: string, theme: Theme, shape: Shape = 'circle', size = 22): string {
  const c = size / 2;
  const outline =
    shape === 'circle'
      ? `<circle cx="${c}" cy="${c}" r="${c - 2.5}" fill="${theme.clusterFill}" stroke="${ring}" stroke-width="3"/>`
      : `<path d="${shapePath(shape, c, c, (c - 2.5) / shapeParams(shape).radiusFactor)}" fill="${theme.clusterFill}" stroke="${ring}" stroke-width="3"/>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}" aria-hidden="true">${outline}<text x="${c}" y="${c + 3.5}" text-anchor="middle" font-size="9" font-weight="700" fill="${theme.clusterText}">12</text></svg>`;
}
