/**
 * Structural checks of an encoded tile that common decoders skip (they accept a
 * missing version, duplicate layer names, two geometry fields, repeated points…).
 * Reads the protobuf wire format directly against the MVT 2.1 schema and returns
 * every problem found; an empty list means the tile is well formed.
 */

interface Field {
  num: number;
  wire: number;
  /** varint / fixed value */
  value?: number;
  /** length-delimited payload */
  bytes?: Uint8Array;
}

function readVarint(buf: Uint8Array, pos: { i: number }): number {
  let result = 0;
  let mul = 1;
  for (let shift = 0; shift < 64; shift += 7) {
    if (pos.i >= buf.length) throw new Error('truncated varint');
    const b = buf[pos.i++];
    result += (b & 0x7f) * mul;
    mul *= 128;
    if (b < 0x80) return result;
  }
  throw new Error('varint longer than 10 bytes');
}

function readFields(buf: Uint8Array): Field[] {
  const fields: Field[] = [];
  const pos = { i: 0 };
  while (pos.i < buf.length) {
    const tag = readVarint(buf, pos);
    const num = Math.floor(tag / 8);
    const wire = tag & 7;
    if (num === 0) throw new Error('field number 0');
    if (wire === 0) fields.push({ num, wire, value: readVarint(buf, pos) });
    else if (wire === 1) {
      fields.push({ num, wire, bytes: buf.subarray(pos.i, pos.i + 8) });
      pos.i += 8;
    } else if (wire === 5) {
      fields.push({ num, wire, bytes: buf.subarray(pos.i, pos.i + 4) });
      pos.i += 4;
    } else if (wire === 2) {
      const len = readVarint(buf, pos);
      if (pos.i + len > buf.length) throw new Error('length-delimited field runs past the end');
      fields.push({ num, wire, bytes: buf.subarray(pos.i, pos.i + len) });
      pos.i += len;
    } else throw new Error(`unsupported wire type ${wire}`);
    if (pos.i > buf.length) throw new Error('field runs past the end');
  }
  return fields;
}

function packed(bytes: Uint8Array): number[] {
  const out: number[] = [];
  const pos = { i: 0 };
  while (pos.i < bytes.length) out.push(readVarint(bytes, pos));
  return out;
}

const unzigzag = (n: number) => (n % 2 === 0 ? n / 2 : -(n + 1) / 2);

function ringArea(ring: [number, number][]): number {
  let sum = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) sum += (ring[j][0] - ring[i][0]) * (ring[i][1] + ring[j][1]);
  return sum;
}

function checkGeometry(type: number, cmds: number[], where: string, problems: string[]): void {
  let i = 0;
  let x = 0;
  let y = 0;
  const rings: [number, number][][] = [];
  let current: [number, number][] | null = null;
  while (i < cmds.length) {
    const id = cmds[i] & 7;
    const count = cmds[i] >> 3;
    i++;
    if (id === 1 || id === 2) {
      if (count === 0) problems.push(`${where}: ${id === 1 ? 'MoveTo' : 'LineTo'} with count 0`);
      if (i + 2 * count > cmds.length) {
        problems.push(`${where}: command runs past the geometry`);
        return;
      }
      if (id === 1) {
        if (type !== 1 && count !== 1) problems.push(`${where}: MoveTo count ${count} in a line/polygon`);
        current = [];
        rings.push(current);
      } else if (!current) {
        problems.push(`${where}: LineTo before MoveTo`);
        return;
      } else if (type === 1) problems.push(`${where}: LineTo in a point geometry`);
      for (let k = 0; k < count; k++) {
        const dx = unzigzag(cmds[i++]);
        const dy = unzigzag(cmds[i++]);
        if (id === 2 && dx === 0 && dy === 0) problems.push(`${where}: repeated point`);
        x += dx;
        y += dy;
        if (type === 1 && id === 1 && k > 0) rings.push([[x, y]]);
        else current!.push([x, y]);
      }
    } else if (id === 7) {
      if (type !== 3) problems.push(`${where}: ClosePath outside a polygon`);
      if (count !== 1) problems.push(`${where}: ClosePath count ${count}`);
      if (!current) problems.push(`${where}: ClosePath before MoveTo`);
      else current.push([...current[0]] as [number, number]);
      current = null;
    } else {
      problems.push(`${where}: unknown command ${id}`);
      return;
    }
  }
  if (rings.length === 0) problems.push(`${where}: empty geometry`);
  if (type === 1 && cmds.length && (cmds[0] & 7) !== 1) problems.push(`${where}: point geometry must be one MoveTo`);
  if (type === 2) for (const r of rings) if (r.length < 2) problems.push(`${where}: line with fewer than 2 points`);
  if (type === 3) {
    rings.forEach((r, k) => {
      if (r.length < 4) problems.push(`${where}: ring ${k} has fewer than 4 points`);
      else if (ringArea(r) === 0) problems.push(`${where}: ring ${k} has no area`);
    });
    if (rings.length && ringArea(rings[0]) < 0) problems.push(`${where}: first ring is not an exterior ring`);
  }
}

