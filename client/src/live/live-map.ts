import type Feature from 'ol/Feature.js';
import type Point from 'ol/geom/Point.js';
import VectorLayer from 'ol/layer/Vector.js';
import type VectorSource from 'ol/source/Vector.js';
import { fetchJson, type GeoJsonFeature, type LayerInfo } from '../api.ts';
import type { MapLayer } from '../map.ts';
import { isAlarming, riskLevelColor } from '../risk.ts';
import { overlayStyle } from '../styles.ts';
import type { Theme } from '../theme.ts';
import { LiveConnection, type LiveStatus } from './connection.ts';
import { Flasher } from './flash.ts';
import type { ChangeEvent, LiveStore } from './store.ts';

export interface LiveMapOptions {
  store: LiveStore;
  catalogue: LayerInfo[];
  layers: Map<string, MapLayer>;
  theme: Theme;
  isVisible(layerId: string): boolean;
  flashMs?: number;
}

/** Full records fetched for changed features at once at most; beyond, the layer's tiles are reloaded instead. */
const MAX_FETCHES = 4;
const MAX_QUEUE = 50;

/**
 * Live updates on the map: events from `/events` go into the bounded LiveStore,
 * whose overlay draws each changed point at once (the tile copy is hidden), red
 * and orange arrivals flash, shelter symbols restyle in place, and each affected
 * tile layer reloads quietly a little later so clusters and counts catch up.
 */
export class LiveMap {
  readonly store: LiveStore;
  readonly flasher: Flasher;
  readonly overlay: VectorLayer<VectorSource<Feature<Point>>>;
  readonly connection: LiveConnection;
  private readonly byId: Map<string, LayerInfo>;
  private readonly restyleQueued = new Set<string>();
  private restyleFrame = 0;
  private readonly refreshTimers = new Map<string, { timer: ReturnType<typeof setTimeout>; first: number }>();
  private fetching = 0;
  private readonly fetchQueue: ChangeEvent[] = [];
  private readonly eventListeners = new Set<(event: ChangeEvent, alarming: boolean) => void>();
  private readonly statusListeners = new Set<(status: LiveStatus) => void>();
  private readonly resyncListeners = new Set<() => void>();
  private readonly databaseListeners = new Set<(up: boolean) => void>();
  status: LiveStatus = 'connecting';

  constructor(private readonly options: LiveMapOptions) {
    this.store = options.store;
    this.byId = new Map(options.catalogue.map((l) => [l.id, l]));
    this.flasher = new Flasher({ durationMs: options.flashMs ?? 10_000, scale: options.theme.scale });
    this.overlay = new VectorLayer({
      source: this.store.source,
      style: overlayStyle((id) => this.byId.get(id), options.isVisible, options.theme, this.store),
      zIndex: 120,
      properties: { role: 'live' },
    });
    this.connection = new LiveConnection({
      change: (e) => this.handle(e),
      status: (s) => {
        this.status = s;
        for (const fn of this.statusListeners) fn(s);
      },
      resync: () => this.resync(),
      database: (up) => {
        for (const fn of this.databaseListeners) fn(up);
      },
    });
  }

  layerOf(id: string): LayerInfo | undefined {
    return this.byId.get(id);
  }

  start(): void {
    this.connection.start();
  }

  /** Every applied event, with whether it flashed (the wall's ticker and bars listen). */
  onEvent(fn: (event: ChangeEvent, alarming: boolean) => void): void {
    this.eventListeners.add(fn);
  }

  onStatus(fn: (status: LiveStatus) => void): void {
    this.statusListeners.add(fn);
    fn(this.status);
  }

  /** After a break in the stream: panels reload what they show. */
  onResync(fn: () => void): void {
    this.resyncListeners.add(fn);
  }

  /** When the server says it lost its database or has it back (the wall's offline notice checks at once). */
  onDatabase(fn: (up: boolean) => void): void {
    this.databaseListeners.add(fn);
  }

  /** Applies one event (exposed for the wall's own use and for tests). */
  handle(e: ChangeEvent): void {
    const info = this.byId.get(e.layer);
    if (!info) return; // a layer this client does not show (or may not see)
    const feature = this.store.apply(e);
    const alarming = Boolean(feature) && isAlarming(e.op, e.level, e.previousLevel);
    if (feature && alarming) this.flasher.flash(feature.getGeometry()!.getCoordinates(), riskLevelColor(info, String(e.level)));
    if (e.type === 'occupancy') {
      this.restyle(e.layer);
    } else if (e.type === 'import' || (!feature && e.op !== 'delete')) {
      // Not a point we can draw from the event (an import, a polygon): reload the layer's tiles soon.
      // An import is one event for all its rows, so there is nothing to wait for: reload at once.
      this.scheduleRefresh(e.layer, e.type === 'import' ? 200 : 1500);
    } else {
      this.restyle(e.layer);
      this.scheduleRefresh(e.layer, 15_000);
      if (feature) this.queueFetch(e);
    }
    this.overlay.changed();
    for (const fn of this.eventListeners) fn(e, alarming);
  }

  /** Reloads every layer's tiles (after a break in the stream: changes may have been missed). */
  resync(): void {
    for (const id of this.options.layers.keys()) this.scheduleRefresh(id, 500);
    for (const fn of this.resyncListeners) fn();
  }

  private restyle(layerId: string): void {
    this.restyleQueued.add(layerId);
    if (this.restyleFrame) return;
    this.restyleFrame = requestAnimationFrame(() => {
      this.restyleFrame = 0;
      for (const id of this.restyleQueued) this.options.layers.get(id)?.layer.changed();
      this.restyleQueued.clear();
    });
  }

  /** Debounced reload of one layer; never postponed more than a minute by a steady stream of edits. */
  private scheduleRefresh(layerId: string, delayMs: number): void {
    const layer = this.options.layers.get(layerId);
    if (!layer) return;
    const pending = this.refreshTimers.get(layerId);
    const first = pending?.first ?? Date.now();
    if (pending) clearTimeout(pending.timer);
    const wait = Math.max(0, Math.min(delayMs, first + 60_000 - Date.now()));
    const timer = setTimeout(() => {
      this.refreshTimers.delete(layerId);
      layer.refresh();
    }, wait);
    this.refreshTimers.set(layerId, { timer, first });
  }

  private queueFetch(e: ChangeEvent): void {
    if (this.fetchQueue.length >= MAX_QUEUE) {
      this.scheduleRefresh(e.layer, 2000);
      return;
    }
    this.fetchQueue.push(e);
    this.pump();
  }

  private pump(): void {
    while (this.fetching < MAX_FETCHES && this.fetchQueue.length) {
      const e = this.fetchQueue.shift()!;
      this.fetching++;
      fetchJson<GeoJsonFeature>(`/ogc/collections/${encodeURIComponent(e.layer)}/items/${encodeURIComponent(String(e.id))}`, {
        headers: { Accept: 'application/geo+json' },
      })
        .then((f) => {
          this.store.complete(e.layer, e.id, f.properties);
          this.overlay.changed();
        })
        .catch(() => {
          /* the event's own facts stay on the map */
        })
        .finally(() => {
          this.fetching--;
          this.pump();
        });
    }
  }
}
