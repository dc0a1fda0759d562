/**
 * The `keys` command (`npm run keys -- …`, server/auth/cli.ts) apart from the process
 * it runs in: the arguments, where its output goes and how it reaches the database
 * are handed to it, so it can run inside a test against the test's database.
 */
import { parseArgs } from 'node:util';
import type { Db } from '../db/types.ts';
import { createKey, listKeys, revokeKey, ROLES, type Role } from './keys.ts';

export const USAGE = `usage:
  npm run keys -- create --name NAME --role ${ROLES.join('|')} [--district ID ...]
  npm run keys -- list
  npm run keys -- revoke ID`;

export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
}

/** Runs `fn` on the configured database (opened and closed around it by the caller). */
export type WithDb = <T>(fn: (db: Db) => Promise<T>) => Promise<T>;

/** A failure the command reports as one line and exit code 2. */
class Refusal extends Error {}

function refuse(message: string): never {
  throw new Refusal(message);
}

/** Runs the command to its end and returns its exit code: 0, or 2 after one line on `err`. */
export async function keysCommand(args: string[], io: CommandIo, withDb: WithDb): Promise<number> {
  try {
    await run(args, io, withDb);
    return 0;
  } catch (err) {
    io.err(`keys: ${(err as Error).message || String(err)}\n`);
    return 2;
  }
}

async function run(args: string[], io: CommandIo, withDb: WithDb): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { name: { type: 'string' }, role: { type: 'string' }, district: { type: 'string', multiple: true } },
    });
  } catch (err) {
    refuse((err as Error).message);
  }
  const { positionals, values } = parsed;
  const [command, arg] = positionals;
  if (!command || !['create', 'list', 'revoke'].includes(command)) refuse(USAGE);
  if (command === 'create') {
    if (!values.name) refuse('--name is required');
    if (!values.role || !ROLES.includes(values.role as Role)) refuse(`--role must be one of ${ROLES.join(', ')}`);
  }
  if (command === 'revoke' && !arg) refuse('revoke needs the key id (see `list`)');

  await withDb(async (db) => {
    if (command === 'create') {
      const districts = values.district ?? null;
      if (districts) {
        const known = await db.query<{ id: string }>('SELECT id FROM districts WHERE id = ANY($1)', [districts]);
        const unknown = districts.filter((d) => !known.rows.some((r) => r.id === d));
        if (unknown.length) refuse(`unknown district ${unknown.join(', ')}`);
      }
      const { key, record } = await createKey(db, { name: values.name!, role: values.role as Role, districts });
      io.out(`created key ${record.id} (${record.role}${record.districts ? `, ${record.districts.join(', ')}` : ''})\n`);
      io.out(`${key}\n`);
      io.err('store it now: the key is shown only once\n');
    } else if (command === 'list') {
      for (const k of await listKeys(db)) {
        io.out(`${k.id}\t${k.role}\t${k.districts?.join(',') ?? '*'}\t${k.revoked_at ? 'revoked' : 'active'}\t${k.name}\n`);
      }
    } else {
      if (!(await revokeKey(db, arg))) refuse(`no active key ${arg}`);
      io.out(`revoked ${arg}\n`);
    }
  });
}
