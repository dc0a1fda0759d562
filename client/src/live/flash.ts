import Feature from 'ol/Feature.js';
import type { Coordinate } from 'ol/coordinate.js';
import Point from 'ol/geom/Point.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import { Circle, Stroke, Style } from 'ol/style.js';

/**
 * Pulsing rings around points that just became red or orange. Only animates
 * while a flash is running; at most `maxFlashes` at once (the oldest stop first).
 */
export interface FlashOptions {
  /** How long a point flashes, ms. */
  durationMs: number;
  /** One pulse, ms. */
  periodMs: number;
  /** Size factor of the rings (walls are read from across a room). */
  scale: number;
  maxFlashes: number;
}

const DEFAULTS: FlashOptions = { durationMs: 10_000, periodMs: 1200, scale: 1, maxFlashes: 32 };

export class Flasher {
  readonly layer: VectorLayer<VectorSource<Feature<Point>>>;
  private readonly source = new VectorSource<Feature<Point>>();
  private readonly options: FlashOptions;

  constructor(options: Partial<FlashOptions> = {}) {
    this.options = { ...DEFAULTS, ...options };
    const { periodMs, durationMs, scale } = this.options;
    this.layer = new VectorLayer({
      source: this.source,
      zIndex: 150,
      updateWhileAnimating: true,
      updateWhileInteracting: true,
      properties: { role: 'flash' },
      style: (feature) => {
        const age = Date.now() - (feature.get('start') as number);
        if (age > durationMs) return undefined;
        const phase = (age % periodMs) / periodMs;
        const color = feature.get('color') as string;
        const alpha = (1 - phase) * 0.9;
        return new Style({
          image: new Circle({
            radius: (8 + phase * 26) * scale,
            stroke: new Stroke({ color: hexAlpha(color, alpha), width: 4 * scale }),
          }),
        });
      },
    });
  }

  flash(coordinate: Coordinate, color: string): void {
    const f = new Feature({ geometry: new Point(coordinate), start: Date.now(), color });
    this.source.addFeature(f);
    const all = this.source.getFeatures();
    if (all.length > this.options.maxFlashes) {
      all.sort((a, b) => a.get('start') - b.get('start'));
      for (const old of all.slice(0, all.length - this.options.maxFlashes)) this.source.removeFeature(old);
    }
    this.animate();
  }

  get active(): number {
    return this.source.getFeatures().length;
  }

  private frame = 0;

  /** Restyles the rings every animation frame while any flash runs (a few features: cheap). */
  private animate(): void {
    if (this.frame) return;
    const step = () => {
      const now = Date.now();
      for (const f of this.source.getFeatures()) if (now - f.get('start') > this.options.durationMs) this.source.removeFeature(f);
      this.layer.changed();
      this.frame = this.source.getFeatures().length ? requestAnimationFrame(step) : 0;
    };
    this.frame = requestAnimationFrame(step);
  }
}

function hexAlpha(hex: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(hex);
  if (!m) return hex;
  const n = parseInt(m[1], 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha.toFixed(3)})`;
}
