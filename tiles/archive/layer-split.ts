/**
 * The layers of a Mapbox Vector Tile, one by one. A tile is a protobuf message
 * whose only top-level field is `layers` (3, repeated); each layer names itself
 * in its field 1. Concatenated encodings of tiles are one tile with all their
 * layers, so a tile of some of an archive tile's layers is the concatenation of
 * those layer fields — no decoding of features needed.
 */

function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++];
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [value, pos];
    shift += 7;
  }
}

/** Skips one field of wire type `wire` starting at `pos`; returns the position after it. */
function skip(buf: Uint8Array, pos: number, wire: number): number {
  if (wire === 0) return readVarint(buf, pos)[1];
  if (wire === 1) return pos + 8;
  if (wire === 5) return pos + 4;
  if (wire === 2) {
    const [len, p] = readVarint(buf, pos);
    return p + len;
  }
  throw new Error(`unsupported wire type ${wire}`);
}

function layerName(layer: Uint8Array): string | null {
  let pos = 0;
  while (pos < layer.length) {
    const [key, p] = readVarint(layer, pos);
    if (key >>> 3 === 1 && (key & 7) === 2) {
      const [len, start] = readVarint(layer, p);
      return Buffer.from(layer.subarray(start, start + len)).toString('utf8');
    }
    pos = skip(layer, p, key & 7);
  }
  return null;
}

/** Each layer of the tile, as the bytes of a one-layer tile, by layer name. */
export function splitLayers(tile: Uint8Array): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < tile.length) {
    const start = pos;
    const [key, p] = readVarint(tile, pos);
    pos = skip(tile, p, key & 7);
    if (pos > tile.length) throw new Error('truncated tile');
    if (key >>> 3 !== 3 || (key & 7) !== 2) continue;
    const [len, body] = readVarint(tile, p);
    const name = layerName(tile.subarray(body, body + len));
    if (name !== null) out.set(name, Buffer.from(tile.subarray(start, pos)));
  }
  return out;
}

/** A tile of just `ids`, in that order (null when none of them is in the tile). */
export function pickLayers(tile: Uint8Array, ids: readonly string[]): Buffer | null {
  const layers = splitLayers(tile);
  const parts = ids.map((id) => layers.get(id)).filter((b): b is Buffer => !!b);
  return parts.length ? Buffer.concat(parts) : null;
}
