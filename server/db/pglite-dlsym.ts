/**
 * A fix to the symbol lookup of PGlite's dynamic linker, applied to the installed
 * package by `npm install` (the `postinstall` script runs this file).
 *
 * PostgreSQL finds a C function of an extension by name (`dlsym`) the first time a
 * session calls it, and `CREATE EXTENSION postgis` looks up two names for each of its
 * hundreds of `LANGUAGE C` functions. PGlite's WebAssembly build does the lookup in
 * Emscripten's `_dlsym_js`, which works out the symbol's position with
 * `Object.keys(lib.exports).indexOf(name)`: an array of every export of the library
 * (thousands for PostGIS) made and searched on every lookup. That was a third of the
 * CPU of creating the demo database (6.9 of 20 s) and is paid again by every process
 * that opens the database, for each PostGIS function it calls first.
 *
 * The fix keeps each library's positions in a Map made once. A name the Map lacks makes
 * it again: the main module's export list grows as libraries load (names are only ever
 * added, so a known position never changes). An unknown name gives -1, as `indexOf` does.
 *
 * Without the fix (`npm install --ignore-scripts`, or a PGlite whose code no longer has
 * the pattern) the embedded database works the same, only slower; this script says so
 * and leaves the files as they are.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Emscripten's lookup as PGlite ships it, minified or not: `pos=Object.keys(lib.exports).indexOf(name)`. */
const SLOW_LOOKUP = /([\w$]+)=Object\.keys\(([\w$]+)\.exports\)\.indexOf\(([\w$]+)\)/g;
/** Where a library keeps its Map of export positions (a property of Emscripten's DSO record). */
const INDEX = 'onemapSymbolIndex';

/** The expression that replaces `Object.keys(lib.exports).indexOf(name)`. */
function cachedLookup(lib: string, name: string): string {
  const fresh = `(${lib}.${INDEX}=new Map(Object.keys(${lib}.exports).map((k,i)=>[k,i])))`;
  return `(${lib}.${INDEX}?.get(${name})??${fresh}.get(${name})??-1)`;
}

/** `source` with every slow lookup replaced, and how many there were. */
export function patchSource(source: string): { source: string; replaced: number } {
  let replaced = 0;
  const out = source.replace(SLOW_LOOKUP, (_all, position: string, lib: string, name: string) => {
    replaced++;
    return `${position}=${cachedLookup(lib, name)}`;
  });
  return { source: out, replaced };
}

/** The files of the installed PGlite that hold the dynamic linker (its ESM and CommonJS builds). */
export function linkerFiles(distDir: string): string[] {
  return fs
    .readdirSync(distDir)
    .filter((f) => /\.(c?js|mjs)$/.test(f))
    .map((f) => path.join(distDir, f))
    .filter((f) => fs.readFileSync(f, 'utf8').includes('_dlsym_js'));
}

export function pgliteDistDir(): string {
  // The package's CommonJS entry is dist/index.cjs; its exports map hides package.json.
  return path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
}

export interface PatchReport {
  patched: string[];
  alreadyPatched: string[];
  /** Files with the linker but neither the slow lookup nor the fix: PGlite changed. */
  unknown: string[];
}

/** Patches the installed PGlite in place; each file is written whole (temporary name, then renamed). */
export function patchPglite(distDir = pgliteDistDir()): PatchReport {
  const report: PatchReport = { patched: [], alreadyPatched: [], unknown: [] };
  for (const file of linkerFiles(distDir)) {
    const text = fs.readFileSync(file, 'utf8');
    const { source, replaced } = patchSource(text);
    if (replaced > 0) {
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, source);
      fs.renameSync(tmp, file);
      report.patched.push(file);
    } else if (text.includes(`.${INDEX}`)) report.alreadyPatched.push(file);
    else report.unknown.push(file);
  }
  return report;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const report = patchPglite();
    const name = (f: string) => path.basename(f);
    if (report.patched.length) console.log(`PGlite symbol lookup fixed in ${report.patched.map(name).join(', ')}`);
    if (report.unknown.length)
      console.warn(`PGlite's symbol lookup has changed in ${report.unknown.map(name).join(', ')}; left as it is (the embedded database works, with more CPU per first call of a PostGIS function)`);
  } catch (err) {
    // Never fail an install over a speed fix.
    console.warn(`PGlite symbol lookup not fixed: ${(err as Error).message}`);
  }
}
