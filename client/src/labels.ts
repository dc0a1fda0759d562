import type Feature from 'ol/Feature.js';
import type { Point } from 'ol/geom.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import type View from 'ol/View.js';
import { lang } from './i18n.ts';
import { labelStyle } from './styles.ts';
import type { Theme } from './theme.ts';

/** View zooms (256 px based) at which each kind of unit is labelled: districts far out, communities close in. */
const LABEL_ZOOMS: [number, number][] = [
  [0, 13],
  [11, 16.5],
  [13.5, 30],
];

/** One label per administrative unit, decluttered, shown only while its outline layer is on. */
export function createLabelLayer(labels: Feature<Point>[], theme: Theme, view: View, isVisible: (layerId: string) => boolean) {
  const style = labelStyle(theme);
  const layer = new VectorLayer({
    source: new VectorSource({ features: labels }),
    declutter: 'labels',
    // Above the outlines, below every symbol: a name must never hide a red point.
    zIndex: 35,
    updateWhileAnimating: false,
    style: (feature, resolution) => {
      const rank = feature.get('rank') as number;
      const zoom = view.getZoomForResolution(resolution) ?? 0;
      const [min, max] = LABEL_ZOOMS[rank] ?? [0, 30];
      if (zoom < min || zoom >= max || !isVisible(feature.get('layer'))) return undefined;
      return style(feature);
    },
    properties: { role: 'labels' },
  });
  return {
    layer,
    /** Relabels in the current language. */
    relabel(): void {
      const key = lang() === 'en' ? 'name_en' : 'name_zh';
      for (const f of labels) f.set('label', f.get(key) ?? f.get('name_zh'), true);
      layer.changed();
    },
  };
}
