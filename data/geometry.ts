/**
 * Plane geometry for the synthetic partitions: a population grid clipped to a
 * district, clipped Voronoi partitions, point-in-polygon lookups and interior
 * points. Coordinates are WGS84 lon/lat; distances use a local equirectangular
 * approximation, which is fine at district scale (tens of km).
 */
import { area as turfArea, featureCollection, intersect, point, polygon as turfPolygon, voronoi } from '@turf/turf';
import type { BBox, MultiPolygon, Polygon, Position } from 'geojson';

const METRES_PER_DEGREE_LAT = 111_320;

/** Metres per degree of longitude and latitude around `lat`. */
export function metresPerDegree(lat: number): { x: number; y: number } {
  return { x: METRES_PER_DEGREE_LAT * Math.cos((lat * Math.PI) / 180), y: METRES_PER_DEGREE_LAT };
}

/** Approximate ground distance in metres (equirectangular, good to <0.5 % over a district). */
export function distanceM(a: Position, b: Position): number {
  const k = metresPerDegree((a[1] + b[1]) / 2);
  return Math.hypot((a[0] - b[0]) * k.x, (a[1] - b[1]) * k.y);
}

export function bboxOf(g: MultiPolygon | Polygon | Position[]): BBox {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  const visit = (p: Position) => {
    if (p[0] < minX) minX = p[0];
    if (p[1] < minY) minY = p[1];
    if (p[0] > maxX) maxX = p[0];
    if (p[1] > maxY) maxY = p[1];
  };
  if (Array.isArray(g)) g.forEach(visit);
  else if (g.type === 'Polygon') g.coordinates.forEach((r) => r.forEach(visit));
  else g.coordinates.forEach((p) => p.forEach((r) => r.forEach(visit)));
  return [minX, minY, maxX, maxY];
}

function inBBox(p: Position, b: BBox): boolean {
  return p[0] >= b[0] && p[0] <= b[2] && p[1] >= b[1] && p[1] <= b[3];
}

/** Even-odd ray casting over every ring (holes included). */
export function pointInMultiPolygon(p: Position, g: MultiPolygon): boolean {
  let inside = false;
  const [x, y] = p;
  for (const poly of g.coordinates) {
    for (const ring of poly) {
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const [xi, yi] = ring[i];
        const [xj, yj] = ring[j];
        if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
      }
    }
  }
  return inside;
}

/** Area in m² (turf's spherical formula, the same as PostGIS geography within ~0.3 %). */
export function areaM2(g: MultiPolygon | Polygon): number {
  return turfArea(g);
}

export function asMulti(g: Polygon | MultiPolygon): MultiPolygon {
  return g.type === 'Polygon' ? { type: 'MultiPolygon', coordinates: [g.coordinates] } : g;
}

/** Polygonal intersection of two areas, or null when they share no area. */
export function clip(a: Polygon | MultiPolygon, b: Polygon | MultiPolygon): MultiPolygon | null {
  const f = intersect(featureCollection([{ type: 'Feature', properties: {}, geometry: a }, { type: 'Feature', properties: {}, geometry: b }]));
  if (!f) return null;
  const m = asMulti(f.geometry);
  return m.coordinates.length > 0 ? m : null;
}

/**
 * A point inside the polygon (what PostGIS calls a point on surface): the
 * centroid of the vertices when that is inside, else the middle of the widest
 * interior run of a horizontal scan line through the middle of the largest part.
 */
export function interiorPoint(g: MultiPolygon): Position {
  let best: Position[][] = g.coordinates[0];
  let bestArea = -1;
  for (const poly of g.coordinates) {
    const a = Math.abs(ringArea(poly[0]));
    if (a > bestArea) {
      bestArea = a;
      best = poly;
    }
  }
  const part: MultiPolygon = { type: 'MultiPolygon', coordinates: [best] };
  const ring = best[0];
  let cx = 0;
  let cy = 0;
  for (let i = 0; i < ring.length - 1; i++) {
    cx += ring[i][0];
    cy += ring[i][1];
  }
  const c: Position = [cx / (ring.length - 1), cy / (ring.length - 1)];
  if (pointInMultiPolygon(c, part)) return c;
  const b = bboxOf(part);
  // Scan a few lines; nudge off the vertices so no crossing is counted twice.
  let widest: { x: number; y: number; w: number } | null = null;
  for (const f of [0.5, 0.37, 0.63, 0.25, 0.75]) {
    const y = b[1] + (b[3] - b[1]) * f + (b[3] - b[1]) * 1e-7;
    const xs: number[] = [];
    for (const r of best) {
      for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
        const [xi, yi] = r[i];
        const [xj, yj] = r[j];
        if (yi > y !== yj > y) xs.push(((xj - xi) * (y - yi)) / (yj - yi) + xi);
      }
    }
    xs.sort((p, q) => p - q);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const w = xs[k + 1] - xs[k];
      if (!widest || w > widest.w) widest = { x: (xs[k] + xs[k + 1]) / 2, y, w };
    }
  }
  if (!widest) throw new Error('no interior point found');
  return [widest.x, widest.y];
}

