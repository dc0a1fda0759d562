import 'ol/ol.css';
import './ogc-page.css';
import OlMap from 'ol/Map.js';
import View from 'ol/View.js';
import GeoJSON from 'ol/format/GeoJSON.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import { Circle, Fill, Stroke, Style } from 'ol/style.js';

/**
 * The small map of an OGC API items page (server/ogc/html-pages.ts): the
 * page's own features as GeoJSON from this server (the URL is in the map
 * element's data-src), drawn without a base map so the page makes no request
 * to any other origin. Clicking a feature marks its row in the table.
 */
declare global {
  interface Window {
    /** For tests and the curious: how many features the map shows once loaded. */
    ogcPage?: { features: number; ready: boolean };
  }
}

const style = new Style({
  image: new Circle({ radius: 5, fill: new Fill({ color: '#e02020cc' }), stroke: new Stroke({ color: '#ffffff', width: 1.5 }) }),
  stroke: new Stroke({ color: '#2f7bff', width: 2 }),
  fill: new Fill({ color: '#2f7bff33' }),
});

async function main(): Promise<void> {
  const element = document.getElementById('ogc-map');
  const src = element?.dataset.src;
  window.ogcPage = { features: 0, ready: false };
  if (!element || !src) return;
  const url = new URL(src, location.href);
  // Draw in lon/lat whatever CRS the page was asked in.
  url.searchParams.delete('crs');
  const response = await fetch(`${url.pathname}${url.search}`, { headers: { accept: 'application/geo+json' } });
  const data: unknown = await response.json();
  const features = new GeoJSON().readFeatures(data, { dataProjection: 'EPSG:4326', featureProjection: 'EPSG:3857' });
  const source = new VectorSource({ features });
  const map = new OlMap({
    target: element,
    layers: [new VectorLayer({ source, style })],
    view: new View({ center: [12613000, 2648000], zoom: 10 }),
  });
  if (features.length) map.getView().fit(source.getExtent()!, { padding: [24, 24, 24, 24], maxZoom: 16 });
  map.on('click', (e) => {
    const hit = map.forEachFeatureAtPixel(e.pixel, (f) => f);
    document.querySelectorAll('tr.selected').forEach((tr) => tr.classList.remove('selected'));
    if (!hit) return;
    const row = document.querySelector(`tr[data-id="${CSS.escape(String(hit.getId()))}"]`);
    row?.classList.add('selected');
    row?.scrollIntoView({ block: 'nearest' });
  });
  window.ogcPage = { features: features.length, ready: true };
}

void main();
