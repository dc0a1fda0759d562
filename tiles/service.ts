import { createHash } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import type { Geometry } from 'geojson';
import type { ChangeFeed, FeatureChange } from '../catalog/ports.ts';
import type { Db, StatementScope } from '../catalog/ports.ts';
import type { Logger } from '../catalog/ports.ts';
import { getLayer, LAYERS, type LayerDef } from '../catalog/layers.ts';
import { type Principal } from '../catalog/access.ts';
import { MVT_CONTENT_TYPE, TILE_CSP, TILE_DEFAULTS, type TileEngine, type TileGeometryOptions } from './engine.ts';
import { GeojsonVtEngine } from './engine-geojsonvt.ts';
import { PostgisEngine } from './engine-postgis.ts';
import { DbFeatureSource } from './source.ts';
import { TileCache, type CachedTile } from './cache.ts';
import { clusterCellBBox } from './cluster.ts';
import type { TileFilters } from './filters.ts';
import { expandBBox, geometryWorldBBox, latToWorldY, lonToWorldX, MAX_ZOOM, type TileCoord, type WorldBBox } from './tile-coords.ts';
import { ComputedSources } from '../catalog/computed-sources.ts';
import { ident } from '../catalog/sql-names.ts';
import { liveRowsPredicate, tableFactsOnce, type TableFacts, type TableFactsOnce } from '../catalog/table-facts.ts';
import { sharedIn, type SharedWork } from '../catalog/shared-work.ts';

/**
 * The tile service: picks the engine for the backend, answers tile requests
 * through the byte-bounded cache, and keeps both coherent with the data. It
 * listens to the ChangeBus (every committed edit), tells the engine, and drops
 * exactly the cached tiles over the feature's old and new geometry at every zoom.
 */
export interface TileServiceOptions {
  /** Engine that makes tiles. Default: ST_AsMVT on a real PostgreSQL server, geojson-vt on the embedded one. */
  engine?: TileEngine;
  /** Upper bound of the tile cache in bytes; 0 turns caching off. Default 64 MiB. */
  cacheBytes?: number;
  /** How long browsers may reuse a tile without asking again (Cache-Control max-age, seconds). Default 30. */
  maxAgeSeconds?: number;
  /** Tile geometry settings passed to the default engine (extent, buffer, dense-tile limit). */
  geometry?: Partial<TileGeometryOptions>;
}

/** [west, south, east, north] in degrees. */
export type LonLatBox = [number, number, number, number];

export const TILE_SERVICE_DEFAULTS = {
  cacheBytes: 64 * 1024 * 1024,
  maxAgeSeconds: 30,
};

export interface TileRequest {
  /** Registry layers in request order, already checked for visibility. */
  layers: readonly LayerDef[];
  tile: TileCoord;
  filters: TileFilters;
  who: Principal;
  /** Cache key: who may see what, plus the request URL. */
  key: string;
  /** Headers set by earlier middleware, replayed on cache hits. */
  baseHeaders?: OutgoingHttpHeaders;
  /**
   * Render it now, for this request: neither the cache nor a render already under
   * way may answer it (it must see a write this process has not heard of yet).
   * The tile rendered is still cached.
   */
  fresh?: boolean;
  /**
   * The request it is for: the statement timeout and cancellation of the render (a render
   * shared by identical requests runs in the scope of the first, and stops only when every
   * one of them has left). None: nobody's request.
   */
  scope?: StatementScope;
}

export interface TileServiceContext {
  db: Db;
  changes: ChangeFeed;
  log: Logger;
  /** The computed layers the server registered (none when not given). */
  computed?: ComputedSources;
  /** The schema facts of the layers' tables, read once for the whole app (read here when not given). */
  tableFacts?: TableFactsOnce;
}

export class TileService {
  /** Makes the tiles of table layers. */
  readonly engine: TileEngine;
  /** Makes the tiles of computed layers (no table, so no ST_AsMVT): always in Node. */
  readonly computedEngine: GeojsonVtEngine;
  readonly cache: TileCache;
  private readonly geometry: TileGeometryOptions;
  private readonly maxAge: number;
  private readonly inFlight = new Map<string, SharedWork<CachedTile>>();
  private readonly bounds = new Map<string, SharedWork<LonLatBox | null>>();
  private readonly tableFacts: TableFactsOnce;
  private readonly unsubscribe: () => void;
  /** Where tiles and extents are read: the read replica when there is one (server/db/replica.ts). */
  private readonly db: Db;
  private readonly computed: ComputedSources;

