/**
 * `npm run keys -- create --name "Huadu duty officer" --role editor [--district huadu]`
 * `npm run keys -- list` · `npm run keys -- revoke <id>`
 * Works on the configured database (DATABASE_URL or the embedded one in DATA_DIR).
 */
import { parseArgs } from 'node:util';
import { loadConfig, ConfigError } from '../config.ts';
import { openDb } from '../db/open.ts';
import { migrate } from '../db/migrate.ts';
import { createKey, listKeys, revokeKey, ROLES, type Role } from './keys.ts';

const USAGE = `usage:
  npm run keys -- create --name NAME --role ${ROLES.join('|')} [--district ID ...]
  npm run keys -- list
  npm run keys -- revoke ID`;

function fail(message: string): never {
  process.stderr.write(`keys: ${message}\n`);
  process.exit(2);
}

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { name: { type: 'string' }, role: { type: 'string' }, district: { type: 'string', multiple: true } },
  });
  const [command, arg] = positionals;
  if (!command || !['create', 'list', 'revoke'].includes(command)) fail(USAGE);
  if (command === 'create') {
    if (!values.name) fail('--name is required');
    if (!values.role || !ROLES.includes(values.role as Role)) fail(`--role must be one of ${ROLES.join(', ')}`);
  }
  if (command === 'revoke' && !arg) fail('revoke needs the key id (see `list`)');

  let config;
  try {
    config = loadConfig();
  } catch (e) {
    fail(e instanceof ConfigError ? e.message : String(e));
  }
  const db = await openDb(config, () => {});
  try {
    await migrate(db);
    if (command === 'create') {
      const districts = values.district ?? null;
      if (districts) {
        const known = await db.query<{ id: string }>('SELECT id FROM districts WHERE id = ANY($1)', [districts]);
        const unknown = districts.filter((d) => !known.rows.some((r) => r.id === d));
        if (unknown.length) fail(`unknown district ${unknown.join(', ')}`);
      }
      const { key, record } = await createKey(db, { name: values.name!, role: values.role as Role, districts });
      process.stdout.write(`created key ${record.id} (${record.role}${record.districts ? `, ${record.districts.join(', ')}` : ''})\n`);
      process.stdout.write(`${key}\n`);
      process.stderr.write('store it now: the key is shown only once\n');
    } else if (command === 'list') {
      for (const k of await listKeys(db)) {
        process.stdout.write(
          `${k.id}\t${k.role}\t${k.districts?.join(',') ?? '*'}\t${k.revoked_at ? 'revoked' : 'active'}\t${k.name}\n`,
        );
      }
    } else {
      if (!(await revokeKey(db, arg))) fail(`no active key ${arg}`);
      process.stdout.write(`revoked ${arg}\n`);
    }
  } finally {
    await db.close();
  }
}

main().catch((e) => fail((e as Error).message));
