import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureServerBuilt, serverIsStale } from '../../server/build.ts';

// The bundle `npm start` and the tests' server processes run (server/build.ts): built when it
// is missing or older than what it was built from, and not otherwise. Built here into a folder
// of its own beside server/dist/, so the real bundle other test files use is left alone.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const outDir = path.join(ROOT, 'server', `.dist-test-${process.pid}`);

afterAll(() => fs.rmSync(outDir, { recursive: true, force: true }));

describe('server bundle', { timeout: 60_000 }, () => {
  it('is built once, then only when a bundle is missing or older than its inputs', async () => {
    expect(serverIsStale(outDir)).toBe(true);
    expect(await ensureServerBuilt({ outDir })).toEqual({ built: true });
    for (const f of ['main.mjs', 'worker.mjs', 'bootstrap.mjs', 'main.mjs.map']) expect(fs.existsSync(path.join(outDir, f))).toBe(true);
    // The inputs are the project's own files, relative to the root; packages are not bundled.
    const inputs = JSON.parse(fs.readFileSync(path.join(outDir, 'inputs.json'), 'utf8')) as string[];
    expect(inputs).toEqual(expect.arrayContaining(['server/main.ts', 'server/work/worker.ts', 'catalog/layers.ts']));
    expect(inputs.filter((f) => f.includes('node_modules'))).toEqual([]);
    expect(fs.readFileSync(path.join(outDir, 'main.mjs'), 'utf8')).toMatch(/^import .* from "express";$/m);

    expect(serverIsStale(outDir)).toBe(false);
    expect(await ensureServerBuilt({ outDir })).toEqual({ built: false });

    // A source newer than the bundle: seen through the bundle's time, so no source is touched.
    fs.utimesSync(path.join(outDir, 'worker.mjs'), new Date(0), new Date(0));
    expect(serverIsStale(outDir)).toBe(true);
    expect(await ensureServerBuilt({ outDir })).toEqual({ built: true });
    expect(serverIsStale(outDir)).toBe(false);

    // Without the list of inputs the bundle cannot be trusted.
    fs.rmSync(path.join(outDir, 'inputs.json'));
    expect(serverIsStale(outDir)).toBe(true);
    fs.rmSync(path.join(outDir, 'main.mjs'));
    expect(serverIsStale(outDir)).toBe(true);
  });
});
