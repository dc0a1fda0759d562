/**
 * The fix to PGlite's symbol lookup (server/db/pglite-dlsym.ts): it gives the positions
 * Emscripten's `Object.keys(lib.exports).indexOf(name)` gives, also after the export list
 * grows; it is applied once; and `npm install` applied it to the installed package.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { linkerFiles, patchPglite, patchSource, pgliteDistDir } from '../../server/db/pglite-dlsym.ts';

/** Emscripten's lookup as PGlite 0.5.8 ships it, minified, reduced to the part the fix changes. */
const MINIFIED =
  'var __dlsym_js=(e,t,r)=>{var a,o,_=LDSO.loadedLibsByHandle[e];if(!_.exports.hasOwnProperty(t))return 0;if(o=Object.keys(_.exports).indexOf(t),a=_.exports[t],typeof a=="function"){r.index=o}return a};';
/** …and as its unminified build has it. */
const READABLE =
  'var __dlsym_js=(handle,symbol,symbolIndex)=>{var result;var newSymIndex;var lib=LDSO.loadedLibsByHandle[handle];newSymIndex=Object.keys(lib.exports).indexOf(symbol);symbolIndex.index=newSymIndex;return lib.exports[symbol]};';

type Dlsym = (handle: number, symbol: string, out: { index?: number }) => unknown;

/** Evaluates a lookup's source against `libs` (Emscripten's loadedLibsByHandle). */
function lookupFrom(source: string, libs: Record<number, { exports: Record<string, unknown> }>): Dlsym {
  return new Function('LDSO', `${source} return __dlsym_js;`)({ loadedLibsByHandle: libs }) as Dlsym;
}

describe('PGlite symbol lookup fix', () => {
  it('replaces the one slow lookup in either build, and a second run changes nothing', () => {
    for (const source of [MINIFIED, READABLE]) {
      const once = patchSource(source);
      expect(once.replaced).toBe(1);
      expect(once.source).not.toMatch(/Object\.keys\([\w$]+\.exports\)\.indexOf/);
      expect(patchSource(once.source)).toEqual({ source: once.source, replaced: 0 });
    }
  });

  it('gives the positions indexOf gives, also for names added after the first lookup, and -1 for unknown names', () => {
    for (const source of [MINIFIED, READABLE]) {
      const exports: Record<string, unknown> = { alpha: () => 1, beta: () => 2, gamma: 3 };
      const slow = lookupFrom(source, { 7: { exports } });
      const fast = lookupFrom(patchSource(source).source, { 7: { exports } });
      const position = (dlsym: Dlsym, name: string) => {
        const out: { index?: number } = {};
        dlsym(7, name, out);
        return out.index;
      };
      for (const name of ['beta', 'alpha', 'beta']) expect(position(fast, name)).toBe(position(slow, name));
      // The main module's exports grow as libraries load.
      exports.delta = () => 4;
      exports.epsilon = () => 5;
      for (const name of ['epsilon', 'alpha', 'delta']) expect(position(fast, name)).toBe(position(slow, name));
      expect(position(fast, 'delta')).toBe(3);
    }
    const out: { index?: number } = {};
    lookupFrom(patchSource(READABLE).source, { 1: { exports: { a: 1 } } })(1, 'missing', out);
    expect(out.index).toBe(-1);
  });

  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'onemap-dlsym-'));
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it('patches a package folder once, and reports a linker it does not recognise instead of touching it', () => {
    fs.writeFileSync(path.join(scratch, 'index.js'), MINIFIED);
    fs.writeFileSync(path.join(scratch, 'index.cjs'), READABLE);
    fs.writeFileSync(path.join(scratch, 'other.js'), 'export const x = Object.keys(a.exports).indexOf(b);'); // no linker here
    const changed = 'var __dlsym_js=(h,s)=>lookup(h,s);';
    fs.writeFileSync(path.join(scratch, 'future.js'), changed);
    const first = patchPglite(scratch);
    expect(first.patched.map((f) => path.basename(f)).sort()).toEqual(['index.cjs', 'index.js']);
    expect(first.unknown.map((f) => path.basename(f))).toEqual(['future.js']);
    expect(fs.readFileSync(path.join(scratch, 'future.js'), 'utf8')).toBe(changed);
    expect(fs.readFileSync(path.join(scratch, 'other.js'), 'utf8')).toContain('Object.keys(a.exports).indexOf(b)');
    const second = patchPglite(scratch);
    expect(second.patched).toEqual([]);
    expect(second.alreadyPatched).toHaveLength(2);
    expect(fs.readdirSync(scratch).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('was applied to the installed PGlite by npm install (postinstall)', () => {
    const files = linkerFiles(pgliteDistDir());
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      expect(text, path.basename(file)).not.toMatch(/Object\.keys\([\w$]+\.exports\)\.indexOf/);
      expect(text, path.basename(file)).toContain('.onemapSymbolIndex');
    }
  });
});