  constructor(
    private readonly ctx: TileServiceContext,
    options: TileServiceOptions = {},
  ) {
    this.geometry = { ...TILE_DEFAULTS, ...options.geometry };
    const db = (this.db = ctx.db.read ?? ctx.db);
    const computed = (this.computed = ctx.computed ?? new ComputedSources());
    const tableFacts = (this.tableFacts = ctx.tableFacts ?? tableFactsOnce(db, LAYERS));
    this.engine =
      options.engine ??
      (db.backend === 'postgres'
        ? new PostgisEngine(db, { ...this.geometry, tableFacts })
        : new GeojsonVtEngine(new DbFeatureSource(db, LAYERS, computed, tableFacts), this.geometry));
    this.computedEngine =
      this.engine instanceof GeojsonVtEngine ? this.engine : new GeojsonVtEngine(new DbFeatureSource(db, LAYERS, computed, tableFacts), this.geometry);
    if (this.engine instanceof PostgisEngine) {
      // Build every layer's SQL now rather than on the first request.
      this.engine.start().catch((err) => ctx.log.warn(`tile SQL not prepared yet: ${(err as Error).message}`));
    }
    this.cache = new TileCache(options.cacheBytes ?? TILE_SERVICE_DEFAULTS.cacheBytes);
    this.maxAge = options.maxAgeSeconds ?? TILE_SERVICE_DEFAULTS.maxAgeSeconds;
    this.unsubscribe = ctx.changes.on((change) => this.invalidate(change));
  }

  /** The response for a tile request: from the cache, or rendered (once per key at a time) and cached. */
  async tile(req: TileRequest): Promise<{ entry: CachedTile; hit: boolean }> {
    if (req.fresh) return { entry: await this.render(req), hit: false };
    const cached = this.cache.get(req.key);
    if (cached) return { entry: cached, hit: true };
    // Identical requests share one render, but not across an invalidation: a request
    // that arrives after an edit must not get a tile begun before it.
    // The render goes on while any of them is still there (SharedWork), not only its first client.
    const pending = sharedIn(this.inFlight, `${this.cache.epoch}|${req.key}`, req.scope, (scope) => this.render({ ...req, scope }));
    return { entry: await pending.wait(req.scope), hit: false };
  }

  private async render(req: TileRequest): Promise<CachedTile> {
    const epoch = this.cache.epoch;
    const { z } = req.tile;
    const parts = await Promise.all(
      req.layers
        .filter((layer) => z >= layer.minzoom && z <= layer.maxzoom)
        .map((layer) => (layer.table ? this.engine : this.computedEngine).renderLayer({ layer, tile: req.tile, filters: req.filters, who: req.who, scope: req.scope })),
    );
    const body = joinLayers(parts);
    const entry = this.entry(req, body);
    this.cache.set(entry, epoch);
    return entry;
  }

  private entry(req: TileRequest, body: Buffer): CachedTile {
    const etag = `"${createHash('sha1').update(body).digest('base64url').slice(0, 27)}"`;
    const cacheControl = `${req.who.canSeeRestricted ? 'private' : 'public'}, max-age=${this.maxAge}`;
    const base = req.baseHeaders ?? {};
    // Vary: a shared cache must not hand a public tile to a caller with an API key (more
    // fields), nor one answered with CORS headers for one origin to another (server/http/cors.ts),
    // nor a compressed tile to a client that did not ask for one.
    const common = { ...base, ETag: etag, 'Cache-Control': cacheControl, Vary: 'Authorization, Origin, Accept-Encoding', 'Content-Security-Policy': TILE_CSP };
    const status = body.length ? 200 : 204;
    // 204 carries no Content-Length or Content-Type (RFC 9110 §8.6).
    const headers: OutgoingHttpHeaders =
      status === 200 ? { ...common, 'Content-Type': MVT_CONTENT_TYPE, 'Content-Length': String(body.length), 'X-Tile-Cache': 'hit' } : { ...common, 'X-Tile-Cache': 'hit' };
    return {
      key: req.key,
      status,
      body,
      etag,
      layers: req.layers.map((l) => l.id),
      tile: req.tile,
      headers,
      notModifiedHeaders: common,
      replayable: base.vary === undefined && base['set-cookie'] === undefined,
    };
  }

