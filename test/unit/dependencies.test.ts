/**
 * Dependencies point one way (README, "Layout"): catalog/ at the core imports
 * nothing of the project above it; tiles/ knows no HTTP framework, no server and
 * no analysis; data/ loads through the Db port of the catalogue; the server
 * composes the parts. Read from the import statements, so the rules cannot
 * silently erode.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

interface Rule {
  /** Folder whose files the rule checks. */
  folder: string;
  /** Project folders (or single files) its relative imports may reach. */
  may: readonly string[];
  /** npm packages it must not import. */
  notPackages: readonly string[];
}

const SERVER_PACKAGES = ['express', 'pg', '@electric-sql/pglite', 'helmet', 'compression', 'prom-client', 'pino'];

const RULES: readonly Rule[] = [
  { folder: 'catalog', may: ['catalog'], notPackages: SERVER_PACKAGES },
  { folder: 'tiles', may: ['tiles', 'catalog'], notPackages: ['express', 'pg', '@electric-sql/pglite', 'helmet', 'compression', 'prom-client'] },
  // The generator grades and classes its features with the catalogue's bands and enums,
  // the ones the server grades with, so the two cannot disagree.
  { folder: 'data', may: ['data', 'catalog'], notPackages: SERVER_PACKAGES },
];

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : /\.ts$/.test(e.name) ? [p] : [];
  });
}

/** Every module specifier a file imports or re-exports, static or dynamic. */
function specifiers(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?\bfrom\s+'([^']+)'/gms)) found.push(m[1]);
  for (const m of text.matchAll(/^\s*import\s+'([^']+)'/gm)) found.push(m[1]);
  for (const m of text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) found.push(m[1]);
  return found;
}

/** What breaks `rule` in `file`, as readable lines. */
function violations(rule: Rule, file: string, text: string): string[] {
  const out: string[] = [];
  const rel = path.relative(ROOT, file);
  for (const spec of specifiers(text)) {
    if (spec.startsWith('.')) {
      const target = path.relative(ROOT, path.resolve(path.dirname(file), spec));
      if (!rule.may.some((m) => target === m || target.startsWith(m + path.sep))) out.push(`${rel} imports ${target}`);
    } else {
      const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      if (rule.notPackages.includes(pkg)) out.push(`${rel} imports the package ${pkg}`);
    }
  }
  return out;
}

describe('dependencies point one way', () => {
  for (const rule of RULES) {
    it(`${rule.folder}/ imports only ${rule.may.join(', ')} and packages other than ${rule.notPackages.join(', ')}`, () => {
      const files = sources(path.join(ROOT, rule.folder));
      expect(files.length).toBeGreaterThan(0);
      expect(files.flatMap((f) => violations(rule, f, fs.readFileSync(f, 'utf8')))).toEqual([]);
    });
  }

  it('the reader of imports sees static, type-only, re-exported, side-effect and dynamic imports', () => {
    const text = [
      "import { a } from '../server/x.ts';",
      "import type {\n  B,\n} from '../server/y.ts';",
      "export { c } from '../server/z.ts';",
      "import 'express';",
      "const m = await import('../server/w.ts');",
    ].join('\n');
    expect(specifiers(text)).toEqual(['../server/x.ts', '../server/y.ts', '../server/z.ts', 'express', '../server/w.ts']);
    const tiles = RULES.find((r) => r.folder === 'tiles')!;
    expect(violations(tiles, path.join(ROOT, 'tiles/any.ts'), text)).toHaveLength(5);
  });
});
