import { describe, expect, it } from 'vitest';
import { copyTestDb } from '../setup/db.ts';
import { runCli } from '../helpers/server-process.ts';

// `npm run keys -- …` on the configured database: create (shown once), list, revoke.
// Five command runs, each opening the database: minutes on a loaded machine.
describe('API key command line', { timeout: 300_000 }, () => {
  it('creates, lists and revokes keys; refuses bad arguments with one line', async () => {
    const { env } = await copyTestDb();
    const run = (...args: string[]) => runCli('server/auth/cli.ts', args, env);

    const created = await run('create', '--name', 'Huadu duty officer', '--role', 'editor', '--district', 'huadu');
    expect(created.code, created.stderr).toBe(0);
    const [summary, key] = created.stdout.trim().split('\n');
    expect(summary).toMatch(/^created key [a-z0-9]{12} \(editor, huadu\)$/);
    expect(key).toMatch(/^om_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    const id = summary.split(' ')[2];

    const listed = await run('list');
    expect(listed.stdout).toContain(`${id}\teditor\thuadu\tactive\tHuadu duty officer`);
    // The secret is everything after om_<id>_ (base64url: it may itself hold '_').
    expect(listed.stdout).not.toContain(key.slice(`om_${id}_`.length));

    expect((await run('revoke', id)).code).toBe(0);
    expect((await run('list')).stdout).toContain(`${id}\teditor\thuadu\trevoked`);

    const bad = await run('create', '--name', 'x', '--role', 'god');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/--role must be one of viewer, editor, admin/);
    const unknownDistrict = await run('create', '--name', 'x', '--role', 'viewer', '--district', 'atlantis');
    expect(unknownDistrict.code).not.toBe(0);
    expect(unknownDistrict.stderr).toMatch(/unknown district atlantis/);
  });
});
