import type { LayerDef } from '../catalog/layers.ts';
import type { Principal } from '../catalog/access.ts';
import { filtersKey, type TileFilters } from './filters.ts';
import type { TileCoord } from './tile-coords.ts';

/** One tile request, checked (server/routes/tile-request.ts parses it). */
export interface TileRequest {
  layers: LayerDef[];
  tile: TileCoord;
  filters: TileFilters;
}

/** Key prefixes: what the caller may see (public fields only, or restricted ones too). */
export const ANONYMOUS_KEY_PREFIX = 'a:';
export const RESTRICTED_KEY_PREFIX = 'r:';

/**
 * The one cache key of a tile: only what changes its bytes — what the caller may
 * see, the layers in order, z/x/y and the normalised filters (sorted, without
 * duplicates or filters no requested layer has). It is written as the canonical
 * URL, so the fast path finds a canonical request by its URL without parsing it.
 */
export function tileCacheKey({ layers, tile, filters }: TileRequest, who: Principal): string {
  const query = filtersKey(filters);
  const prefix = who.canSeeRestricted ? RESTRICTED_KEY_PREFIX : ANONYMOUS_KEY_PREFIX;
  return `${prefix}/tiles/${layers.map((l) => l.id).join(',')}/${tile.z}/${tile.x}/${tile.y}.mvt${query ? `?${query}` : ''}`;
}