export function lintTile(buf: Uint8Array, expectedExtent = 4096): string[] {
  const problems: string[] = [];
  let layers: Field[];
  try {
    layers = readFields(buf);
  } catch (e) {
    return [`tile: ${(e as Error).message}`];
  }
  const names = new Set<string>();
  for (const lf of layers) {
    if (lf.num !== 3 || lf.wire !== 2) {
      problems.push(`tile: unexpected field ${lf.num}`);
      continue;
    }
    let fields: Field[];
    try {
      fields = readFields(lf.bytes!);
    } catch (e) {
      problems.push(`layer: ${(e as Error).message}`);
      continue;
    }
    const count = (n: number) => fields.filter((f) => f.num === n).length;
    const nameField = fields.find((f) => f.num === 1);
    const name = nameField?.bytes ? new TextDecoder().decode(nameField.bytes) : '';
    const L = `layer ${name || '(unnamed)'}`;
    if (count(15) !== 1) problems.push(`${L}: ${count(15)} version fields`);
    const version = fields.find((f) => f.num === 15)?.value;
    if (version !== 2) problems.push(`${L}: version ${version}, expected 2`);
    if (count(1) !== 1 || !name) problems.push(`${L}: needs exactly one non-empty name`);
    if (names.has(name)) problems.push(`${L}: duplicate layer name`);
    names.add(name);
    if (count(5) > 1) problems.push(`${L}: ${count(5)} extent fields`);
    const extent = fields.find((f) => f.num === 5)?.value ?? 4096;
    if (extent !== expectedExtent) problems.push(`${L}: extent ${extent}`);
    const keys = fields.filter((f) => f.num === 3).map((f) => new TextDecoder().decode(f.bytes));
    if (new Set(keys).size !== keys.length) problems.push(`${L}: duplicate keys in the key table`);
    const values = fields.filter((f) => f.num === 4);
    values.forEach((v, k) => {
      const vf = readFields(v.bytes!);
      if (vf.length !== 1 || vf[0].num < 1 || vf[0].num > 7) problems.push(`${L}: value ${k} must hold exactly one of the 7 value fields`);
    });
    const features = fields.filter((f) => f.num === 2);
    if (features.length === 0) problems.push(`${L}: no features`);
    features.forEach((ff, k) => {
      const F = `${L} feature ${k}`;
      const f = readFields(ff.bytes!);
      const c = (n: number) => f.filter((x) => x.num === n).length;
      if (c(1) > 1) problems.push(`${F}: ${c(1)} id fields`);
      if (c(2) > 1) problems.push(`${F}: ${c(2)} tags fields`);
      if (c(3) !== 1) problems.push(`${F}: ${c(3)} type fields`);
      if (c(4) !== 1) problems.push(`${F}: ${c(4)} geometry fields`);
      const tags = f.find((x) => x.num === 2);
      if (tags) {
        const t = packed(tags.bytes!);
        if (t.length % 2) problems.push(`${F}: odd number of tags`);
        const seen = new Set<number>();
        for (let j = 0; j + 1 < t.length; j += 2) {
          if (t[j] >= keys.length) problems.push(`${F}: key index ${t[j]} out of range`);
          if (t[j + 1] >= values.length) problems.push(`${F}: value index ${t[j + 1]} out of range`);
          if (seen.has(t[j])) problems.push(`${F}: key ${keys[t[j]]} twice`);
          seen.add(t[j]);
        }
      }
      const type = f.find((x) => x.num === 3)?.value ?? 0;
      if (type < 1 || type > 3) problems.push(`${F}: geometry type ${type}`);
      const geom = f.find((x) => x.num === 4);
      if (geom && type >= 1 && type <= 3) checkGeometry(type, packed(geom.bytes!), F, problems);
    });
  }
  return problems;
}
