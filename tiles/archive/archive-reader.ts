import fs from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { PMTiles, type RangeResponse, type Source } from 'pmtiles';
import initSqlJs from 'sql.js';
import { formatOfFile, type ArchiveFormat, type ArchiveJson } from './archive.ts';

/**
 * Reads tiles back from an archive written by the exporter (or any PMTiles v3 /
 * MBTiles file of vector tiles): the server's fallback when the database is
 * unreachable, and the check in tests that an archive holds what was rendered.
 */
export interface TileArchive {
  file: string;
  format: ArchiveFormat;
  minzoom: number;
  maxzoom: number;
  bounds: [number, number, number, number];
  json: Partial<ArchiveJson>;
  /** The uncompressed MVT of a tile, or null when the archive has none (an empty tile). */
  getTile(z: number, x: number, y: number): Promise<Buffer | null>;
  close(): Promise<void>;
}

export async function openArchive(file: string): Promise<TileArchive> {
  const format = formatOfFile(file);
  if (!format) throw new Error(`${file}: not a .pmtiles or .mbtiles file`);
  if (!fs.existsSync(file)) throw new Error(`${file}: no such file`);
  return format === 'pmtiles' ? openPmtiles(file) : openMbtiles(file);
}

/** A PMTiles byte source on a local file (the library's own sources are for browsers). */
class FileRangeSource implements Source {
  constructor(
    private readonly file: string,
    private readonly fd: fs.promises.FileHandle,
  ) {}

  getKey(): string {
    return this.file;
  }

  async getBytes(offset: number, length: number): Promise<RangeResponse> {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await this.fd.read(buf, 0, length, offset);
    const data = buf.buffer.slice(buf.byteOffset, buf.byteOffset + bytesRead) as ArrayBuffer;
    return { data };
  }
}

async function openPmtiles(file: string): Promise<TileArchive> {
  const fd = await fs.promises.open(file, 'r');
  try {
    const pm = new PMTiles(new FileRangeSource(file, fd));
    const header = await pm.getHeader();
    const json = ((await pm.getMetadata()) ?? {}) as Partial<ArchiveJson>;
    return {
      file,
      format: 'pmtiles',
      minzoom: header.minZoom,
      maxzoom: header.maxZoom,
      bounds: [header.minLon, header.minLat, header.maxLon, header.maxLat],
      json,
      async getTile(z, x, y) {
        if (z < header.minZoom || z > header.maxZoom) return null;
        const tile = await pm.getZxy(z, x, y);
        return tile ? Buffer.from(tile.data) : null;
      },
      close: () => fd.close(),
    };
  } catch (err) {
    await fd.close();
    throw new Error(`${file}: not a readable PMTiles archive (${(err as Error).message})`);
  }
}

async function openMbtiles(file: string): Promise<TileArchive> {
  const SQL = await initSqlJs();
  // sql.js works on an in-memory copy: archives for walls are tens of megabytes.
  const db = new SQL.Database(fs.readFileSync(file));
  const meta = new Map<string, string>();
  try {
    const rows = db.exec('SELECT name, value FROM metadata')[0]?.values ?? [];
    for (const [name, value] of rows) meta.set(String(name), String(value));
  } catch (err) {
    db.close();
    throw new Error(`${file}: not a readable MBTiles archive (${(err as Error).message})`);
  }
  const bounds = (meta.get('bounds') ?? '-180,-85.0511,180,85.0511').split(',').map(Number) as [number, number, number, number];
  let extra: Partial<ArchiveJson> = {};
  try {
    extra = JSON.parse(meta.get('json') ?? '{}');
  } catch {
    // A foreign archive's malformed json: the tiles are still usable.
  }
  const stmt = db.prepare('SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?');
  return {
    file,
    format: 'mbtiles',
    minzoom: Number(meta.get('minzoom') ?? 0),
    maxzoom: Number(meta.get('maxzoom') ?? 22),
    bounds,
    json: { name: meta.get('name'), description: meta.get('description'), attribution: meta.get('attribution'), ...extra },
    async getTile(z, x, y) {
      stmt.bind([z, x, 2 ** z - 1 - y]);
      try {
        if (!stmt.step()) return null;
        const data = Buffer.from(stmt.get()[0] as Uint8Array);
        // Tiles in MBTiles are usually gzip-compressed; accept plain ones too.
        return data[0] === 0x1f && data[1] === 0x8b ? gunzipSync(data) : data;
      } finally {
        stmt.reset();
      }
    },
    async close() {
      stmt.free();
      db.close();
    },
  };
}
