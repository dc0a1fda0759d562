/**
 * Tile archives: pre-rendered tiles in one file, for wall displays that must
 * keep a map when the server, the database or the network is down, and for
 * other tile servers (tileserver-gl, GDAL, any PMTiles reader).
 */

export type ArchiveFormat = 'pmtiles' | 'mbtiles';
export const ARCHIVE_FORMATS: readonly ArchiveFormat[] = ['pmtiles', 'mbtiles'];

export interface ArchiveTile {
  z: number;
  x: number;
  y: number;
  /** An uncompressed Mapbox Vector Tile. */
  data: Uint8Array;
}

/** What a reader needs to present the archive: TileJSON-like facts. */
export interface ArchiveMetadata {
  minzoom: number;
  maxzoom: number;
  /** [west, south, east, north] in degrees. */
  bounds: [number, number, number, number];
  /** [lon, lat, zoom]. */
  center: [number, number, number];
  /** Stored as the archive's JSON metadata: name, vector_layers, generator, exported_at, … */
  json: ArchiveJson;
}

export interface ArchiveJson {
  name: string;
  description: string;
  attribution: string;
  /** ISO time the tiles were rendered: walls show "offline copy of <date>". */
  exported_at: string;
  /** Registry layer ids the archive holds (one MVT layer each). */
  layers: string[];
  vector_layers: { id: string; description?: string; minzoom: number; maxzoom: number; fields: Record<string, string> }[];
  [key: string]: unknown;
}

export interface ArchiveWriter {
  add(tile: ArchiveTile): void;
  close(meta: ArchiveMetadata): Promise<void>;
}

export function formatOfFile(file: string): ArchiveFormat | null {
  if (/\.pmtiles$/i.test(file)) return 'pmtiles';
  if (/\.mbtiles$/i.test(file)) return 'mbtiles';
  return null;
}
