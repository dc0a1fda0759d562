import type { Geometry } from 'geojson';

/**
 * Every committed change to a feature is announced here, after the transaction
 * commits. Tile caches drop exactly the affected tiles, analysis caches drop
 * their results, and live maps receive an event — all from this one signal.
 */
export interface FeatureChange {
  /** Registry layer id (e.g. 'shelters'). */
  layer: string;
  id: string | number;
  op: 'insert' | 'update' | 'delete';
  /** Geometry before the change (update/delete), WGS84. */
  before?: Geometry | null;
  /** Geometry after the change (insert/update), WGS84. */
  after?: Geometry | null;
  /** Data version after the change (see the data_version table); also the live event id. */
  dataVersion?: number;
  /** What happened, for live maps: an edit, a shelter check-in/out, or an import. */
  kind?: 'feature' | 'occupancy' | 'import';
  /** [minLon, minLat, maxLon, maxLat] covering before and after. */
  bbox?: [number, number, number, number];
  /** Extra facts live maps show without a round trip (risk level, occupancy, capacity …). */
  summary?: Record<string, unknown>;
}

export type ChangeListener = (change: FeatureChange) => void;

export class ChangeBus {
  private readonly listeners = new Set<ChangeListener>();

  /** Subscribes; returns the unsubscribe function. */
  on(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(change: FeatureChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
