/**
 * PostGIS for the embedded database, trimmed to the one extension one map creates.
 *
 * PGlite loads an extension from a gzipped tar on every open: it inflates the whole
 * bundle, writes every file of it into its in-memory file system and compiles every
 * WebAssembly library in it. The PostGIS bundle of @electric-sql/pglite-postgis is
 * 95 MB unpacked: the libraries of postgis, postgis_raster and postgis_topology
 * (15–17 MB of WebAssembly each), the scripts of those and of the tiger geocoder, and
 * install scripts for a server without extensions. One map creates only `postgis`
 * (migrations, openEmbedded), so it opens PGlite with a copy that holds that
 * extension's library, control file and SQL scripts, and PROJ's data (ST_Transform):
 * less than half of the bundle, stored uncompressed (gzip level 0) so inflating it is a copy.
 *
 * The copy is made on first use (a second or two) and kept in node_modules/.cache/onemap/
 * (or the system's temporary directory when node_modules cannot be written), named after
 * the package version, so a new PostGIS package makes a new copy; it is never committed.
 * It is written under a temporary name and renamed, so processes opening at the same time
 * never read half a file. If the copy cannot be made, the full bundle is used.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Extension } from '@electric-sql/pglite';
import { postgis } from '@electric-sql/pglite-postgis';

/** Bumped when keepEntry changes, so a copy made by another rule is not reused. */
const TRIM_RULES = 2;

/** The files of the bundle one map needs: the postgis extension itself and PROJ's data. */
export function keepEntry(name: string): boolean {
  const n = name.replace(/^\.\//, '');
  return (
    n === 'lib/postgresql/postgis-3.so' ||
    // (not the scripts for `FROM unpackaged`, which PostgreSQL 13 and later no longer run)
    (/^share\/postgresql\/extension\/postgis(\.control|--[^/]*\.sql)$/.test(n) && !n.includes('unpackaged')) ||
    n.startsWith('share/proj/') ||
    // Directories, so the ones holding kept files exist (PGlite also makes them itself).
    /^(lib|lib\/postgresql|share|share\/postgresql|share\/postgresql\/extension)\/?$/.test(n)
  );
}

const BLOCK = 512;
const gunzip = promisify(zlib.gunzip);
const gzip = promisify(zlib.gzip);

function field(header: Buffer, offset: number, length: number): string {
  const raw = header.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? length : end).toString('utf8');
}

function entrySize(header: Buffer): number {
  // Sizes over 8 GB use a base-256 form; nothing in the bundle comes close.
  if (header[124] & 0x80) throw new Error('tar entry too large');
  return parseInt(field(header, 124, 12).trim() || '0', 8);
}

/**
 * Keeps the entries of a tar archive whose name `keep` accepts, byte for byte (headers
 * and data unchanged, in the same order), and ends the result with the two empty blocks
 * of a tar. A GNU long-name or pax header travels with the entry it describes.
 */
export function filterTar(tar: Buffer, keep: (name: string) => boolean): Buffer {
  const kept: Buffer[] = [];
  let pending: Buffer[] = [];
  let longName: string | null = null;
  let offset = 0;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) break;
    const size = entrySize(header);
    const end = offset + BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (end > tar.length) throw new Error('tar archive ends inside an entry');
    const whole = tar.subarray(offset, end);
    const data = tar.subarray(offset + BLOCK, offset + BLOCK + size);
    const type = String.fromCharCode(header[156]);
    offset = end;
    if (type === 'L') {
      longName = field(data, 0, data.length);
      pending.push(whole);
      continue;
    }
    if (type === 'x') {
      const pathRecord = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
      if (pathRecord) longName = pathRecord[1];
      pending.push(whole);
      continue;
    }
    if (type === 'g') {
      kept.push(whole); // global pax header: applies to everything after it
      continue;
    }
    const prefix = field(header, 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    if (keep(name)) kept.push(...pending, whole);
    pending = [];
    longName = null;
  }
  kept.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(kept);
}

const require = createRequire(import.meta.url);

/** The bundle shipped with the package, and the package's version. */
function packagedBundle(): { file: string; version: string } {
  const entry = require.resolve('@electric-sql/pglite-postgis');
  let dir = path.dirname(entry);
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  const { version } = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string };
  return { file: fileURLToPath(new URL('./postgis.tar.gz', pathToFileURL(entry))), version };
}

/** node_modules/.cache/onemap beside the package, else a directory in the system's temporary one. */
function cacheDirs(packageFile: string): string[] {
  const marker = `${path.sep}node_modules${path.sep}`;
  const at = packageFile.lastIndexOf(marker);
  const dirs = at >= 0 ? [path.join(packageFile.slice(0, at + marker.length), '.cache', 'onemap')] : [];
  return [...dirs, path.join(os.tmpdir(), `onemap-cache-${os.userInfo().uid}`)];
}

let made: Promise<string | null> | undefined;

/**
 * The trimmed bundle's path, made when missing; null when it cannot be made (then the
 * packaged bundle serves). `cacheDir` is for tests.
 */
export function trimmedBundle(cacheDir?: string): Promise<string | null> {
  if (cacheDir) return makeTrimmed([cacheDir]);
  made ??= makeTrimmed();
  return made;
}

async function makeTrimmed(dirs?: string[]): Promise<string | null> {
  const { file, version } = packagedBundle();
  const name = `postgis-${version}-r${TRIM_RULES}.tar.gz`;
  for (const dir of dirs ?? cacheDirs(file)) {
    const target = path.join(dir, name);
    if (fs.existsSync(target)) return target;
    try {
      await fs.promises.mkdir(dir, { recursive: true });
      const trimmed = filterTar(await gunzip(await fs.promises.readFile(file)), keepEntry);
      const temp = `${target}.${process.pid}.${Date.now().toString(36)}.tmp`;
      await fs.promises.writeFile(temp, await gzip(trimmed, { level: 0 }));
      await fs.promises.rename(temp, target);
      return target;
    } catch {
      // Not writable (or the package is not laid out as expected): try the next place.
    }
  }
  return null;
}

/** The postgis extension for PGlite, loading the trimmed bundle when there is one. */
export async function postgisExtension(): Promise<Extension> {
  let bundle = await trimmedBundle();
  if (bundle && !fs.existsSync(bundle)) {
    made = undefined; // the cache was cleared while this process ran
    bundle = await trimmedBundle();
  }
  if (!bundle) return postgis;
  return {
    name: postgis.name,
    async setup(pg, emscriptenOpts) {
      const setup = await postgis.setup(pg, emscriptenOpts);
      return { ...setup, bundlePath: pathToFileURL(bundle) };
    },
  };
}
