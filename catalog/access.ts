import { LAYERS, type LayerDef, type LayerProperty } from './layers.ts';

/**
 * Who may see and do what: the access rules every output and write path asks,
 * written once. Each rule is a yes/no answer; the server turns a "no" into its
 * 403/404 problem.
 */

/** Who is asking: anonymous, or the holder of an API key (server/auth). */
export interface Principal {
  /** May see restricted layers and fields (hazardous-chemical enterprises, phones). */
  canSeeRestricted: boolean;
  /** anonymous < viewer < editor < admin. */
  role: 'anonymous' | 'viewer' | 'editor' | 'admin';
  /** Name written to the audit log. */
  actor: string;
  /** Districts the caller may edit; null = every district. */
  districts: readonly string[] | null;
}

export const ANONYMOUS: Principal = { canSeeRestricted: false, role: 'anonymous', actor: 'anonymous', districts: null };

/** The ONE rule for restricted data: every output path asks this. */
export function canSeeLayer(layer: LayerDef, who: Principal): boolean {
  return layer.access === 'public' || who.canSeeRestricted;
}

export function visibleLayers(who: Principal): LayerDef[] {
  return LAYERS.filter((l) => canSeeLayer(l, who));
}

/** Properties of `layer` that `who` may see, in output order. */
export function visibleProperties(layer: LayerDef, who: Principal): LayerProperty[] {
  return layer.properties.filter((prop) => !prop.restricted || who.canSeeRestricted);
}

/** The ONE district-scope rule: a key limited to some districts may act only on those. */
export function canActInDistrict(who: Principal, districtId: string): boolean {
  return who.districts === null || who.districts.includes(districtId);
}

/** Why `who` may not act on `districtId`, in words (the 403 detail); null when it may. */
export function districtRefusal(who: Principal, districtId: string): string | null {
  if (canActInDistrict(who, districtId)) return null;
  return `this key may act only on ${who.districts!.join(', ')}, not ${districtId}`;
}
