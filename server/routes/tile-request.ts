import { z } from 'zod';
import { parseInput } from '../http/validate.ts';
import { badRequest, notFound } from '../http/problem.ts';
import { DISTRICT_IDS, getLayer, RISK_LEVELS, type LayerDef } from '../../catalog/layers.ts';
import { canSeeLayer, type Principal } from '../../catalog/access.ts';
import { filterColumn, FILTER_NAMES, type TileFilters } from '../../tiles/filters.ts';
import { MAX_ZOOM } from '../../tiles/tile-coords.ts';
import type { TileRequest } from '../../tiles/cache-key.ts';
import type { ComputedSources } from '../../catalog/computed-sources.ts';

/**
 * Parses and checks a tile request — layer list, z/x/y, filters — into a typed
 * value before anything runs; every failure is a problem naming the field.
 */

// One spelling per tile (and per cache entry): no leading zeros.
const integer = (what: string) => z.string().regex(/^(0|[1-9][0-9]{0,8})$/, what).transform(Number);

const pathSchema = z.object({
  layers: z.string(),
  z: integer(`an integer zoom 0-${MAX_ZOOM}`).refine((v) => v <= MAX_ZOOM, `an integer zoom 0-${MAX_ZOOM}`),
  x: integer('a non-negative integer column'),
  y: integer('a non-negative integer row'),
});

const csv = (allowed: readonly string[]) =>
  z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v.join(',') : v).split(',').map((s) => s.trim()).filter(Boolean))
    .refine((values) => values.length > 0 && values.every((v) => allowed.includes(v)), `one or more of ${allowed.join(', ')}, comma-separated`);

const querySchema = z.object({
  level: csv(RISK_LEVELS).optional(),
  district: csv(DISTRICT_IDS).optional(),
});

/** The requested layers: known, tileable, visible to `who`, each once. Unknown and hidden layers are 404 alike. */
export function parseLayers(list: string, who: Principal, computed: ComputedSources): LayerDef[] {
  const ids = list.split(',');
  const layers: LayerDef[] = [];
  for (const id of ids) {
    if (!id) throw badRequest('layers', 'a comma-separated list of layer ids without empty entries');
    const layer = getLayer(id);
    if (!layer || (!layer.table && !computed.get(layer.id)) || !canSeeLayer(layer, who)) throw notFound(`no tile layer '${id}'; GET /layers lists them`);
    if (layers.includes(layer)) throw badRequest('layers', `'${id}' is listed twice`);
    layers.push(layer);
  }
  return layers;
}

export function parseFilters(query: unknown, layers: readonly LayerDef[]): TileFilters {
  // An unknown parameter is refused rather than ignored, so `?x=1` cannot mint a
  // new cache entry for the same bytes (and a typo in a filter is not silently dropped).
  for (const name of Object.keys((query ?? {}) as object)) {
    if (!(FILTER_NAMES as readonly string[]).includes(name)) throw badRequest(name, `unknown parameter; tiles accept ${FILTER_NAMES.join(', ')}`);
  }
  const q = parseInput(querySchema, query, 'query');
  const filters: TileFilters = {};
  for (const name of FILTER_NAMES) {
    const values = q[name];
    if (!values) continue;
    if (!layers.some((l) => filterColumn(l, name))) {
      throw badRequest(name, `none of the requested layers (${layers.map((l) => l.id).join(', ')}) can be filtered by ${name}`);
    }
    (filters as Record<string, string[]>)[name] = [...new Set(values)];
  }
  return filters;
}

/** A checked tile request: what the tile service and its cache key take (tiles/cache-key.ts). */
export type ParsedTileRequest = TileRequest;

export function parseTileRequest(params: unknown, query: unknown, who: Principal, computed: ComputedSources): ParsedTileRequest {
  const path = parseInput(pathSchema, params, 'path');
  const layers = parseLayers(path.layers, who, computed);
  const minzoom = Math.min(...layers.map((l) => l.minzoom));
  const maxzoom = Math.min(MAX_ZOOM, Math.max(...layers.map((l) => l.maxzoom)));
  if (path.z < minzoom || path.z > maxzoom) {
    throw badRequest('z', `${layers.length > 1 ? 'these layers have' : `layer ${layers[0].id} has`} tiles at zoom ${minzoom}-${maxzoom}`);
  }
  const n = 2 ** path.z;
  if (path.x >= n) throw badRequest('x', `0-${n - 1} at zoom ${path.z}`);
  if (path.y >= n) throw badRequest('y', `0-${n - 1} at zoom ${path.z}`);
  return { layers, tile: { z: path.z, x: path.x, y: path.y }, filters: parseFilters(query, layers) };
}
