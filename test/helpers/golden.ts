/**
 * Golden files, one rule: `REGEN=1` writes them; otherwise a missing file
 * fails the test (a golden file that a test writes for itself proves nothing).
 * Paths are relative to test/fixtures.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const REGEN = process.env.REGEN === '1';
export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/**
 * The stored bytes of golden file `name`, or undefined after REGEN=1 wrote
 * `fresh()` to it (nothing to compare then). Throws when the file is missing.
 */
export function goldenBytes(name: string, fresh: () => string | Buffer): Buffer | undefined {
  const file = path.join(FIXTURES, name);
  if (REGEN) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, fresh());
    return undefined;
  }
  if (!fs.existsSync(file)) throw new Error(`golden file ${file} is missing: run the test with REGEN=1, check the output by hand, then commit it`);
  return fs.readFileSync(file);
}

/**
 * Compares `actual`, as JSON, with golden file `name` (written with `indent`
 * spaces and a final newline).
 */
export function expectGolden(name: string, actual: unknown, options: { indent?: number } = {}): void {
  const normalised = JSON.parse(JSON.stringify(actual));
  const stored = goldenBytes(name, () => `${JSON.stringify(normalised, null, options.indent ?? 2)}\n`);
  if (stored) expect(normalised).toEqual(JSON.parse(stored.toString('utf8')));
}
