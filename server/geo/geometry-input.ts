import type { Geometry } from 'geojson';
import { badRequest } from '../http/problem.ts';

/**
 * The one rule for every geometry a caller sends — drawn analysis areas,
 * scenario areas, edited features, imported rows — checked in Node before any
 * SQL sees it.
 *
 * PostGIS accepts far more than the analyses can take: a polygon with an edge
 * 180° of longitude long, or the whole world, is "valid", and then the
 * geography casts fail with "Antipodal edge detected" (a 500). A line to the
 * antipode is a valid line. So besides well-formed coordinates and rings, the
 * rule bounds the extent (no geometry spans more than `maxExtentDeg` of
 * longitude or latitude, hence no edge ≥ 180°) and the number of vertices
 * (the cost of everything downstream grows with it). Topological validity
 * (self-intersections) stays with PostGIS's ST_IsValid, which is planar and safe.
 */
export interface GeometryLimits {
  /** Most vertices in one geometry (all parts and rings together). */
  maxVertices: number;
  /** Widest span, in degrees of longitude and of latitude, of one geometry. */
  maxExtentDeg: number;
}

export const DEFAULT_GEOMETRY_LIMITS: GeometryLimits = { maxVertices: 10_000, maxExtentDeg: 10 };

export function geometryLimits(config: { GEOMETRY_MAX_VERTICES: number; GEOMETRY_MAX_EXTENT_DEG: number }): GeometryLimits {
  return { maxVertices: config.GEOMETRY_MAX_VERTICES, maxExtentDeg: config.GEOMETRY_MAX_EXTENT_DEG };
}

export interface GeometryIssue {
  /** Where inside the geometry, e.g. ['coordinates', 0, 3]; empty for the whole. */
  path: (string | number)[];
  reason: string;
}

class Stop extends Error {
  constructor(readonly issue: GeometryIssue) {
    super(issue.reason);
  }
}

const TYPES = ['Point', 'MultiPoint', 'LineString', 'MultiLineString', 'Polygon', 'MultiPolygon'];

/** The first thing wrong with `geometry` under the rule, or null when it passes. */
export function geometryIssue(geometry: unknown, limits: GeometryLimits = DEFAULT_GEOMETRY_LIMITS): GeometryIssue | null {
  const box = { minLon: Infinity, minLat: Infinity, maxLon: -Infinity, maxLat: -Infinity };
  let vertices = 0;
  const fail = (path: (string | number)[], reason: string): never => {
    throw new Stop({ path, reason });
  };
  const array = (v: unknown, path: (string | number)[], what: string): unknown[] => (Array.isArray(v) ? v : fail(path, what));

  const position = (p: unknown, path: (string | number)[]): string => {
    const a = array(p, path, 'a position [lon, lat]');
    if (a.length < 2 || a.length > 3) fail(path, 'a position [lon, lat] (or [lon, lat, height])');
    if (!a.every((n) => typeof n === 'number' && Number.isFinite(n))) fail(path, 'finite numbers');
    const [lon, lat] = a as number[];
    if (lon < -180 || lon > 180) fail(path, `a longitude within -180..180, not ${lon}`);
    if (lat < -90 || lat > 90) fail(path, `a latitude within -90..90, not ${lat}`);
    if (++vertices > limits.maxVertices) fail([], `at most ${limits.maxVertices} vertices`);
    box.minLon = Math.min(box.minLon, lon);
    box.maxLon = Math.max(box.maxLon, lon);
    box.minLat = Math.min(box.minLat, lat);
    box.maxLat = Math.max(box.maxLat, lat);
    return `${lon},${lat}`;
  };
  const positions = (v: unknown, path: (string | number)[]) => array(v, path, 'an array of positions').map((p, i) => position(p, [...path, i]));
  const line = (v: unknown, path: (string | number)[]) => {
    const keys = positions(v, path);
    if (new Set(keys).size < 2) fail(path, 'a line of at least 2 distinct positions');
  };
  const polygon = (v: unknown, path: (string | number)[]) => {
    const rings = array(v, path, 'an array of rings');
    if (rings.length === 0) fail(path, 'at least the outer ring');
    rings.forEach((r, i) => {
      const keys = positions(r, [...path, i]);
      if (keys.length < 4) fail([...path, i], 'a ring of at least 4 positions');
      if (keys[0] !== keys[keys.length - 1]) fail([...path, i], 'a closed ring (the last position repeats the first)');
      if (new Set(keys).size < 3) fail([...path, i], 'a ring around an area (at least 3 distinct positions)');
    });
  };

  try {
    const g = geometry as { type?: unknown; coordinates?: unknown } | null;
    if (typeof g !== 'object' || g === null || typeof g.type !== 'string' || !TYPES.includes(g.type)) fail(['type'], `a GeoJSON geometry: ${TYPES.join(', ')}`);
    const c = g!.coordinates;
    const at = ['coordinates'];
    switch (g!.type) {
      case 'Point':
        position(c, at);
        break;
      case 'MultiPoint':
        positions(c, at);
        break;
      case 'LineString':
        line(c, at);
        break;
      case 'MultiLineString':
        array(c, at, 'an array of lines').forEach((l, i) => line(l, [...at, i]));
        break;
      case 'Polygon':
        polygon(c, at);
        break;
      case 'MultiPolygon':
        array(c, at, 'an array of polygons').forEach((p, i) => polygon(p, [...at, i]));
        break;
    }
    if (vertices === 0) fail(at, 'at least one position');
    const dLon = box.maxLon - box.minLon;
    const dLat = box.maxLat - box.minLat;
    if (dLon > limits.maxExtentDeg || dLat > limits.maxExtentDeg) {
      fail([], `spans ${dLon.toFixed(2)}° of longitude and ${dLat.toFixed(2)}° of latitude; at most ${limits.maxExtentDeg}° each`);
    }
    return null;
  } catch (err) {
    if (err instanceof Stop) return err.issue;
    throw err;
  }
}

/** Throws a 400 naming `field` when `geometry` breaks the rule. */
export function assertGeometryInput(geometry: Geometry | unknown, field: string, limits: GeometryLimits): void {
  const issue = geometryIssue(geometry, limits);
  if (!issue) return;
  const where = issue.path.length ? ` (at ${issue.path.join('.')})` : '';
  throw badRequest(field, `${issue.reason}${where}`);
}
