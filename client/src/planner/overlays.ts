import Feature from 'ol/Feature.js';
import GeoJSON from 'ol/format/GeoJSON.js';
import { circular } from 'ol/geom/Polygon.js';
import Point from 'ol/geom/Point.js';
import type { Geometry } from 'ol/geom.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import type OlMap from 'ol/Map.js';
import { fromLonLat } from 'ol/proj.js';
import { Circle, Fill, Stroke, Style, Text } from 'ol/style.js';
import type { GeoJsonCollection, ShelterLine } from '../api.ts';
import { FONT_STACK } from '../theme.ts';

/**
 * The planner's analysis overlays: service-radius circles, coverage gaps, the
 * m²/resident choropleth, proposed sites and the drawn area. Each is its own
 * vector layer, drawn under the point layers so symbols stay clickable.
 */
export type OverlayName = 'radii' | 'gaps' | 'choropleth';

const geojson = new GeoJSON();

/** Ratio of m²/resident to the target → fill: reds below target, greens above. */
export function choroplethColor(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return 'rgba(160,160,160,0.35)';
  if (ratio < 0.5) return 'rgba(215,48,39,0.55)';
  if (ratio < 0.8) return 'rgba(244,109,67,0.5)';
  if (ratio < 1) return 'rgba(253,174,97,0.45)';
  if (ratio < 1.5) return 'rgba(166,217,106,0.45)';
  return 'rgba(26,152,80,0.45)';
}

export const CHOROPLETH_CLASSES: [number | null, string][] = [
  [0.4, '< 50 %'],
  [0.7, '50–80 %'],
  [0.9, '80–100 %'],
  [1.2, '100–150 %'],
  [2, '≥ 150 %'],
];

function vectorLayer(zIndex: number, style: Style | ((f: Feature) => Style | undefined), role: string) {
  return new VectorLayer({ source: new VectorSource<Feature<Geometry>>(), zIndex, style: style as never, visible: false, properties: { role } });
}

export class AnalysisOverlays {
  readonly radii = vectorLayer(
    14,
    new Style({ stroke: new Stroke({ color: 'rgba(26,152,80,0.85)', width: 1.2 }), fill: new Fill({ color: 'rgba(26,152,80,0.08)' }) }),
    'radii',
  );
  readonly gaps = vectorLayer(
    13,
    new Style({ stroke: new Stroke({ color: '#b2182b', width: 1.5 }), fill: new Fill({ color: 'rgba(215,48,39,0.35)' }) }),
    'gaps',
  );
  readonly choropleth = vectorLayer(
    12,
    (f) => new Style({ fill: new Fill({ color: choroplethColor(f.get('ratio') as number | null) }), stroke: new Stroke({ color: 'rgba(60,60,60,0.5)', width: 0.8 }) }),
    'choropleth',
  );
  readonly sites = vectorLayer(
    140,
    (f) =>
      new Style({
        image: new Circle({ radius: 11, fill: new Fill({ color: '#6a3d9a' }), stroke: new Stroke({ color: '#ffffff', width: 2 }) }),
        text: new Text({ text: String(f.get('rank') ?? ''), font: `700 11px ${FONT_STACK}`, fill: new Fill({ color: '#ffffff' }) }),
      }),
    'sites',
  );
  readonly drawn = vectorLayer(
    145,
    new Style({ stroke: new Stroke({ color: '#1f4e9c', width: 2, lineDash: [6, 4] }), fill: new Fill({ color: 'rgba(31,78,156,0.12)' }) }),
    'drawn',
  );

  constructor(map: OlMap) {
    for (const l of [this.choropleth, this.gaps, this.radii, this.sites, this.drawn]) map.addLayer(l);
    this.sites.setVisible(true);
    this.drawn.setVisible(true);
  }

  layer(name: OverlayName) {
    return this[name];
  }

  setRadii(shelters: ShelterLine[]): void {
    const features = shelters.map((s) => {
      const polygon = circular([s.lon, s.lat], s.radius_m, 48).transform('EPSG:4326', 'EPSG:3857');
      return new Feature({ geometry: polygon, shelter_id: s.id });
    });
    replace(this.radii, features);
  }

  setGaps(collection: GeoJsonCollection): void {
    replace(this.gaps, geojson.readFeatures(collection, { featureProjection: 'EPSG:3857' }) as Feature<Geometry>[]);
  }

  setChoropleth(collection: GeoJsonCollection): void {
    const features = geojson.readFeatures(collection, { featureProjection: 'EPSG:3857' }) as Feature<Geometry>[];
    for (const f of features) {
      const v = f.get('area_per_resident_m2') as number | null;
      const target = f.get('target_m2_per_resident') as number | null;
      f.set('ratio', v !== null && target ? v / target : null, true);
    }
    replace(this.choropleth, features);
  }

  setSites(sites: { lon: number; lat: number; rank: number }[]): void {
    replace(
      this.sites,
      sites.map((s) => new Feature({ geometry: new Point(fromLonLat([s.lon, s.lat])), rank: s.rank })),
    );
  }

  clearDistrict(): void {
    for (const l of [this.radii, this.gaps, this.choropleth, this.sites, this.drawn]) l.getSource()!.clear();
  }
}

function replace(layer: VectorLayer<VectorSource<Feature<Geometry>>>, features: Feature<Geometry>[]): void {
  const source = layer.getSource()!;
  source.clear(true);
  source.addFeatures(features);
}