  /**
   * Makes the next tiles show `change`: tells the engine and drops the cached
   * tiles of the layer over the old and the new geometry at every zoom. Returns
   * how many cached tiles were dropped. The write path calls this through the
   * ChangeBus; it may also be called directly.
   */
  invalidate(change: FeatureChange): number {
    const layer = getLayer(change.layer);
    if (!layer) return 0;
    this.engine.featureChanged(change);
    this.bounds.delete(layer.id);
    let dropped = 0;
    // Computed layers depending on this one are recomputed as a whole.
    for (const [id, computed] of this.computed.all()) {
      if (!computed.dependsOn.includes(layer.id)) continue;
      this.computedEngine.reloadLayer(id);
      dropped += this.cache.invalidateLayer(id);
    }
    const boxes = changeBoxes(change);
    if (boxes.length === 0) return dropped + this.cache.invalidateLayer(layer.id);
    return dropped + this.cache.invalidate(layer.id, (z) => affectedAreas(layer, boxes, z, this.geometry));
  }

  /** [west, south, east, north] of the live features of `layers`, or null when they are empty. */
  async extent(layers: readonly LayerDef[], scope?: StatementScope): Promise<LonLatBox | null> {
    const boxes = (await Promise.all(layers.map((l) => this.layerExtent(l, scope)))).filter((b): b is LonLatBox => !!b);
    if (boxes.length === 0) return null;
    return [0, 1, 2, 3].map((i) => (i < 2 ? Math.min : Math.max)(...boxes.map((b) => b[i]))) as LonLatBox;
  }

  /** Kept until the layer changes; read once for the requests asking meanwhile (SharedWork), forgotten when that fails. */
  private layerExtent(layer: LayerDef, scope: StatementScope | undefined): Promise<LonLatBox | null> {
    const table = layer.table ?? this.computed.get(layer.id)?.extentTable;
    if (!table) return Promise.resolve(null);
    const sql = (info: Map<string, TableFacts>) =>
      `SELECT ST_XMin(b) AS w, ST_YMin(b) AS s, ST_XMax(b) AS e, ST_YMax(b) AS n
         FROM (SELECT ST_Extent(t.geom) AS b FROM ${ident(table)} t WHERE true${liveRowsPredicate(info.get(table))}) x`;
    const read = (shared: StatementScope | undefined) =>
      this.tableFacts(shared)
        .then((info) => this.db.query<{ w: number | null; s: number; e: number; n: number }>(sql(info), [], { scope: shared }))
        .then(({ rows: [r] }) => (r && r.w !== null ? ([r.w, r.s, r.e, r.n] as LonLatBox) : null));
    return sharedIn(this.bounds, layer.id, scope, read, true).wait(scope);
  }

  async close(): Promise<void> {
    this.unsubscribe();
    this.cache.clear();
    await this.engine.close?.();
    if (this.computedEngine !== this.engine) await this.computedEngine.close();
  }
}

/** World bboxes of the change's geometries (before and after), or of its bbox when it has none. */
export function changeBoxes(change: FeatureChange): WorldBBox[] {
  const boxes = [change.before, change.after].map((g) => geometryWorldBBox(g as Geometry | null | undefined)).filter((b): b is WorldBBox => !!b);
  if (boxes.length === 0 && change.bbox) {
    const [w, s, e, n] = change.bbox;
    boxes.push([lonToWorldX(w), latToWorldY(n), lonToWorldX(e), latToWorldY(s)]);
  }
  return boxes;
}

/**
 * Where tiles of `layer` at zoom `z` can show a feature inside `boxes`: the boxes
 * plus the tile buffer; for clustered point layers the whole grid cell of each
 * point (its cluster may sit anywhere in the cell) plus the buffer.
 */
export function affectedAreas(layer: LayerDef, boxes: WorldBBox[], z: number, geometry: TileGeometryOptions): WorldBBox[] {
  if (z > MAX_ZOOM) return [];
  const buffer = geometry.buffer / geometry.extent / 2 ** z;
  return boxes.map((b) => {
    if (layer.cluster && layer.geometry === 'point') {
      const lo = clusterCellBBox(b[0], b[1], z, layer.cluster);
      const hi = clusterCellBBox(b[2], b[3], z, layer.cluster);
      return expandBBox([lo[0], lo[1], hi[2], hi[3]], buffer);
    }
    return expandBBox(b, buffer);
  });
}

/**
 * The tile: its layers one after another (an MVT is a sequence of layer messages). One layer,
 * the usual request, is its bytes as they came, not a copy of them (tens of kilobytes on a
 * dense tile, on every uncached request).
 */
function joinLayers(parts: readonly Uint8Array[]): Buffer {
  const filled = parts.filter((p) => p.length > 0);
  if (filled.length !== 1) return Buffer.concat(filled);
  const only = filled[0];
  return Buffer.isBuffer(only) ? only : Buffer.from(only.buffer, only.byteOffset, only.byteLength);
}
