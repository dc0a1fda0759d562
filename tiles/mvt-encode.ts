import vtpbf from 'vt-pbf';
import type { GeojsonVtLikeFeature } from 'vt-pbf';
import { EMPTY_LAYER } from './engine.ts';

/**
 * Encodes features in geojson-vt's tile shape (integer tile coordinates) as one
 * MVT 2.1 layer with vt-pbf. Geometry is cleaned first the way ST_AsMVTGeom does
 * it, because decoders accept what the spec forbids: no repeated consecutive
 * points, no lines shorter than two points, no rings under one square unit.
 */
export type TileFeature = GeojsonVtLikeFeature;

type Ring = [number, number][];

function dedupe(points: Ring): Ring {
  const out: Ring = [];
  for (const p of points) {
    const last = out[out.length - 1];
    if (!last || last[0] !== p[0] || last[1] !== p[1]) out.push(p);
  }
  return out;
}

/**
 * Drops the vertices of a closed ring (first = last) that lie on the straight
 * line through their neighbours, including spikes (the outline doubling back on
 * itself), which rounding creates out of thin slivers and which make a polygon
 * invalid. Each removal re-checks the previous vertex, whose neighbour changed.
 */
function dropCollinear(ring: Ring): Ring {
  const pts = ring.slice(0, -1);
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = 0; pts.length > 2 && i < pts.length; ) {
      const n = pts.length;
      const a = pts[(i - 1 + n) % n];
      const b = pts[i];
      const c = pts[(i + 1) % n];
      if ((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]) === 0) {
        pts.splice(i, 1);
        changed = true;
        if (i > 0) i--;
      } else i++;
    }
  }
  if (pts.length) pts.push([pts[0][0], pts[0][1]]);
  return pts;
}

function signedArea(ring: Ring): number {
  let sum = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) sum += (ring[j][0] - ring[i][0]) * (ring[i][1] + ring[j][1]);
  return sum;
}

function cleanLines(lines: Ring[]): Ring[] {
  return lines.map(dedupe).filter((line) => line.length >= 2);
}

/**
 * Rings in MVT order (outer, its holes, next outer, …), closed. Outer rings have
 * positive area by `signedArea` in tile coordinates (y down), as geojson-vt and
 * ST_AsMVTGeom wind them.
 */
function cleanRings(rings: Ring[]): Ring[] {
  const out: Ring[] = [];
  let keepHoles = false;
  for (const raw of rings) {
    let ring = dedupe(raw);
    if (ring.length > 1) {
      const [fx, fy] = ring[0];
      const [lx, ly] = ring[ring.length - 1];
      if (fx !== lx || fy !== ly) ring.push([fx, fy]);
      ring = dropCollinear(ring);
    }
    // Rings under one square unit are invisible and ST_AsMVTGeom drops them too.
    const doubled = ring.length >= 4 ? signedArea(ring) : 0;
    const area = Math.abs(doubled) < 2 ? 0 : doubled;
    if (area > 0) {
      keepHoles = true;
      out.push(ring);
    } else if (area < 0 && keepHoles) {
      out.push(ring);
    }
    // A ring without area after rounding is dropped (an outer ring that collapsed
    // to nothing cannot keep holes with area).
  }
  return out;
}

export function cleanFeature(feature: TileFeature): TileFeature | null {
  if (feature.type === 1) return (feature.geometry as Ring).length ? feature : null;
  const parts = feature.type === 2 ? cleanLines(feature.geometry as Ring[]) : cleanRings(feature.geometry as Ring[]);
  return parts.length ? { ...feature, geometry: parts } : null;
}

export function encodeLayer(name: string, features: TileFeature[], extent: number): Uint8Array {
  const clean: TileFeature[] = [];
  for (const f of features) {
    const c = cleanFeature(f);
    if (c) clean.push(c);
  }
  if (clean.length === 0) return EMPTY_LAYER;
  return vtpbf.fromGeojsonVt({ [name]: { features: clean } }, { version: 2, extent });
}
