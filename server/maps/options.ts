/**
 * Options of the static-map renderer. Every key has a default; `mapRoutes(ctx, options)`
 * takes a partial object, so a deployment (or a test) changes only what it needs.
 */
export interface StaticMapOptions {
  /** Largest width or height accepted, in output pixels (after `scale`). Larger requests are refused with 400 before anything is queried or drawn. */
  maxSize: number;
  /** Most features one image may hold (all layers together); an area holding more is refused with 400 instead of loading them all into memory. */
  maxFeatures: number;
  /** Side of a clustering cell in CSS pixels, for layers whose registry entry has a cluster rule. */
  clusterCell: number;
  /** Points sharing a cell are drawn as one cluster from this many on; fewer are drawn one by one. */
  clusterMinPoints: number;
  /** Bytes of rendered images kept in memory; least recently used images are dropped first. */
  cacheBytes: number;
  /** Images kept in memory at most. */
  cacheEntries: number;
  /** Clock for the timestamp printed on each map (tests fix it). */
  now: () => Date;
  /** Time zone of the printed timestamp (IANA name). */
  timeZone: string;
}

export const DEFAULT_MAP_OPTIONS: StaticMapOptions = {
  maxSize: 4096,
  maxFeatures: 50_000,
  clusterCell: 40,
  clusterMinPoints: 3,
  cacheBytes: 64 * 1024 * 1024,
  cacheEntries: 500,
  now: () => new Date(),
  timeZone: 'Asia/Shanghai',
};

export function mapOptions(partial: Partial<StaticMapOptions> = {}): StaticMapOptions {
  return { ...DEFAULT_MAP_OPTIONS, ...partial };
}
