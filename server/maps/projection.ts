import type { BBox } from './params.ts';

/**
 * Web Mercator (EPSG:3857), the projection of the tiles and the client, expressed
 * in "world units" 0..1 (x east, y south) so that a zoom level is just a scale
 * factor: at zoom z a 512 px tile pyramid is 512·2^z pixels wide.
 */
export const TILE_SIZE = 512;
const EARTH_RADIUS = 6378137;
const EARTH_CIRCUMFERENCE = 2 * Math.PI * EARTH_RADIUS;
/** Closest zoom a fit may reach, so a one-point area is not magnified absurdly. */
export const MAX_FIT_ZOOM = 18;

export function lonToWorldX(lon: number): number {
  return (lon + 180) / 360;
}

export function latToWorldY(lat: number): number {
  const s = Math.sin((lat * Math.PI) / 180);
  return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
}

export function worldXToLon(x: number): number {
  return x * 360 - 180;
}

export function worldYToLat(y: number): number {
  return (Math.atan(Math.sinh(Math.PI * (1 - 2 * y))) * 180) / Math.PI;
}

/** The screen rectangle the map occupies inside the image, CSS pixels. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Viewport {
  /** Where on screen the map is drawn. */
  frame: Rect;
  /** Screen pixels per world unit (= 512·2^zoom). */
  pixelsPerWorld: number;
  /** Zoom level of a 512 px tile pyramid showing the same scale (fractional). */
  zoom: number;
  /** World coordinates of the frame's top-left corner. */
  originX: number;
  originY: number;
  /** lon/lat extent of the whole frame (larger than the fitted bbox in one direction). */
  extent: BBox;
  /** Ground metres per CSS pixel at the frame's centre latitude. */
  metresPerPixel: number;
  /** lon/lat → screen pixel (frame offset included). */
  project(lon: number, lat: number): [number, number];
}

/** Ground metres per CSS pixel of `viewport` at latitude `lat` (Mercator stretches away from the equator). */
export function metresPerPixelAt(viewport: Pick<Viewport, 'pixelsPerWorld'>, lat: number): number {
  return (EARTH_CIRCUMFERENCE * Math.cos((lat * Math.PI) / 180)) / viewport.pixelsPerWorld;
}

/**
 * The viewport that shows all of `bbox` inside `frame`, centred, with `padding`
 * CSS pixels kept free on every side ("contain" fit, aspect ratio preserved).
 */
export function fitBBox(bbox: BBox, frame: Rect, padding = 0): Viewport {
  const [minLon, minLat, maxLon, maxLat] = bbox;
  const x0 = lonToWorldX(minLon);
  const x1 = lonToWorldX(maxLon);
  const y0 = latToWorldY(maxLat); // north edge is the smaller y
  const y1 = latToWorldY(minLat);
  const innerW = Math.max(1, frame.width - 2 * padding);
  const innerH = Math.max(1, frame.height - 2 * padding);
  const maxPixelsPerWorld = TILE_SIZE * 2 ** MAX_FIT_ZOOM;
  const pixelsPerWorld = Math.min(innerW / Math.max(x1 - x0, 1e-12), innerH / Math.max(y1 - y0, 1e-12), maxPixelsPerWorld);
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  return viewportAt(cx, cy, pixelsPerWorld, frame);
}

/** The viewport centred on world point (cx, cy) at the given scale. */
export function viewportAt(cx: number, cy: number, pixelsPerWorld: number, frame: Rect): Viewport {
  const originX = cx - frame.width / 2 / pixelsPerWorld;
  const originY = cy - frame.height / 2 / pixelsPerWorld;
  const endX = originX + frame.width / pixelsPerWorld;
  const endY = originY + frame.height / pixelsPerWorld;
  const centreLat = worldYToLat(cy);
  return {
    frame,
    pixelsPerWorld,
    zoom: Math.log2(pixelsPerWorld / TILE_SIZE),
    originX,
    originY,
    extent: [worldXToLon(originX), worldYToLat(endY), worldXToLon(endX), worldYToLat(originY)],
    metresPerPixel: (EARTH_CIRCUMFERENCE * Math.cos((centreLat * Math.PI) / 180)) / pixelsPerWorld,
    project(lon, lat) {
      return [frame.x + (lonToWorldX(lon) - originX) * pixelsPerWorld, frame.y + (latToWorldY(lat) - originY) * pixelsPerWorld];
    },
  };
}
