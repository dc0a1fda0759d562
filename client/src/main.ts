import 'ol/ol.css';
import './style.css';
import { fromLonLat } from 'ol/proj.js';
import type { FeatureLike } from 'ol/Feature.js';
import type { Layer } from 'ol/layer.js';
import { ApiError, fetchJson, type LayerInfo } from './api.ts';
import { apiKey, setApiKey } from './auth.ts';
import { loadAdminUnits, type AdminUnits } from './admin.ts';
import { OneMapApp } from './app.ts';
import { byId } from './dom.ts';
import { lang, onLang, setLang, t } from './i18n.ts';
import { createLabelLayer } from './labels.ts';
import { LiveMap } from './live/live-map.ts';
import { LiveStore } from './live/store.ts';
import { createMap, createMapLayers, detectDataMode, onByDefault } from './map.ts';
import { Popup } from './popup.ts';
import { DARK, LIGHT } from './theme.ts';
import { readViewState, writeViewState } from './url-state.ts';
import { startPlanner } from './planner/planner.ts';
import { startWall } from './wall/wall.ts';

declare global {
  interface Window {
    /** A handle for automation and debugging: the app once it has started. */
    onemap?: OneMapApp;
  }
}

/** The catalogue, retried until the server answers: a wall may boot before its server. */
async function loadCatalogue(): Promise<LayerInfo[]> {
  const notice = byId('notice');
  for (let attempt = 0; ; attempt++) {
    try {
      const body = await fetchJson<{ layers: LayerInfo[] }>('/layers');
      notice.hidden = true;
      return body.layers;
    } catch (err) {
      if (err instanceof ApiError && err.status === 401 && apiKey()) {
        // A wrong or revoked key: carry on without it rather than show nothing.
        setApiKey(null);
        notice.textContent = t('keyRejected');
        notice.hidden = false;
        setTimeout(() => (notice.hidden = true), 10_000);
        continue;
      }
      notice.textContent = t('serverUnreachable');
      notice.hidden = false;
      await new Promise((r) => setTimeout(r, Math.min(10_000, 1000 * 2 ** attempt)));
    }
  }
}

async function start(): Promise<void> {
  const state = readViewState();
  const wall = state.mode === 'wall';
  setLang(state.lang);
  document.body.classList.add(wall ? 'mode-wall' : 'mode-planner', wall ? 'theme-dark' : 'theme-light');
  document.body.dataset.state = 'loading';
  const theme = wall ? DARK : LIGHT;

  const catalogue = await loadCatalogue();
  const [admin, dataMode] = await Promise.all([
    loadAdminUnits(catalogue).catch(() => ({ districts: [], byId: new Map(), labels: [], allExtent: [Infinity, Infinity, -Infinity, -Infinity] }) as AdminUnits),
    detectDataMode(catalogue),
  ]);
  if (dataMode === 'features') {
    const notice = byId('notice');
    notice.textContent = t('tilesFallback');
    notice.hidden = false;
    notice.classList.add('soft');
  }

  const map = createMap(byId('map'), wall);
  // Styles see the live store, so a changed feature's tile copy hides behind its live version.
  const store = new LiveStore();
  const mapLayers = createMapLayers(map, catalogue, dataMode, theme, store);
  const layers = new Map(mapLayers.map((l) => [l.info.id, l]));
  const known = new Set(catalogue.map((l) => l.id));
  const initiallyOn = new Set(state.layers ? state.layers.filter((id) => known.has(id)) : catalogue.filter(onByDefault).map((l) => l.id));
  const app = new OneMapApp(map, catalogue, layers, admin, theme, state, dataMode, initiallyOn);
  window.onemap = app;

  // Live updates (both modes): overlay of changed points, flashes, in-place shelter occupancy.
  const live = new LiveMap({
    store,
    catalogue,
    layers,
    theme,
    isVisible: (id) => app.isOn(id),
    flashMs: wall ? 12_000 : 6_000,
  });
  live.onStatus((s) => (document.body.dataset.live = s));
  app.live = live;

  const labels = createLabelLayer(admin.labels, theme, map.getView(), (id) => app.isOn(id));
  map.addLayer(labels.layer);
  map.addLayer(live.overlay);
  map.addLayer(live.flasher.layer);
  onLang(() => labels.relabel());
  app.onLayersChange(() => {
    labels.layer.changed();
    live.overlay.changed();
  });

  const popupLayerOf = (olLayer: Layer, feature: FeatureLike) =>
    app.layerInfo(olLayer.get('role') === 'live' ? (feature.get('layer') as string) : (olLayer.get('layerId') as string));
  const popup = wall ? null : new Popup(map, popupLayerOf);

  byId('synthetic-badge').hidden = !catalogue.some((l) => l.synthetic);
  onLang(() => {
    byId('synthetic-badge').textContent = t('syntheticBadge');
    document.title = t('appTitle');
    state.lang = lang();
    writeViewState(state);
  });

  if (wall) startWall(app);
  else startPlanner(app, popup!);

  // The view: from the URL, else the district, else all districts (fitted once the panels are drawn).
  if (state.center && state.zoom !== null) {
    map.getView().setCenter(fromLonLat(state.center));
    map.getView().setZoom(state.zoom);
  } else {
    map.updateSize();
    app.fit(app.districtExtent(state.district));
  }
  live.start();

  map.once('rendercomplete', () => {
    document.body.dataset.state = 'ready';
  });
}

start().catch((err: unknown) => {
  const notice = document.getElementById('notice');
  if (notice) {
    notice.textContent = `${(err as Error).message ?? err}`;
    notice.hidden = false;
  }
  document.body.dataset.state = 'failed';
  throw err;
});
