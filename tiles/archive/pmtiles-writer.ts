import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { zxyToTileId } from 'pmtiles';
import type { ArchiveMetadata, ArchiveWriter, ArchiveTile } from './archive.ts';

/**
 * Writes a PMTiles v3 archive (https://github.com/protomaps/PMTiles/blob/main/spec/v3/spec.md):
 * a 127-byte header, the root directory, JSON metadata, leaf directories and
 * the tile data, ordered by tile id (Hilbert order) so the archive is
 * "clustered". Identical tiles (sea, empty outskirts) are stored once and
 * consecutive ones become one run. Directories and tiles are gzip-compressed,
 * as most readers expect for vector tiles.
 *
 * Tiles are collected in memory and written at `close()`; a district at z0–z16
 * is tens of megabytes, well within that.
 */

const HEADER_BYTES = 127;
/** The header and root directory must fit in the first 16 KiB so a reader fetches both at once. */
const FIRST_FETCH = 16384;
const COMPRESSION_GZIP = 2;
const TILE_TYPE_MVT = 1;

interface Entry {
  tileId: number;
  offset: number;
  length: number;
  runLength: number;
}

export class PmtilesWriter implements ArchiveWriter {
  private readonly tiles: { tileId: number; hash: string }[] = [];
  private readonly contents = new Map<string, Buffer>();

  constructor(private readonly file: string) {}

  add(tile: ArchiveTile): void {
    const data = gzipSync(tile.data);
    const hash = createHash('sha1').update(data).digest('hex');
    if (!this.contents.has(hash)) this.contents.set(hash, data);
    this.tiles.push({ tileId: zxyToTileId(tile.z, tile.x, tile.y), hash });
  }

  async close(meta: ArchiveMetadata): Promise<void> {
    this.tiles.sort((a, b) => a.tileId - b.tileId);
    // Tile data in tile-id order; a content seen before points at its first copy.
    const offsets = new Map<string, { offset: number; length: number }>();
    const chunks: Buffer[] = [];
    let dataLength = 0;
    const entries: Entry[] = [];
    for (const t of this.tiles) {
      let at = offsets.get(t.hash);
      if (!at) {
        const data = this.contents.get(t.hash)!;
        at = { offset: dataLength, length: data.length };
        offsets.set(t.hash, at);
        chunks.push(data);
        dataLength += data.length;
      }
      const last = entries[entries.length - 1];
      if (last && last.offset === at.offset && last.tileId + last.runLength === t.tileId) last.runLength++;
      else entries.push({ tileId: t.tileId, offset: at.offset, length: at.length, runLength: 1 });
    }

    const { root, leaves } = buildDirectories(entries);
    const metadata = gzipSync(Buffer.from(JSON.stringify(meta.json)));
    const rootOffset = HEADER_BYTES;
    const metadataOffset = rootOffset + root.length;
    const leafOffset = metadataOffset + metadata.length;
    const dataOffset = leafOffset + leaves.length;

    const h = Buffer.alloc(HEADER_BYTES);
    h.write('PMTiles', 0, 'ascii');
    h.writeUInt8(3, 7);
    const u64 = (value: number, at: number) => h.writeBigUInt64LE(BigInt(value), at);
    u64(rootOffset, 8);
    u64(root.length, 16);
    u64(metadataOffset, 24);
    u64(metadata.length, 32);
    u64(leafOffset, 40);
    u64(leaves.length, 48);
    u64(dataOffset, 56);
    u64(dataLength, 64);
    u64(this.tiles.length, 72); // addressed tiles
    u64(entries.length, 80); // tile entries
    u64(offsets.size, 88); // distinct tile contents
    h.writeUInt8(1, 96); // clustered
    h.writeUInt8(COMPRESSION_GZIP, 97); // internal compression
    h.writeUInt8(COMPRESSION_GZIP, 98); // tile compression
    h.writeUInt8(TILE_TYPE_MVT, 99);
    h.writeUInt8(meta.minzoom, 100);
    h.writeUInt8(meta.maxzoom, 101);
    const e7 = (deg: number) => Math.round(deg * 1e7);
    h.writeInt32LE(e7(meta.bounds[0]), 102);
    h.writeInt32LE(e7(meta.bounds[1]), 106);
    h.writeInt32LE(e7(meta.bounds[2]), 110);
    h.writeInt32LE(e7(meta.bounds[3]), 114);
    h.writeUInt8(meta.center[2], 118);
    h.writeInt32LE(e7(meta.center[0]), 119);
    h.writeInt32LE(e7(meta.center[1]), 123);

    const tmp = `${this.file}.part`;
    const fd = fs.openSync(tmp, 'w');
    try {
      for (const part of [h, root, metadata, leaves, ...chunks]) fs.writeSync(fd, part);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file); // a reader never sees half an archive
  }
}

/** Root directory alone when it fits the first fetch; otherwise a root of leaf directories. */
function buildDirectories(entries: Entry[]): { root: Buffer; leaves: Buffer } {
  const root = serializeDirectory(entries);
  if (root.length <= FIRST_FETCH - HEADER_BYTES) return { root, leaves: Buffer.alloc(0) };
  for (let leafSize = 4096; ; leafSize *= 2) {
    const leafParts: Buffer[] = [];
    const rootEntries: Entry[] = [];
    let offset = 0;
    for (let i = 0; i < entries.length; i += leafSize) {
      const leaf = serializeDirectory(entries.slice(i, i + leafSize));
      // A root entry with runLength 0 points at a leaf directory.
      rootEntries.push({ tileId: entries[i].tileId, offset, length: leaf.length, runLength: 0 });
      leafParts.push(leaf);
      offset += leaf.length;
    }
    const rootDir = serializeDirectory(rootEntries);
    if (rootDir.length <= FIRST_FETCH - HEADER_BYTES) return { root: rootDir, leaves: Buffer.concat(leafParts) };
  }
}

/** Directory encoding of the spec: counts, then columns of varints (ids as deltas, offsets 0 when contiguous). */
export function serializeDirectory(entries: Entry[]): Buffer {
  const out: number[] = [];
  writeVarint(out, entries.length);
  let lastId = 0;
  for (const e of entries) {
    writeVarint(out, e.tileId - lastId);
    lastId = e.tileId;
  }
  for (const e of entries) writeVarint(out, e.runLength);
  for (const e of entries) writeVarint(out, e.length);
  entries.forEach((e, i) => {
    const prev = entries[i - 1];
    writeVarint(out, i > 0 && e.offset === prev.offset + prev.length ? 0 : e.offset + 1);
  });
  return gzipSync(Buffer.from(out));
}

function writeVarint(out: number[], value: number): void {
  // Tile ids exceed 2^32 from z16 on: divide rather than shift.
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}
