import OlMap from 'ol/Map.js';
import View from 'ol/View.js';
import type Feature from 'ol/Feature.js';
import type RenderFeature from 'ol/render/Feature.js';
import type { Geometry } from 'ol/geom.js';
import GeoJSON from 'ol/format/GeoJSON.js';
import MVT from 'ol/format/MVT.js';
import VectorTileLayer from 'ol/layer/VectorTile.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorTileSource from 'ol/source/VectorTile.js';
import VectorSource from 'ol/source/Vector.js';
import type VectorTile from 'ol/VectorTile.js';
import { bbox as bboxStrategy } from 'ol/loadingstrategy.js';
import { createXYZ } from 'ol/tilegrid.js';
import { get as getProjection, transformExtent } from 'ol/proj.js';
import { defaults as defaultControls, ScaleLine } from 'ol/control.js';
import { defaults as defaultInteractions } from 'ol/interaction.js';
import type { LayerInfo } from './api.ts';
import { authHeaders } from './auth.ts';
import { consistencyHeaders } from './consistency.ts';
import { ogcItemsLoader } from './ogc-items-loader.ts';
import { layerStyle, type LiveView } from './styles.ts';
import type { Theme } from './theme.ts';

/**
 * The map: one OpenLayers layer per catalogue layer, fed by the server's vector
 * tiles (one tile source per layer, so a layer switches on and off without
 * reloading the others and refreshes on its own after an edit). When the tile
 * endpoint is not there, the same layers load GeoJSON from the OGC API instead.
 */
export type DataMode = 'tiles' | 'features';

export interface MapLayer {
  info: LayerInfo;
  layer: VectorTileLayer<VectorTileSource<RenderFeature>, RenderFeature> | VectorLayer<VectorSource<Feature<Geometry>>, Feature<Geometry>>;
  /** Reloads this layer's data (after edits it did not see live); `layer` may be a new object afterwards. */
  refresh(): void;
}

/** Vector tiles are 512 px (the server's cluster radius and extent assume it); OpenLayers zooms count 256 px. */
export const TILE_SIZE = 512;
/** Deepest tile the client asks for; deeper views overzoom it (4096 units per tile is plenty). */
const MAX_TILE_ZOOM = 16;

const EPSG3857 = getProjection('EPSG:3857')!;

function linkOf(info: LayerInfo, rel: string): string | undefined {
  return info.links.find((l) => l.rel === rel)?.href;
}

/** The tile URL template as a path on this origin (the server's links are absolute). */
function sameOriginPath(href: string): string {
  const u = new URL(href, location.href);
  // URL parsing escapes the template's braces; put them back.
  return `${u.pathname}${u.search}`.replace(/%7B/gi, '{').replace(/%7D/gi, '}');
}

/**
 * Draw order: filled areas, outlines (districts over streets over communities),
 * lines, then points with the first catalogue entry (risk points) on top.
 */
export function zIndexOf(info: LayerInfo, index: number, count: number): number {
  if (info.geometry === 'polygon') return (info.style.fillOpacity ?? 0) > 0 ? 10 : 30 - index;
  if (info.geometry === 'line') return 40;
  return 50 + (count - index);
}

/** Layers off by default: the ones that would cover the map (filled areas) and dense networks. */
export function onByDefault(info: LayerInfo): boolean {
  if (!info.onByDefault) return false;
  if (info.geometry === 'polygon') return (info.style.fillOpacity ?? 0) === 0;
  return info.geometry !== 'line';
}

/** Browsers may reuse a tile this long (the server's Cache-Control max-age is at most this). */
const HTTP_TILE_MAX_AGE_MS = 60_000;

function tileSource(info: LayerInfo, revalidateUntil: number): VectorTileSource<RenderFeature> {
  const template = sameOriginPath(linkOf(info, 'tiles') ?? `/tiles/${info.id}/{z}/{x}/{y}.mvt`);
  const format = new MVT();
  return new VectorTileSource<RenderFeature>({
    format,
    url: template,
    tileGrid: createXYZ({ extent: EPSG3857.getExtent(), tileSize: TILE_SIZE, minZoom: info.minzoom, maxZoom: Math.min(info.maxzoom, MAX_TILE_ZOOM) }),
    transition: 0,
    // 204 = no feature in this tile; a failed tile stays empty (the next refresh tries again).
    tileLoadFunction: (tile, url) => {
      const vt = tile as VectorTile<RenderFeature>;
      vt.setLoader((extent, _resolution, projection) => {
        // After an edit, a tile the browser cached before it must be asked for again (ETag makes that cheap).
        fetch(url, { cache: Date.now() < revalidateUntil ? 'no-cache' : 'default', headers: { ...authHeaders(), ...consistencyHeaders() } })
          .then(async (res) => {
            if (res.status === 204) return [];
            if (!res.ok) throw new Error(`HTTP ${res.status}`);
            return format.readFeatures(await res.arrayBuffer(), { extent, featureProjection: projection });
          })
          .then(
            (features) => vt.setFeatures(features),
            () => vt.setFeatures([]),
          );
      });
    },
  });
}

