import type OlMap from 'ol/Map.js';
import { toLonLat, fromLonLat } from 'ol/proj.js';
import { isEmpty, type Extent } from 'ol/extent.js';
import type { LayerInfo } from './api.ts';
import type { AdminUnits } from './admin.ts';
import type { MapLayer, DataMode } from './map.ts';
import type { LiveMap } from './live/live-map.ts';
import type { Theme } from './theme.ts';
import { writeViewState, type ViewState } from './url-state.ts';

/**
 * What the planner and wall modules share: the map, its layers, the catalogue,
 * the admin units, the live updates and the view state kept in the URL.
 */
export class OneMapApp {
  private readonly districtListeners = new Set<(id: string | null) => void>();
  private readonly layerListeners = new Set<() => void>();
  private readonly on: Set<string>;

  constructor(
    readonly map: OlMap,
    readonly catalogue: LayerInfo[],
    readonly layers: Map<string, MapLayer>,
    readonly admin: AdminUnits,
    readonly theme: Theme,
    readonly state: ViewState,
    readonly dataMode: DataMode,
    initiallyOn: Set<string>,
  ) {
    this.on = initiallyOn;
    for (const [id, l] of layers) l.layer.setVisible(this.on.has(id));
    map.on('moveend', () => this.saveView());
  }

  live!: LiveMap;

  layerInfo(id: string): LayerInfo | undefined {
    return this.catalogue.find((l) => l.id === id);
  }

  isOn(id: string): boolean {
    return this.on.has(id);
  }

  setOn(id: string, on: boolean): void {
    if (on === this.on.has(id)) return;
    if (on) this.on.add(id);
    else this.on.delete(id);
    this.layers.get(id)?.layer.setVisible(on);
    this.state.layers = this.catalogue.filter((l) => this.on.has(l.id)).map((l) => l.id);
    writeViewState(this.state);
    for (const fn of this.layerListeners) fn();
  }

  onLayersChange(fn: () => void): void {
    this.layerListeners.add(fn);
  }

  /** Whether a layer is drawn at the current zoom (tile layers have a first zoom). */
  inRange(id: string): boolean {
    const layer = this.layers.get(id)?.layer;
    const zoom = this.map.getView().getZoom() ?? 0;
    return !layer || zoom > layer.getMinZoom();
  }

  districtExtent(id: string | null): Extent | null {
    if (!id) return isEmpty(this.admin.allExtent) ? null : this.admin.allExtent;
    return this.admin.byId.get(`districts:${id}`)?.extent ?? null;
  }

  /** Shows a district (or all), fitted to the map; the URL follows. */
  setDistrict(id: string | null, opts: { fit?: boolean; duration?: number } = {}): void {
    const changed = id !== this.state.district;
    this.state.district = id;
    if (opts.fit !== false) this.fit(this.districtExtent(id), opts.duration ?? 400);
    writeViewState(this.state);
    if (changed) for (const fn of this.districtListeners) fn(id);
  }

  onDistrictChange(fn: (id: string | null) => void): void {
    this.districtListeners.add(fn);
  }

  fit(extent: Extent | null, duration = 0): void {
    if (!extent || isEmpty(extent)) return;
    const size = this.map.getSize();
    const padding = this.fitPadding();
    this.map.getView().fit(extent, { size, padding, duration, maxZoom: 16 });
  }

  /** Room the side panels take over the map, so a fitted district is not hidden under them. */
  fitPadding(): [number, number, number, number] {
    const map = this.map.getTargetElement()!.getBoundingClientRect();
    const pad: [number, number, number, number] = [30, 30, 30, 30]; // top, right, bottom, left
    for (const id of ['side', 'layers-panel']) {
      const el = document.getElementById(id);
      if (!el || !el.offsetParent) continue;
      const r = el.getBoundingClientRect();
      // A panel takes room from the side of the map it stands against: right, left, or (the wall's legend) bottom.
      if (map.right - r.right < 80 && r.height > map.height / 2) pad[1] = Math.max(pad[1], 20 + Math.min(map.right - r.left, map.width / 3));
      else if (map.bottom - r.bottom < 80 && r.top - map.top > map.height / 3) pad[2] = Math.max(pad[2], 20 + Math.min(map.bottom - r.top, map.height / 3));
      else if (r.left - map.left < 80) pad[3] = Math.max(pad[3], 20 + Math.min(r.right - map.left, map.width / 3));
    }
    return pad;
  }

  private saveView(): void {
    const view = this.map.getView();
    const center = view.getCenter();
    if (!center) return;
    const [lon, lat] = toLonLat(center);
    this.state.center = [lon, lat];
    this.state.zoom = view.getZoom() ?? null;
    writeViewState(this.state);
  }

  /** Screen pixel of a lon/lat (tests and the wall's ticker use it). */
  pixelOf(lon: number, lat: number): number[] | null {
    return this.map.getPixelFromCoordinate(fromLonLat([lon, lat])) ?? null;
  }
}
