import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, copyTestDb } from '../setup/db.ts';
import { openArchive } from '../../tiles/archive/archive-reader.ts';
import { runCli } from '../helpers/server-process.ts';

// `npm run export` end to end: a clear exit 2 naming the option for bad
// arguments, and an archive with a progress line for good ones.
let env: Record<string, string>;
let dir: string;

beforeAll(async () => {
  ({ env } = await copyTestDb());
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onemap-export-out-'));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const run = (args: string[]) => runCli('server/tile-export/cli.ts', args, { LOG_LEVEL: 'error', ...env });

describe('npm run export', { timeout: 120_000 }, () => {
  it.each([
    [['--out', 'x.pmtiles'], /--district: give exactly one of --district or --bbox/],
    [['--district', 'huadu', '--out', 'x.zip'], /--out: name the file \.pmtiles or \.mbtiles/],
    [['--district', 'huadu', '--minzoom', '9', '--maxzoom', '3', '--out', 'x.pmtiles'], /--minzoom: must not exceed --maxzoom/],
    [['--district', 'huadu', '--layers', 'hazard_sources', '--out', 'x.pmtiles'], /--layers: unknown or restricted layer hazard_sources/],
  ])('refuses %j with exit 2 and says why', async (args, message) => {
    const r = await run(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  // Opening the embedded database costs seconds; the check is the same on both backends.
  it.runIf(backend === 'postgres')('refuses an unknown district by name', async () => {
    const r = await run(['--district', 'atlantis', '--out', path.join(dir, 'a.pmtiles')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--district: unknown district atlantis/);
    expect(fs.existsSync(path.join(dir, 'a.pmtiles'))).toBe(false);
  });

  it('writes a district archive with progress and ETA', async () => {
    const out = path.join(dir, 'jianghai.pmtiles');
    const r = await run(['--district', 'jianghai', '--layers', 'districts,risk_points', '--maxzoom', '11', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\d+\/\d+ tiles 100% · \d+ tiles\/s · ETA 0s/);
    expect(r.stdout).toContain(out);
    const archive = await openArchive(out);
    try {
      expect(archive.json.layers).toEqual(['districts', 'risk_points']);
      expect(archive.maxzoom).toBe(11);
    } finally {
      await archive.close();
    }
  }, 120_000);
});