function tileLayer(map: OlMap, info: LayerInfo, theme: Theme, live: LiveView, z: number): MapLayer {
  const make = (revalidateUntil: number) =>
    new VectorTileLayer({
      source: tileSource(info, revalidateUntil),
      style: layerStyle(info, theme, live),
      // Points are drawn as vectors in either mode; 'hybrid' would also give each of their tiles a
      // 512 × 512 canvas (1 MiB) to clear and composite every frame, with nothing on it.
      renderMode: info.geometry === 'point' ? 'vector' : 'hybrid',
      zIndex: z,
      // Below its first tile zoom a layer is hidden rather than drawn from far too many tiles.
      minZoom: info.minzoom > 0 ? info.minzoom + 0.5 : undefined,
      properties: { layerId: info.id },
    });
  const handle: MapLayer = {
    info,
    layer: make(0),
    /**
     * Reloads the layer without a blink: a fresh copy loads underneath the
     * current one and replaces it once drawn (source.refresh() would empty the
     * layer for a few frames — visible on a wall at every edit).
     */
    refresh() {
      const old = handle.layer as VectorTileLayer<VectorTileSource<RenderFeature>, RenderFeature>;
      const next = make(Date.now() + HTTP_TILE_MAX_AGE_MS);
      next.setVisible(old.getVisible());
      next.setZIndex(z - 0.5);
      handle.layer = next;
      map.addLayer(next);
      let done = false;
      const swap = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        next.setZIndex(z);
        map.removeLayer(old);
        // Disposed only once a frame without it is drawn: until then the last frame still lists it,
        // and a hit test (a click, the pointer moving) on a disposed layer throws.
        map.once('postrender', () => {
          old.getSource()?.dispose();
          old.dispose();
        });
      };
      const timer = setTimeout(swap, 15_000);
      if (!old.getVisible()) swap();
      else map.once('rendercomplete', swap);
    },
  };
  return handle;
}

function featureLayer(info: LayerInfo, theme: Theme, live: LiveView, z: number): MapLayer {
  const items = sameOriginPath(linkOf(info, 'items') ?? `/ogc/collections/${info.id}/items`);
  const format = new GeoJSON<Feature<Geometry>>();
  // The key and the Consistency-Token go with these requests too (OpenLayers' own url loader sends neither).
  const loader = ogcItemsLoader(
    (extent) => {
      const [w, s, e, n] = transformExtent(extent, EPSG3857, 'EPSG:4326');
      const clamp = (v: number, lim: number) => Math.max(-lim, Math.min(lim, v)).toFixed(6);
      return `${items}?limit=10000&bbox=${clamp(w, 180)},${clamp(s, 85)},${clamp(e, 180)},${clamp(n, 85)}`;
    },
    format,
    (extent) => source.removeLoadedExtent(extent),
  );
  const source: VectorSource<Feature<Geometry>> = new VectorSource<Feature<Geometry>>({ format, strategy: bboxStrategy, loader });
  const layer = new VectorLayer<VectorSource<Feature<Geometry>>, Feature<Geometry>>({
    source,
    style: layerStyle(info, theme, live),
    zIndex: z,
    // Without tiles every feature in view is loaded: dense layers wait for a closer zoom.
    minZoom: info.minzoom > 0 ? info.minzoom + 2.5 : undefined,
    properties: { layerId: info.id },
  });
  return { info, layer, refresh: () => source.refresh() };
}

/** One map layer per catalogue layer, added to the map. */
export function createMapLayers(map: OlMap, catalogue: LayerInfo[], mode: DataMode, theme: Theme, live: LiveView): MapLayer[] {
  return catalogue.map((info, i) => {
    const z = zIndexOf(info, i, catalogue.length);
    const handle = mode === 'tiles' ? tileLayer(map, info, theme, live, z) : featureLayer(info, theme, live, z);
    map.addLayer(handle.layer);
    return handle;
  });
}

/** Whether the server serves vector tiles (the TileJSON of the first layer answers). */
export async function detectDataMode(catalogue: LayerInfo[]): Promise<DataMode> {
  const first = catalogue[0];
  const tilejson = first ? linkOf(first, 'tilejson') : undefined;
  if (!tilejson) return 'features';
  try {
    const res = await fetch(sameOriginPath(tilejson), { headers: { Accept: 'application/json', ...authHeaders() } });
    return res.ok ? 'tiles' : 'features';
  } catch {
    return 'features';
  }
}

export function createMap(target: HTMLElement, wall: boolean): OlMap {
  const controls = wall ? [] : defaultControls({ attribution: false, rotate: false }).extend([new ScaleLine({ units: 'metric' })]).getArray();
  return new OlMap({
    target,
    controls,
    interactions: defaultInteractions({ altShiftDragRotate: false, pinchRotate: false }),
    view: new View({ projection: EPSG3857, center: [12620000, 2620000], zoom: 7, maxZoom: 20, minZoom: 3, constrainResolution: false }),
    // Crisp symbols, but a 4K wall does not need 3× canvases.
    pixelRatio: Math.min(window.devicePixelRatio || 1, 2),
  });
}
