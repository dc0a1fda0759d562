import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyTestDb, testDb } from '../setup/db.ts';
import { openArchive } from '../../tiles/archive/archive-reader.ts';
import { runCli } from '../helpers/server-process.ts';
import { exportCommand } from '../../server/tile-export/command.ts';
import { loadConfig } from '../../server/config.ts';
import type { Db } from '../../server/db/types.ts';
import { TEST_ENV } from '../helpers/test-env.ts';

// `npm run export`: a clear exit 2 naming the option for bad arguments (the command
// run in this worker, on the test's database), and an archive with a progress line
// for good ones (the real script, opening the configured database itself).
let db: Db;
let dir: string;

beforeAll(async () => {
  db = await testDb();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onemap-export-out-'));
});

afterAll(async () => {
  await db?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

let opened = 0;
async function run(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await exportCommand(args, {
    out: (t) => (stdout += t),
    err: (t) => (stderr += t),
    tty: false,
    config: () => loadConfig({ ...TEST_ENV, LOG_LEVEL: 'error' }),
    withDb: (_config, fn) => {
      opened++;
      return fn(db);
    },
  });
  return { code, stdout, stderr };
}

describe('the export command', () => {
  it.each([
    [['--out', 'x.pmtiles'], /--district: give exactly one of --district or --bbox/],
    [['--district', 'huadu', '--out', 'x.zip'], /--out: name the file \.pmtiles or \.mbtiles/],
    [['--district', 'huadu', '--minzoom', '9', '--maxzoom', '3', '--out', 'x.pmtiles'], /--minzoom: must not exceed --maxzoom/],
    [['--district', 'huadu', '--layers', 'hazard_sources', '--out', 'x.pmtiles'], /--layers: unknown or restricted layer hazard_sources/],
  ])('refuses %j with exit 2 and says why', async (args, message) => {
    const r = await run(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^export: /);
    expect(opened).toBe(0);
  });

  it('refuses an unknown district by name', async () => {
    const r = await run(['--district', 'atlantis', '--out', path.join(dir, 'a.pmtiles')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--district: unknown district atlantis/);
    expect(fs.existsSync(path.join(dir, 'a.pmtiles'))).toBe(false);
  });
});

describe('npm run export (the script)', { timeout: 120_000 }, () => {
  it('writes a district archive with progress and ETA', async () => {
    const out = path.join(dir, 'jianghai.pmtiles');
    const { env } = await copyTestDb();
    const r = await runCli('server/tile-export/cli.ts', ['--district', 'jianghai', '--layers', 'districts,risk_points', '--maxzoom', '11', '--out', out], { LOG_LEVEL: 'error', ...env });
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
