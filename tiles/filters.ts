import type { DISTRICT_IDS, LayerDef, RiskLevel } from '../catalog/layers.ts';

/**
 * The filters users ask for on tiles: `level=red,orange` and `district=huadu`.
 * Each applies to the layers that carry the column and leaves the others alone.
 */
export interface TileFilters {
  level?: readonly RiskLevel[];
  district?: readonly (typeof DISTRICT_IDS)[number][];
}

export const FILTER_NAMES = ['level', 'district'] as const;
export type FilterName = (typeof FILTER_NAMES)[number];

/** Column a filter compares against in `layer`, or null when the layer has no such column. */
export function filterColumn(layer: LayerDef, filter: FilterName): string | null {
  const has = (name: string) => layer.properties.some((p) => p.name === name);
  if (filter === 'level') return has('level') ? 'level' : null;
  if (has('district_id')) return 'district_id';
  // The districts layer is filtered by its own id.
  return layer.table === 'districts' ? 'id' : null;
}

/** Stable text form of the filters for cache keys and logs. */
export function filtersKey(filters: TileFilters): string {
  const parts: string[] = [];
  if (filters.level) parts.push(`level=${[...filters.level].sort().join(',')}`);
  if (filters.district) parts.push(`district=${[...filters.district].sort().join(',')}`);
  return parts.join('&');
}

/**
 * A predicate over a feature's properties for the filters that apply to `layer`;
 * `null` when none applies (every feature passes).
 */
export function featurePredicate(layer: LayerDef, filters: TileFilters): ((props: Record<string, unknown>) => boolean) | null {
  const tests: ((props: Record<string, unknown>) => boolean)[] = [];
  for (const name of FILTER_NAMES) {
    const values = filters[name] as readonly string[] | undefined;
    const column = filterColumn(layer, name);
    if (!values || !column) continue;
    const allowed = new Set<unknown>(values);
    tests.push((props) => allowed.has(props[column]));
  }
  if (tests.length === 0) return null;
  if (tests.length === 1) return tests[0];
  return (props) => tests.every((t) => t(props));
}
