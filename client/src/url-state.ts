import type { Lang } from './i18n.ts';

/**
 * The view lives in the URL so a view can be shared or bookmarked:
 *   ?mode=wall&district=pingshan&z=12.4&c=114.35,22.70&layers=districts,risk_points&lang=en
 * Wall mode also reads `rotate` (seconds per district) — set once, never written back.
 */
export interface ViewState {
  mode: 'planner' | 'wall';
  /** District id, or null for all districts. */
  district: string | null;
  /** View zoom (OpenLayers, 256 px based); null = fit the district(s). */
  zoom: number | null;
  /** Centre [lon, lat]; null = fit the district(s). */
  center: [number, number] | null;
  /** Layer ids switched on; null = the defaults. */
  layers: string[] | null;
  lang: Lang;
  /** Wall mode: seconds per district when rotating; 0 = no rotation. */
  rotate: number;
  /** Planner mode: street or community table. */
  unit: 'street' | 'community';
}

const ID = /^[a-z][a-z0-9_]{0,63}$/;

export function readViewState(search: string = location.search): ViewState {
  const q = new URLSearchParams(search);
  const num = (v: string | null) => (v !== null && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : null);
  const zoom = num(q.get('z'));
  const c = (q.get('c') ?? '').split(',').map((s) => num(s));
  const center: [number, number] | null =
    c.length === 2 && c[0] !== null && c[1] !== null && Math.abs(c[0]) <= 180 && Math.abs(c[1]) <= 85 ? [c[0], c[1]] : null;
  const layersParam = q.get('layers');
  const district = q.get('district');
  const rotate = num(q.get('rotate'));
  return {
    mode: q.get('mode') === 'wall' ? 'wall' : 'planner',
    district: district && ID.test(district) ? district : null,
    zoom: zoom !== null && zoom >= 0 && zoom <= 24 ? zoom : null,
    center,
    layers: layersParam === null ? null : layersParam.split(',').filter((id) => ID.test(id)),
    lang: q.get('lang') === 'en' ? 'en' : 'zh',
    rotate: rotate !== null && rotate >= 5 ? rotate : 0,
    unit: q.get('unit') === 'community' ? 'community' : 'street',
  };
}

export function viewStateQuery(s: ViewState): string {
  const q = new URLSearchParams();
  if (s.mode === 'wall') q.set('mode', 'wall');
  if (s.district) q.set('district', s.district);
  if (s.zoom !== null) q.set('z', s.zoom.toFixed(2));
  if (s.center) q.set('c', `${s.center[0].toFixed(5)},${s.center[1].toFixed(5)}`);
  if (s.layers) q.set('layers', s.layers.join(','));
  if (s.lang !== 'zh') q.set('lang', s.lang);
  if (s.rotate) q.set('rotate', String(s.rotate));
  if (s.unit !== 'street') q.set('unit', s.unit);
  // Commas are safe in a query and keep the URL readable.
  return q.toString().replace(/%2C/g, ',');
}

let pending: ReturnType<typeof setTimeout> | undefined;

/** Replaces the URL (no history entry per pan), at most every 300 ms. */
export function writeViewState(s: ViewState): void {
  clearTimeout(pending);
  pending = setTimeout(() => {
    const query = viewStateQuery(s);
    const url = `${location.pathname}${query ? `?${query}` : ''}${location.hash}`;
    if (url !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(null, '', url);
  }, 300);
}
