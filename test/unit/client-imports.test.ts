/**
 * The client takes the server's response types, and nothing else: every import
 * from server/, tiles/ or data/ in client/src is type-only, so the bundle never
 * carries server code (Vite erases `import type`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const CLIENT = path.resolve(import.meta.dirname, '../../client/src');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : /\.ts$/.test(e.name) ? [p] : [];
  });
}

describe('client imports of server code', () => {
  it('are type-only', () => {
    const offending: string[] = [];
    let typeOnly = 0;
    for (const file of sources(CLIENT)) {
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^\s*(import|export)\s+([^;]*?)\s+from\s+'([^']+)'/gms)) {
        const target = path.resolve(path.dirname(file), m[3]);
        if (target.startsWith(CLIENT + path.sep) || !m[3].startsWith('.')) continue;
        if (/^type\s/.test(m[2])) typeOnly++;
        else offending.push(`${path.relative(CLIENT, file)}: ${m[0].trim()}`);
      }
    }
    expect(offending).toEqual([]);
    expect(typeOnly).toBeGreaterThan(0);
  });
});
