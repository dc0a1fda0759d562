import sharp from 'sharp';
import type { Queryable } from '../../server/db/types.ts';
import type { BBox } from '../../server/maps/params.ts';
import { fitBBox } from '../../server/maps/projection.ts';
import { layoutFor } from '../../server/maps/svg.ts';

/**
 * A small district of our own, far from the demo districts, with two streets,
 * a known red risk point and a known open shelter, so pixel tests do not depend
 * on the demo data.
 */
export const TEST_DISTRICT = 'testbay';
export const TEST_BBOX: BBox = [110.0, 20.0, 110.1, 20.08];
export const RED_POINT: [number, number] = [110.03, 20.05];
export const SHELTER: [number, number] = [110.075, 20.02];

const square = ([x0, y0, x1, y1]: BBox) => `SRID=4326;MULTIPOLYGON(((${x0} ${y0},${x1} ${y0},${x1} ${y1},${x0} ${y1},${x0} ${y0})))`;

export async function seedTestDistrict(q: Queryable): Promise<{ redId: number; shelterId: number }> {
  const [x0, y0, x1, y1] = TEST_BBOX;
  const xm = (x0 + x1) / 2;
  await q.query(
    `INSERT INTO districts (id, adcode, name_zh, name_en, city_zh, city_en, population, population_source, shelter_target_m2, target_source, synthetic, source, geom)
     VALUES ($1, 999001, '测试区', 'Testbay District', '测试市', 'Testcity', 1000, 'test', 1.5, 'test', true, 'test', $2)`,
    [TEST_DISTRICT, square(TEST_BBOX)],
  );
  await q.query(
    `INSERT INTO streets (id, district_id, name_zh, name_en, kind, population, synthetic, geom) VALUES
       ('testbay-west', $1, '西街道', 'West Subdistrict', 'street', 500, true, $2),
       ('testbay-east', $1, '东镇', 'East Town', 'town', 500, true, $3)`,
    [TEST_DISTRICT, square([x0, y0, xm, y1]), square([xm, y0, x1, y1])],
  );
  const red = await q.query<{ id: number }>(
    `INSERT INTO risk_points (district_id, street_id, name_zh, category, level, responsible_unit, synthetic, geom)
     VALUES ($1, 'testbay-west', '测试红点', 'fire', 'red', '测试单位', true, ST_SetSRID(ST_MakePoint($2, $3), 4326)) RETURNING id`,
    [TEST_DISTRICT, ...RED_POINT],
  );
  const shelter = await q.query<{ id: number }>(
    `INSERT INTO shelters (district_id, street_id, name_zh, setting, shelter_class, effective_area_m2, capacity, status, synthetic, geom)
     VALUES ($1, 'testbay-east', '测试避难场所', 'outdoor', 'fixed', 5000, 2000, 'open', true, ST_SetSRID(ST_MakePoint($2, $3), 4326)) RETURNING id`,
    [TEST_DISTRICT, ...SHELTER],
  );
  return { redId: Number(red.rows[0].id), shelterId: Number(shelter.rows[0].id) };
}

/** Where (lon, lat) lands in a district map of `bbox` at width×height CSS px and `scale`. */
export function pixelOf(bbox: BBox, width: number, height: number, scale: number, lonLat: [number, number], padding = 14): [number, number] {
  const viewport = fitBBox(bbox, layoutFor(width, height).frame, padding);
  const [x, y] = viewport.project(lonLat[0], lonLat[1]);
  return [Math.round(x * scale), Math.round(y * scale)];
}

export interface Raster {
  width: number;
  height: number;
  channels: number;
  data: Buffer;
}

export async function decode(image: Buffer): Promise<Raster> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: info.channels, data };
}

export function rgbAt(r: Raster, x: number, y: number): [number, number, number] {
  const i = (y * r.width + x) * r.channels;
  return [r.data[i], r.data[i + 1], r.data[i + 2]];
}

export function hexToRgb(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** Largest per-channel difference. */
export function colourDistance(a: readonly number[], b: readonly number[]): number {
  return Math.max(Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1]), Math.abs(a[2] - b[2]));
}

/** Whether any pixel of the image (or of `region`, in image pixels) is within `tolerance` of `hex`. */
export function containsColour(r: Raster, hex: string, tolerance = 12, region?: { x: number; y: number; width: number; height: number }): boolean {
  const want = hexToRgb(hex);
  const x0 = Math.max(0, Math.floor(region?.x ?? 0));
  const y0 = Math.max(0, Math.floor(region?.y ?? 0));
  const x1 = Math.min(r.width, Math.ceil(region ? region.x + region.width : r.width));
  const y1 = Math.min(r.height, Math.ceil(region ? region.y + region.height : r.height));
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = (y * r.width + x) * r.channels;
      if (Math.abs(r.data[i] - want[0]) <= tolerance && Math.abs(r.data[i + 1] - want[1]) <= tolerance && Math.abs(r.data[i + 2] - want[2]) <= tolerance) return true;
    }
  }
  return false;
}
