import type { Geometry, Position } from 'geojson';

/** SVG markup helpers shared by the map and the legend: escaping, text widths, geometry paths. */

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Round to 0.1 px: enough for anti-aliasing, small SVG. */
export const px = (n: number): string => String(Math.round(n * 10) / 10);

/**
 * Width of `text` in CSS pixels at `fontSize`, estimated without a font engine:
 * CJK ideographs and full-width forms are one em, Latin and digits about half.
 * Used for layout (legend width, label collisions), where ±10 % is fine.
 */
export function textWidth(text: string, fontSize: number): number {
  let em = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x2e80 || (c >= 0x1100 && c <= 0x11ff)) em += 1;
    else if (/[A-Z MW@%]/.test(ch)) em += 0.68;
    else if (/[il.,:;'|!()\[\]]/.test(ch)) em += 0.3;
    else em += 0.56;
  }
  return em * fontSize;
}

/** `text` shortened with an ellipsis to fit `maxWidth`. */
export function fitText(text: string, fontSize: number, maxWidth: number): string {
  if (textWidth(text, fontSize) <= maxWidth) return text;
  const chars = [...text];
  while (chars.length > 1 && textWidth(chars.join('') + '…', fontSize) > maxWidth) chars.pop();
  return chars.join('') + '…';
}

export type Project = (lon: number, lat: number) => [number, number];

/** One ring or line as path commands; points closer than half a pixel to the previous one are skipped. */
function linePath(coords: Position[], project: Project, close: boolean): string {
  let d = '';
  let lastX = NaN;
  let lastY = NaN;
  let n = 0;
  for (let i = 0; i < coords.length; i++) {
    const [x, y] = project(coords[i][0], coords[i][1]);
    const isLast = i === coords.length - 1;
    if (n > 0 && !isLast && Math.abs(x - lastX) < 0.5 && Math.abs(y - lastY) < 0.5) continue;
    d += `${n === 0 ? 'M' : 'L'}${px(x)} ${px(y)}`;
    lastX = x;
    lastY = y;
    n++;
  }
  if (n < 2) return '';
  return close ? d + 'Z' : d;
}

/** SVG path data of a line or polygon geometry (points are drawn as markers elsewhere). */
export function geometryPath(geometry: Geometry, project: Project): string {
  switch (geometry.type) {
    case 'LineString':
      return linePath(geometry.coordinates, project, false);
    case 'MultiLineString':
      return geometry.coordinates.map((l) => linePath(l, project, false)).join('');
    case 'Polygon':
      return geometry.coordinates.map((r) => linePath(r, project, true)).join('');
    case 'MultiPolygon':
      return geometry.coordinates.map((p) => p.map((r) => linePath(r, project, true)).join('')).join('');
    case 'GeometryCollection':
      return geometry.geometries.map((g) => geometryPath(g, project)).join('');
    default:
      return '';
  }
}

/** Screen positions of a point geometry (MultiPoint gives several). */
export function pointPositions(geometry: Geometry): Position[] {
  if (geometry.type === 'Point') return [geometry.coordinates];
  if (geometry.type === 'MultiPoint') return geometry.coordinates;
  return [];
}
