import fs from 'node:fs';
import { gzipSync } from 'node:zlib';
import initSqlJs from 'sql.js';
import type { ArchiveMetadata, ArchiveTile, ArchiveWriter } from './archive.ts';

/**
 * Writes an MBTiles 1.3 archive (https://github.com/mapbox/mbtiles-spec/blob/master/1.3/spec.md)
 * with SQLite compiled to WebAssembly (sql.js), so no native module is needed.
 * Vector tiles are gzip-compressed (`format = pbf`) and rows use the TMS scheme
 * (y counted from the south), as the spec requires; `json` carries
 * `vector_layers`, which GDAL's MVT driver needs to know the layers.
 */
export class MbtilesWriter implements ArchiveWriter {
  private readonly tiles: ArchiveTile[] = [];

  constructor(private readonly file: string) {}

  add(tile: ArchiveTile): void {
    this.tiles.push({ ...tile, data: gzipSync(tile.data) });
  }

  async close(meta: ArchiveMetadata): Promise<void> {
    const SQL = await initSqlJs();
    const db = new SQL.Database();
    try {
      db.run('CREATE TABLE metadata (name text, value text)');
      db.run('CREATE UNIQUE INDEX name ON metadata (name)');
      db.run('CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, tile_data blob)');
      db.run('CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)');
      const { vector_layers, name, description, attribution, ...rest } = meta.json;
      const rows: [string, string][] = [
        ['name', name],
        ['format', 'pbf'],
        ['type', 'overlay'],
        ['version', '1'],
        ['description', description],
        ['attribution', attribution],
        ['minzoom', String(meta.minzoom)],
        ['maxzoom', String(meta.maxzoom)],
        ['bounds', meta.bounds.join(',')],
        ['center', meta.center.join(',')],
        ['json', JSON.stringify({ vector_layers, ...rest })],
      ];
      db.run('BEGIN');
      const putMeta = db.prepare('INSERT INTO metadata (name, value) VALUES (?, ?)');
      for (const r of rows) putMeta.run(r);
      putMeta.free();
      const putTile = db.prepare('INSERT INTO tiles (zoom_level, tile_column, tile_row, tile_data) VALUES (?, ?, ?, ?)');
      for (const t of this.tiles) putTile.run([t.z, t.x, 2 ** t.z - 1 - t.y, t.data]);
      putTile.free();
      db.run('COMMIT');
      const tmp = `${this.file}.part`;
      fs.writeFileSync(tmp, db.export());
      fs.renameSync(tmp, this.file);
    } finally {
      db.close();
    }
  }
}
