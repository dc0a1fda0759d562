import { z } from 'zod';
import { parseCanonicalNumber } from '../http/numbers.ts';
import { badRequest } from '../http/problem.ts';
import { parseInput } from '../http/validate.ts';
import type { StaticMapOptions } from './options.ts';

/**
 * Query parameters of /maps/static.png and /maps/legend.png, parsed into typed
 * requests before anything touches the database. Layer ids are only checked for
 * form here; whether they exist and whether the caller may see them is the
 * registry's answer (routes.ts), because that depends on who is asking.
 */

export type Lang = 'zh' | 'en';
export type ImageFormat = 'png' | 'webp' | 'jpeg';
export type Overlay = 'coverage' | 'gaps';
/** lon/lat WGS84: [minLon, minLat, maxLon, maxLat]. */
export type BBox = [number, number, number, number];

export type AreaRequest =
  | { kind: 'district' | 'street' | 'community'; id: string }
  | { kind: 'bbox'; bbox: BBox };

export interface StaticMapRequest {
  area: AreaRequest;
  /** Requested layer ids, in drawing order (first drawn first, i.e. at the bottom). */
  layers: string[];
  /** CSS pixels; the image is `width*scale` × `height*scale` pixels. */
  width: number;
  height: number;
  scale: 1 | 2;
  lang: Lang;
  format: ImageFormat;
  overlay?: Overlay;
}

export interface LegendRequest {
  layers: string[];
  scale: 1 | 2;
  lang: Lang;
  format: ImageFormat;
}

/** Layers drawn when the request names none. */
export const DEFAULT_MAP_LAYERS = ['risk_points', 'shelters'] as const;
/** Web Mercator stops at ±85.0511° latitude. */
export const MERCATOR_MAX_LAT = 85.0511287798;
const MAX_LAYERS = 20;

const unitId = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,63}$/, 'an id of lower-case letters, digits, "_" or "-" (e.g. huadu)');

const layerList = z
  .string()
  .transform((s, ctx) => {
    const ids = s.split(',').map((id) => id.trim());
    if (ids.some((id) => !/^[a-z][a-z0-9_]{0,63}$/.test(id))) {
      ctx.addIssue({ code: 'custom', message: 'a comma-separated list of layer ids (e.g. risk_points,shelters)' });
      return z.NEVER;
    }
    const unique = [...new Set(ids)];
    if (unique.length > MAX_LAYERS) {
      ctx.addIssue({ code: 'custom', message: `at most ${MAX_LAYERS} layers` });
      return z.NEVER;
    }
    return unique;
  });

const bbox = z.string().transform((s, ctx): BBox => {
  const parts = s.split(',');
  const nums = parts.map((p) => parseCanonicalNumber(p) ?? NaN);
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  if (nums.length !== 4 || nums.some((n) => !Number.isFinite(n))) return fail('four numbers minLon,minLat,maxLon,maxLat (WGS84 degrees)');
  const [minLon, minLat, maxLon, maxLat] = nums;
  if (minLon < -180 || maxLon > 180) return fail('longitudes within -180..180');
  if (minLat < -MERCATOR_MAX_LAT || maxLat > MERCATOR_MAX_LAT) return fail(`latitudes within ±${MERCATOR_MAX_LAT.toFixed(4)} (Web Mercator)`);
  if (!(minLon < maxLon) || !(minLat < maxLat)) return fail('minLon < maxLon and minLat < maxLat');
  return [minLon, minLat, maxLon, maxLat];
});

const pixels = (fallback: number) =>
  z
    .string()
    .regex(/^[1-9][0-9]{0,6}$/, 'a whole number of pixels (a plain decimal)')
    .transform(Number)
    .refine((n) => n >= 1, 'at least 1 pixel')
    .optional()
    .transform((n) => n ?? fallback);

const scale = z
  .enum(['1', '2'], { message: '1 or 2 (2 doubles the pixels for print and high-density screens)' })
  .optional()
  .transform((s): 1 | 2 => (s === '2' ? 2 : 1));
const lang = z.enum(['zh', 'en'], { message: 'zh or en' }).optional().transform((l): Lang => l ?? 'zh');
const format = z.enum(['png', 'webp', 'jpeg'], { message: 'png, webp or jpeg' }).optional();

const staticShape = {
  district: unitId.optional(),
  street: unitId.optional(),
  community: unitId.optional(),
  bbox: bbox.optional(),
  layers: layerList.optional(),
  width: pixels(1200),
  height: pixels(800),
  scale,
  lang,
  format,
  overlay: z.enum(['coverage', 'gaps'], { message: 'coverage or gaps' }).optional(),
};

const legendShape = { layers: layerList, scale, lang, format };

function rejectUnknown(query: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(query)) {
    if (!allowed.includes(key)) throw badRequest(key, `unknown parameter; allowed: ${allowed.join(', ')}`);
  }
}

/** Parses the query of /maps/static.{png,webp,jpeg}; `pathFormat` is the extension of the path. */
export function parseStaticMapQuery(query: Record<string, unknown>, options: Pick<StaticMapOptions, 'maxSize'>, pathFormat: ImageFormat = 'png'): StaticMapRequest {
  rejectUnknown(query, Object.keys(staticShape));
  const q = parseInput(z.object(staticShape), query, 'query');

  const given = (['district', 'street', 'community', 'bbox'] as const).filter((k) => q[k] !== undefined);
  if (given.length !== 1) {
    throw badRequest(given[1] ?? 'district', 'give exactly one of district, street, community or bbox');
  }
  const area: AreaRequest = q.bbox ? { kind: 'bbox', bbox: q.bbox } : { kind: given[0] as 'district' | 'street' | 'community', id: q[given[0] as 'district']! };

  // Memory safety: the size is checked before any query or drawing happens.
  for (const dim of ['width', 'height'] as const) {
    const px = q[dim] * q.scale;
    if (px > options.maxSize) {
      throw badRequest(dim, `at most ${options.maxSize} pixels${q.scale === 2 ? ` after scale=2 (asked ${q[dim]} × 2 = ${px})` : ` (asked ${q[dim]})`}`);
    }
  }
  return {
    area,
    layers: q.layers ?? [...DEFAULT_MAP_LAYERS],
    width: q.width,
    height: q.height,
    scale: q.scale,
    lang: q.lang,
    format: q.format ?? pathFormat,
    ...(q.overlay ? { overlay: q.overlay } : {}),
  };
}

export function parseLegendQuery(query: Record<string, unknown>, pathFormat: ImageFormat = 'png'): LegendRequest {
  rejectUnknown(query, Object.keys(legendShape));
  const q = parseInput(z.object(legendShape), query, 'query');
  return { layers: q.layers, scale: q.scale, lang: q.lang, format: q.format ?? pathFormat };
}