function ringArea(ring: Position[]): number {
  let s = 0;
  for (let i = 0; i < ring.length - 1; i++) s += ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1];
  return s / 2;
}

/**
 * Sutherland-Hodgman clip of every ring to an axis-aligned box. The area is
 * right but a concave ring can come back with zero-width bridges along the
 * box edges, so use it only as a cheap pre-cut before an exact `clip`.
 */
export function clipToBox(g: MultiPolygon, box: BBox): MultiPolygon | null {
  const polys: Position[][][] = [];
  for (const poly of g.coordinates) {
    const rings: Position[][] = [];
    for (let k = 0; k < poly.length; k++) {
      let pts = poly[k].slice(0, -1);
      pts = clipHalfPlane(pts, (p) => p[0] >= box[0], (a, b) => lerpX(a, b, box[0]));
      pts = clipHalfPlane(pts, (p) => p[0] <= box[2], (a, b) => lerpX(a, b, box[2]));
      pts = clipHalfPlane(pts, (p) => p[1] >= box[1], (a, b) => lerpY(a, b, box[1]));
      pts = clipHalfPlane(pts, (p) => p[1] <= box[3], (a, b) => lerpY(a, b, box[3]));
      const ring = pts.length >= 3 ? [...pts, pts[0]] : null;
      if (k === 0 && (!ring || ringArea(ring) === 0)) break;
      if (ring && ringArea(ring) !== 0) rings.push(ring);
    }
    if (rings.length) polys.push(rings);
  }
  return polys.length ? { type: 'MultiPolygon', coordinates: polys } : null;
}

function clipHalfPlane(pts: Position[], inside: (p: Position) => boolean, cut: (a: Position, b: Position) => Position): Position[] {
  const out: Position[] = [];
  for (let i = 0; i < pts.length; i++) {
    const cur = pts[i];
    const prev = pts[(i + pts.length - 1) % pts.length];
    const curIn = inside(cur);
    const prevIn = inside(prev);
    if (curIn) {
      if (!prevIn) out.push(cut(prev, cur));
      out.push(cur);
    } else if (prevIn) {
      out.push(cut(prev, cur));
    }
  }
  return out;
}

function lerpX(a: Position, b: Position, x: number): Position {
  return [x, a[1] + ((b[1] - a[1]) * (x - a[0])) / (b[0] - a[0])];
}

function lerpY(a: Position, b: Position, y: number): Position {
  return [a[0] + ((b[0] - a[0]) * (y - a[1])) / (b[1] - a[1]), y];
}

export interface GridCell {
  geometry: MultiPolygon;
  areaM2: number;
  /** A point inside the cell, used to assign it to a street and community. */
  rep: Position;
}

/**
 * Square cells of `sizeM` metres covering `outline`, clipped to it, in
 * row-major order from the south-west. Cells cut by no outline edge are kept
 * whole (or dropped) after one point-in-polygon test; only the cells an edge
 * passes through are intersected, which keeps this fast. Slivers under
 * `minAreaM2` are dropped.
 */
