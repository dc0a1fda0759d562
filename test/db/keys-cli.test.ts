import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyTestDb, testDb } from '../setup/db.ts';
import { runCli } from '../helpers/server-process.ts';
import { keysCommand } from '../../server/auth/keys-command.ts';
import type { Db } from '../../server/db/types.ts';

// `npm run keys -- …` on the configured database: create (shown once), list, revoke.
// The command runs in this worker against the test's database (opening the embedded
// database in a process of its own costs seconds each time); two runs of the real
// command line show that the script opens the configured database and exits as it should.
let db: Db;
let opened = 0;
beforeAll(async () => {
  db = await testDb();
});
afterAll(() => db?.close());

const run = async (...args: string[]) => {
  let stdout = '';
  let stderr = '';
  const code = await keysCommand(args, { out: (t) => (stdout += t), err: (t) => (stderr += t) }, (fn) => {
    opened++;
    return fn(db);
  });
  return { code, stdout, stderr };
};

describe('API key command', () => {
  it('creates, lists and revokes keys', async () => {
    const created = await run('create', '--name', 'Huadu duty officer', '--role', 'editor', '--district', 'huadu');
    expect(created.code, created.stderr).toBe(0);
    const [summary, key] = created.stdout.trim().split('\n');
    expect(summary).toMatch(/^created key [a-z0-9]{12} \(editor, huadu\)$/);
    expect(key).toMatch(/^om_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toBe('store it now: the key is shown only once\n');
    const id = summary.split(' ')[2];

    const listed = await run('list');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`${id}\teditor\thuadu\tactive\tHuadu duty officer`);
    // The secret is everything after om_<id>_ (base64url: it may itself hold '_').
    expect(listed.stdout).not.toContain(key.slice(`om_${id}_`.length));

    const revoked = await run('revoke', id);
    expect(revoked).toEqual({ code: 0, stdout: `revoked ${id}\n`, stderr: '' });
    expect((await run('list')).stdout).toContain(`${id}\teditor\thuadu\trevoked`);
    const again = await run('revoke', id);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(`keys: no active key ${id}\n`);

    const everywhere = await run('create', '--name', 'duty desk', '--role', 'viewer');
    expect(everywhere.stdout).toMatch(/^created key [a-z0-9]{12} \(viewer\)\n/);
    expect((await run('list')).stdout).toMatch(/\tviewer\t\*\tactive\tduty desk\n/);
  });

  it('refuses bad arguments with one line and exit 2, before opening the database', async () => {
    const before = opened;
    for (const [args, message] of [
      [['create', '--name', 'x', '--role', 'god'], /^keys: --role must be one of viewer, editor, admin$/],
      [['create', '--role', 'viewer'], /^keys: --name is required$/],
      [['revoke'], /^keys: revoke needs the key id/],
      [['create', '--name', 'x', '--role', 'viewer', '--colour', 'red'], /^keys: Unknown option '--colour'/],
    ] as const) {
      const r = await run(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')[0], args.join(' ')).toMatch(message);
    }
    const usage = await run('rotate');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^keys: usage:\n {2}npm run keys -- create/);
    expect(opened).toBe(before);
  });

  it('refuses an unknown district and creates nothing', async () => {
    const keysBefore = (await db.query('SELECT id FROM api_keys')).rowCount;
    const r = await run('create', '--name', 'x', '--role', 'viewer', '--district', 'huadu', '--district', 'atlantis');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('keys: unknown district atlantis\n');
    expect((await db.query('SELECT id FROM api_keys')).rowCount).toBe(keysBefore);
  });
});

describe('npm run keys (the script)', { timeout: 120_000 }, () => {
  it('creates a key in the configured database, and refuses a bad role with exit 2', async () => {
    const { env } = await copyTestDb();
    const created = await runCli('server/auth/cli.ts', ['create', '--name', 'Huadu duty officer', '--role', 'editor', '--district', 'huadu'], env);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^created key [a-z0-9]{12} \(editor, huadu\)\nom_[a-z0-9]{12}_[A-Za-z0-9_-]{43}\n$/);
    expect(created.stderr).toBe('store it now: the key is shown only once\n');

    const bad = await runCli('server/auth/cli.ts', ['create', '--name', 'x', '--role', 'god'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('keys: --role must be one of viewer, editor, admin\n');
  });
});
