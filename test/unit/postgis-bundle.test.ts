/**
 * The trimmed PostGIS bundle (server/db/postgis-bundle.ts): the tar filter keeps the
 * chosen entries byte for byte, and the cached copy holds the postgis extension and
 * PROJ's data, none of raster, topology or the tiger geocoder, and is made once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { filterTar, keepEntry, trimmedBundle } from '../../server/db/postgis-bundle.ts';

/** A ustar entry: header with checksum, then the data padded to 512 bytes. */
function entry(name: string, data: string | Buffer, type = '0'): Buffer {
  const body = Buffer.isBuffer(data) ? data : Buffer.from(data);
  const header = Buffer.alloc(512);
  header.write(name.slice(0, 100), 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(body.length.toString(8).padStart(11, '0') + '\0', 124);
  header.write('00000000000\0', 136);
  header.write(type, 156);
  header.write('ustar\x0000', 257);
  header.fill(' ', 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return Buffer.concat([header, body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}

/** Names and contents of a tar's regular entries, read back. */
function list(tar: Buffer): [string, string][] {
  const out: [string, string][] = [];
  let longName: string | null = null;
  for (let at = 0; at + 512 <= tar.length; ) {
    const h = tar.subarray(at, at + 512);
    if (h.every((b) => b === 0)) break;
    const size = parseInt(h.subarray(124, 136).toString().replace(/\0.*$/, '').trim(), 8);
    const data = tar.subarray(at + 512, at + 512 + size).toString();
    const type = String.fromCharCode(h[156]);
    at += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = data.replace(/\0.*$/, '');
      continue;
    }
    out.push([longName ?? h.subarray(0, 100).toString().replace(/\0.*$/, ''), data]);
    longName = null;
  }
  return out;
}

describe('filterTar', () => {
  const longName = `share/proj/${'x'.repeat(120)}`;
  const tar = Buffer.concat([
    entry('lib/postgresql/postgis-3.so', 'wasm'),
    entry('lib/postgresql/postgis_raster-3.so', 'r'.repeat(700)),
    entry('././@LongLink', `${longName}\0`, 'L'),
    entry(longName.slice(0, 100), 'long'),
    entry('././@LongLink', `share/postgresql/extension/postgis_topology--${'y'.repeat(100)}.sql\0`, 'L'),
    entry('share/postgresql/extension/postgis_topology--yyyy', 'topology'),
    entry('share/postgresql/extension/postgis--3.6.2.sql', 'CREATE FUNCTION …'),
    Buffer.alloc(1024),
  ]);

  it('keeps the accepted entries byte for byte, with the long name of each', () => {
    const kept = filterTar(tar, keepEntry);
    expect(list(kept)).toEqual([
      ['lib/postgresql/postgis-3.so', 'wasm'],
      [longName, 'long'],
      ['share/postgresql/extension/postgis--3.6.2.sql', 'CREATE FUNCTION …'],
    ]);
    expect(kept.subarray(0, 1024)).toEqual(tar.subarray(0, 1024));
    expect(kept.subarray(-1024)).toEqual(Buffer.alloc(1024));
    expect(kept.length % 512).toBe(0);
  });

  it('refuses an archive cut inside an entry', () => {
    expect(() => filterTar(tar.subarray(0, 1024 + 512), () => true)).toThrow(/ends inside an entry/);
  });
});

describe('keepEntry', () => {
  it('keeps the postgis extension and PROJ, not raster, topology, the geocoder or contrib', () => {
    for (const name of ['lib/postgresql/postgis-3.so', 'share/postgresql/extension/postgis.control', 'share/postgresql/extension/postgis--3.6.2.sql', 'share/postgresql/extension/postgis--3.5.1--ANY.sql', 'share/proj/proj.db'])
      expect(keepEntry(name), name).toBe(true);
    for (const name of [
      'lib/postgresql/postgis_raster-3.so',
      'lib/postgresql/postgis_topology-3.so',
      'share/postgresql/extension/postgis_raster.control',
      'share/postgresql/extension/postgis_topology--3.6.2.sql',
      'share/postgresql/extension/postgis_tiger_geocoder--3.6.2.sql',
      'share/postgresql/contrib/postgis-3.6/postgis.sql',
      'share/postgresql/extension/postgis--unpackaged--3.6.2.sql',
    ])
      expect(keepEntry(name), name).toBe(false);
  });
});

describe('the cached bundle', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onemap-bundle-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is made once, named after the package version, and holds postgis and PROJ only', { timeout: 60_000 }, async () => {
    const file = await trimmedBundle(dir);
    expect(file).not.toBeNull();
    expect(path.basename(file!)).toMatch(/^postgis-\d+\.\d+\.\d+[^/]*-r\d+\.tar\.gz$/);
    const names = list(zlib.gunzipSync(fs.readFileSync(file!))).map(([n]) => n);
    expect(names).toContain('lib/postgresql/postgis-3.so');
    expect(names).toContain('share/postgresql/extension/postgis.control');
    expect(names).toContain('share/proj/proj.db');
    expect(names.filter((n) => n.endsWith('.so'))).toEqual(['lib/postgresql/postgis-3.so']);
    expect(names.filter((n) => /raster|topology|tiger|contrib/.test(n))).toEqual([]);
    expect(fs.readdirSync(dir)).toEqual([path.basename(file!)]); // no temporary file left

    const made = fs.statSync(file!).mtimeMs;
    expect(await trimmedBundle(dir)).toBe(file);
    expect(fs.statSync(file!).mtimeMs).toBe(made);
  });
});