export function squareGrid(outline: MultiPolygon, sizeM: number, minAreaM2 = 2_000): GridCell[] {
  const b = bboxOf(outline);
  const k = metresPerDegree((b[1] + b[3]) / 2);
  const dx = sizeM / k.x;
  const dy = sizeM / k.y;
  const nx = Math.ceil((b[2] - b[0]) / dx);
  const ny = Math.ceil((b[3] - b[1]) / dy);
  const edgeCells = new Set<number>();
  for (const poly of outline.coordinates) {
    for (const ring of poly) {
      for (let i = 0; i + 1 < ring.length; i++) {
        const [x1, y1] = ring[i];
        const [x2, y2] = ring[i + 1];
        const c0 = Math.max(0, Math.floor((Math.min(x1, x2) - b[0]) / dx));
        const c1 = Math.min(nx - 1, Math.floor((Math.max(x1, x2) - b[0]) / dx));
        const r0 = Math.max(0, Math.floor((Math.min(y1, y2) - b[1]) / dy));
        const r1 = Math.min(ny - 1, Math.floor((Math.max(y1, y2) - b[1]) / dy));
        for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) edgeCells.add(r * nx + c);
      }
    }
  }
  const cells: GridCell[] = [];
  for (let r = 0; r < ny; r++) {
    for (let c = 0; c < nx; c++) {
      const x0 = b[0] + c * dx;
      const y0 = b[1] + r * dy;
      const square: Polygon = {
        type: 'Polygon',
        coordinates: [[[x0, y0], [x0 + dx, y0], [x0 + dx, y0 + dy], [x0, y0 + dy], [x0, y0]]],
      };
      if (!edgeCells.has(r * nx + c)) {
        if (!pointInMultiPolygon([x0 + dx / 2, y0 + dy / 2], outline)) continue;
        const geometry = asMulti(square);
        cells.push({ geometry, areaM2: areaM2(geometry), rep: [x0 + dx / 2, y0 + dy / 2] });
        continue;
      }
      // Cut the outline down to a box a little larger than the cell first (cheap),
      // then intersect exactly; the cheap cut's artefacts lie outside the cell.
      const local = clipToBox(outline, [x0 - dx * 0.05, y0 - dy * 0.05, x0 + dx * 1.05, y0 + dy * 1.05]);
      if (!local) continue;
      const clipped = clip(square, local);
      if (!clipped) continue;
      const a = areaM2(clipped);
      if (a < minAreaM2) continue;
      cells.push({ geometry: clipped, areaM2: a, rep: interiorPoint(clipped) });
    }
  }
  return cells;
}

/**
 * Voronoi cells of `seeds` clipped to `region`: a partition of the region with
 * one (possibly multi-part) polygon per seed, each containing its seed.
 */
export function clippedVoronoi(seeds: Position[], region: MultiPolygon): MultiPolygon[] {
  const b = bboxOf(region);
  const pad = Math.max(b[2] - b[0], b[3] - b[1]) * 0.05 + 1e-4;
  const extent: BBox = [b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad];
  if (seeds.length === 1) return [region];
  const cells = voronoi(featureCollection(seeds.map((s) => point(s))), { bbox: extent });
  return cells.features.map((cell, i) => {
    if (!cell || !cell.geometry) throw new Error(`no Voronoi cell for seed ${i}`);
    const clipped = clip(turfPolygon(cell.geometry.coordinates).geometry, region);
    if (!clipped) throw new Error(`Voronoi cell ${i} does not meet its region`);
    return clipped;
  });
}

/** Point-in-polygon lookup over a fixed list of areas, with a bbox prefilter. */
export class AreaIndex {
  private readonly boxes: BBox[];

  constructor(private readonly areas: readonly MultiPolygon[]) {
    this.boxes = areas.map((a) => bboxOf(a));
  }

  /** Index of the first area containing p, or -1. */
  find(p: Position): number {
    for (let i = 0; i < this.areas.length; i++) {
      if (inBBox(p, this.boxes[i]) && pointInMultiPolygon(p, this.areas[i])) return i;
    }
    return -1;
  }
}

/** True when segments ab and cd properly cross or touch. */
export function segmentsIntersect(a: Position, b: Position, c: Position, d: Position): boolean {
  const o1 = orientation(a, b, c);
  const o2 = orientation(a, b, d);
  const o3 = orientation(c, d, a);
  const o4 = orientation(c, d, b);
  if (o1 !== o2 && o3 !== o4) return true;
  return (o1 === 0 && onSegment(a, c, b)) || (o2 === 0 && onSegment(a, d, b)) || (o3 === 0 && onSegment(c, a, d)) || (o4 === 0 && onSegment(c, b, d));
}

function orientation(p: Position, q: Position, r: Position): number {
  const v = (q[1] - p[1]) * (r[0] - q[0]) - (q[0] - p[0]) * (r[1] - q[1]);
  return v === 0 ? 0 : v > 0 ? 1 : 2;
}

function onSegment(p: Position, q: Position, r: Position): boolean {
  return q[0] <= Math.max(p[0], r[0]) && q[0] >= Math.min(p[0], r[0]) && q[1] <= Math.max(p[1], r[1]) && q[1] >= Math.min(p[1], r[1]);
}

/** Outline edges, for testing whether a line segment stays inside. */
export function ringSegments(g: MultiPolygon): [Position, Position][] {
  const out: [Position, Position][] = [];
  for (const poly of g.coordinates) for (const ring of poly) for (let i = 0; i + 1 < ring.length; i++) out.push([ring[i], ring[i + 1]]);
  return out;
}
