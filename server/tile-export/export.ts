import type { Db } from '../db/types.ts';
import type { Logger } from '../log.ts';
import { ChangeBus } from '../changes.ts';
import { TileService } from '../../tiles/service.ts';
import { type LayerDef } from '../../catalog/layers.ts';
import { ANONYMOUS } from '../../catalog/access.ts';
import type { ComputedSources } from '../../catalog/computed-sources.ts';
import { tileJson } from '../../tiles/tilejson.ts';
import { latToWorldY, lonToWorldX, tileRange, type TileCoord } from '../../tiles/tile-coords.ts';
import type { ArchiveFormat, ArchiveJson, ArchiveWriter } from '../../tiles/archive/archive.ts';
import { PmtilesWriter } from '../../tiles/archive/pmtiles-writer.ts';
import { MbtilesWriter } from '../../tiles/archive/mbtiles-writer.ts';

/**
 * Pre-renders the tiles of an area into a PMTiles or MBTiles archive with the
 * same engine and the same clustering as the live server, so an archive tile is
 * byte for byte what `/tiles/{layers}/{z}/{x}/{y}.mvt` answered when it was made.
 * Only what an anonymous caller may see is exported: an archive is a file that
 * travels to walls and other servers.
 */
export interface ExportOptions {
  db: Db;
  log: Logger;
  layers: readonly LayerDef[];
  /** The computed layers (needed when `layers` names one). */
  computed?: ComputedSources;
  /** [west, south, east, north] in degrees. */
  bbox: [number, number, number, number];
  minzoom: number;
  maxzoom: number;
  format: ArchiveFormat;
  out: string;
  /** Tiles rendered at once (the database's pool size is a sensible bound). */
  concurrency?: number;
  onProgress?: (p: ExportProgress) => void;
}

export interface ExportProgress {
  done: number;
  total: number;
  stored: number;
  /** Seconds since the start. */
  elapsed: number;
}

export interface ExportResult {
  tiles: number;
  stored: number;
  bytes: number;
  seconds: number;
}

/** Every tile of zooms minzoom..maxzoom that touches the box, zoom by zoom. */
function* zoomRanges(bbox: [number, number, number, number], minzoom: number, maxzoom: number) {
  const world: [number, number, number, number] = [lonToWorldX(bbox[0]), latToWorldY(bbox[3]), lonToWorldX(bbox[2]), latToWorldY(bbox[1])];
  for (let z = minzoom; z <= maxzoom; z++) yield { z, ...tileRange(world, z) };
}

export function* tilesOfArea(bbox: [number, number, number, number], minzoom: number, maxzoom: number): Generator<TileCoord> {
  for (const { z, x0, y0, x1, y1 } of zoomRanges(bbox, minzoom, maxzoom)) {
    for (let x = x0; x <= x1; x++) for (let y = y0; y <= y1; y++) yield { z, x, y };
  }
}

export function countTiles(bbox: [number, number, number, number], minzoom: number, maxzoom: number): number {
  let n = 0;
  for (const { x0, y0, x1, y1 } of zoomRanges(bbox, minzoom, maxzoom)) n += (x1 - x0 + 1) * (y1 - y0 + 1);
  return n;
}

/** Renders one tile: the MVT bytes, or null for an empty tile. */
export type RenderTile = (tile: TileCoord) => Promise<Uint8Array | null>;

export interface WriteArchiveOptions extends Omit<ExportOptions, 'db' | 'log'> {
  render: RenderTile;
  /** TileJSON `vector_layers` of the layers, as the server describes them. */
  vectorLayers: ArchiveJson['vector_layers'];
  name: string;
  description: string;
  attribution: string;
}

/** Renders every tile of the area, `concurrency` at a time, into the archive. */
export async function writeArchive(o: WriteArchiveOptions): Promise<ExportResult> {
  const started = Date.now();
  const writer: ArchiveWriter = o.format === 'pmtiles' ? new PmtilesWriter(o.out) : new MbtilesWriter(o.out);
  const total = countTiles(o.bbox, o.minzoom, o.maxzoom);
  let done = 0;
  let stored = 0;
  let bytes = 0;
  const queue = tilesOfArea(o.bbox, o.minzoom, o.maxzoom);
  const worker = async () => {
    for (let next = queue.next(); !next.done; next = queue.next()) {
      const tile = next.value;
      const data = await o.render(tile);
      // An empty tile is left out: readers treat a missing tile as empty.
      if (data && data.length > 0) {
        writer.add({ ...tile, data });
        stored++;
        bytes += data.length;
      }
      done++;
      o.onProgress?.({ done, total, stored, elapsed: (Date.now() - started) / 1000 });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 4) }, worker));
  const [w, s, e, n] = o.bbox;
  await writer.close({
    minzoom: o.minzoom,
    maxzoom: o.maxzoom,
    bounds: o.bbox,
    center: [(w + e) / 2, (s + n) / 2, Math.min(o.maxzoom, Math.max(o.minzoom, 12))],
    json: {
      name: o.name,
      description: o.description,
      attribution: o.attribution,
      exported_at: new Date(started).toISOString(),
      layers: o.layers.map((l) => l.id),
      vector_layers: o.vectorLayers.map((v) => ({ ...v, minzoom: Math.max(v.minzoom, o.minzoom), maxzoom: Math.min(v.maxzoom, o.maxzoom) })),
      generator: 'onemap export',
    },
  });
  return { tiles: total, stored, bytes, seconds: (Date.now() - started) / 1000 };
}

/** Exports from the database with the server's own tile service (no cache). */
export async function exportArchive(o: ExportOptions): Promise<ExportResult> {
  const service = new TileService({ db: o.db, changes: new ChangeBus(), log: o.log, computed: o.computed }, { cacheBytes: 0 });
  const ids = o.layers.map((l) => l.id).join(',');
  const tj = tileJson({ layers: o.layers, who: ANONYMOUS, base: 'http://localhost', query: '', bounds: o.bbox });
  try {
    return await writeArchive({
      ...o,
      name: tj.name,
      description: tj.description,
      attribution: tj.attribution,
      vectorLayers: tj.vector_layers,
      render: async (tile) => {
        const { entry } = await service.tile({ layers: o.layers, tile, filters: {}, who: ANONYMOUS, key: `export:${ids}/${tile.z}/${tile.x}/${tile.y}` });
        return entry.status === 200 ? entry.body : null;
      },
    });
  } finally {
    await service.close();
  }
}

/** [west, south, east, north] of the districts' outlines. */
export async function districtBBox(db: Db, ids: readonly string[]): Promise<[number, number, number, number]> {
  const { rows } = await db.query<{ w: number; s: number; e: number; n: number }>(
    'SELECT ST_XMin(b) AS w, ST_YMin(b) AS s, ST_XMax(b) AS e, ST_YMax(b) AS n FROM (SELECT ST_Extent(geom) AS b FROM districts WHERE id = ANY($1)) x',
    [ids],
  );
  const r = rows[0];
  return [Number(r.w), Number(r.s), Number(r.e), Number(r.n)];
}
