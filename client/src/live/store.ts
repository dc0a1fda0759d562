import Feature from 'ol/Feature.js';
import Point from 'ol/geom/Point.js';
import VectorSource from 'ol/source/Vector.js';
import { fromLonLat } from 'ol/proj.js';
import type { LiveView } from '../styles.ts';

/** The data of one `change` event from `GET /events` (see server/live/events.ts). */
export interface ChangeEvent {
  type: 'feature' | 'occupancy' | 'import';
  op: 'insert' | 'update' | 'delete';
  layer: string;
  id: string | number;
  version: number;
  bbox: [number, number, number, number] | null;
  geometry?: { type: 'Point'; coordinates: [number, number] };
  level?: string;
  previousLevel?: string;
  name_zh?: string;
  occupancy?: number;
  capacity?: number;
  status?: string;
  /** A change of the whole layer, naming no one feature (`id: "resync"`): rows written in plain SQL, or changes missed during a break. */
  resync?: boolean;
  at: string;
}

export interface StoreLimits {
  /** Features drawn by the live overlay at most; the oldest fall back to (refreshed) tiles. */
  maxFeatures: number;
  /** Shelters whose occupancy is remembered at most. */
  maxShelters: number;
}

export const DEFAULT_LIMITS: StoreLimits = { maxFeatures: 500, maxShelters: 5000 };

type Key = string;
const keyOf = (layer: string, id: string | number | undefined) => `${layer}:${id}`;

interface Entry {
  /** Null = deleted (a tombstone that hides the tile feature). */
  feature: Feature<Point> | null;
  version: number;
}

/**
 * Live changes applied in place: one overlay feature per changed point (moved,
 * recoloured or removed as events arrive) and the latest occupancy per shelter.
 * Both maps are bounded, so a wall that runs for weeks holds the same memory
 * after a million events as after a hundred.
 */
export class LiveStore implements LiveView {
  readonly source = new VectorSource<Feature<Point>>();
  private readonly entries = new Map<Key, Entry>();
  private readonly shelters = new Map<string, { occupancy?: number; capacity?: number; status?: string }>();

  constructor(private readonly limits: StoreLimits = DEFAULT_LIMITS) {}

  overridden(layerId: string, id: string | number | undefined): boolean {
    return id !== undefined && this.entries.has(keyOf(layerId, id));
  }

  shelter(id: string | number | undefined) {
    return id === undefined ? undefined : this.shelters.get(String(id));
  }

  get size(): { features: number; shelters: number } {
    return { features: this.entries.size, shelters: this.shelters.size };
  }

  /** Applies a feature or occupancy event. Returns the overlay feature when one was added or moved. */
  apply(e: ChangeEvent): Feature<Point> | null {
    if (e.layer === 'shelters' && (e.occupancy !== undefined || e.capacity !== undefined || e.status !== undefined)) {
      const k = String(e.id);
      const prev = this.shelters.get(k) ?? {};
      this.shelters.delete(k);
      this.shelters.set(k, { ...prev, ...pickDefined({ occupancy: e.occupancy, capacity: e.capacity, status: e.status }) });
      if (this.shelters.size > this.limits.maxShelters) this.shelters.delete(this.shelters.keys().next().value!);
    }
    if (e.type === 'occupancy' || e.type === 'import') return null;
    const key = keyOf(e.layer, e.id);
    const entry = this.entries.get(key);
    if (entry && entry.version > e.version) return null; // an older event replayed after a newer one
    if (e.op === 'delete') {
      if (entry?.feature) this.source.removeFeature(entry.feature);
      this.touch(key, { feature: null, version: e.version });
      return null;
    }
    if (!e.geometry || e.geometry.type !== 'Point') return null;
    const coordinates = fromLonLat(e.geometry.coordinates);
    const props = pickDefined({ layer: e.layer, level: e.level, name_zh: e.name_zh, occupancy: e.occupancy, capacity: e.capacity, status: e.status });
    let feature = entry?.feature ?? null;
    if (feature) {
      feature.getGeometry()!.setCoordinates(coordinates);
      feature.setProperties(props);
    } else {
      feature = new Feature({ geometry: new Point(coordinates), ...props });
      feature.setId(e.id);
      this.source.addFeature(feature);
    }
    this.touch(key, { feature, version: e.version });
    return feature;
  }

  /** Adds properties fetched later (the full record of a changed feature). */
  complete(layer: string, id: string | number, properties: Record<string, unknown>): void {
    const f = this.entries.get(keyOf(layer, id))?.feature;
    if (f) f.setProperties({ ...properties, layer });
  }

  private touch(key: Key, entry: Entry): void {
    this.entries.delete(key); // re-insert: Map order is recency
    this.entries.set(key, entry);
    while (this.entries.size > this.limits.maxFeatures) {
      const [oldKey, old] = this.entries.entries().next().value!;
      this.entries.delete(oldKey);
      if (old.feature) this.source.removeFeature(old.feature);
    }
  }
}

function pickDefined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
