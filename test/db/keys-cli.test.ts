import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openTestDb, backend } from '../setup/db.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));

// `npm run keys -- …` on the configured database: create (shown once), list, revoke.
describe('API key command line', () => {
  it('creates, lists and revokes keys; refuses bad arguments with one line', async () => {
    const { db, location } = await openTestDb();
    await db.close();
    let env: Record<string, string>;
    if (backend === 'embedded') {
      const dataDir = `${location}-root`;
      fs.mkdirSync(dataDir, { recursive: true });
      fs.renameSync(location, `${dataDir}/pgdata`);
      env = { DATA_DIR: dataDir };
    } else env = { DATABASE_URL: location };
    const run = (...args: string[]) =>
      spawnSync(TSX, ['server/auth/cli.ts', ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 120_000 });

    const created = run('create', '--name', 'Huadu duty officer', '--role', 'editor', '--district', 'huadu');
    expect(created.status).toBe(0);
    const [summary, key] = created.stdout.trim().split('\n');
    expect(summary).toMatch(/^created key [a-z0-9]{12} \(editor, huadu\)$/);
    expect(key).toMatch(/^om_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    const id = summary.split(' ')[2];

    const listed = run('list');
    expect(listed.stdout).toContain(`${id}\teditor\thuadu\tactive\tHuadu duty officer`);
    // The secret is everything after om_<id>_ (base64url: it may itself hold '_').
    expect(listed.stdout).not.toContain(key.slice(`om_${id}_`.length));

    expect(run('revoke', id).status).toBe(0);
    expect(run('list').stdout).toContain(`${id}\teditor\thuadu\trevoked`);

    const bad = run('create', '--name', 'x', '--role', 'god');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/--role must be one of viewer, editor, admin/);
    const unknownDistrict = run('create', '--name', 'x', '--role', 'viewer', '--district', 'atlantis');
    expect(unknownDistrict.status).not.toBe(0);
    expect(unknownDistrict.stderr).toMatch(/unknown district atlantis/);
  });
});
