import type { Geometry, Position } from 'geojson';

/** [minLon, minLat, maxLon, maxLat] in WGS84. */
export type BBox = [number, number, number, number];

/** The bounding box of any GeoJSON geometry; null when it has no positions. */
export function geometryBBox(g: Geometry | null | undefined): BBox | null {
  if (!g) return null;
  return unionBBox(g.type === 'GeometryCollection' ? g.geometries.map(geometryBBox) : [coordinatesBBox(g.coordinates)]);
}

function coordinatesBBox(coordinates: unknown): BBox | null {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  const visit = (c: unknown): void => {
    if (typeof (c as Position)[0] === 'number') {
      const [x, y] = c as Position;
      minX = Math.min(minX, x);
      minY = Math.min(minY, y);
      maxX = Math.max(maxX, x);
      maxY = Math.max(maxY, y);
    } else for (const inner of c as unknown[]) visit(inner);
  };
  visit(coordinates);
  return Number.isFinite(minX) ? [minX, minY, maxX, maxY] : null;
}

/** The box covering all given boxes (nulls skipped); null when there are none. */
export function unionBBox(boxes: readonly (BBox | null)[]): BBox | null {
  const present = boxes.filter((b): b is BBox => b !== null);
  if (!present.length) return null;
  return [
    Math.min(...present.map((b) => b[0])),
    Math.min(...present.map((b) => b[1])),
    Math.max(...present.map((b) => b[2])),
    Math.max(...present.map((b) => b[3])),
  ];
}

export function bboxPolygon([x0, y0, x1, y1]: BBox): Geometry {
  return { type: 'Polygon', coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] };
}
