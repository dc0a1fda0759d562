/**
 * `npm run keys -- create --name "Huadu duty officer" --role editor [--district huadu]`
 * `npm run keys -- list` · `npm run keys -- revoke <id>`
 * Works on the configured database (DATABASE_URL or the embedded one in DATA_DIR);
 * the command itself is server/auth/keys-command.ts.
 */
import { loadConfig, ConfigError } from '../config.ts';
import { openDb } from '../db/open.ts';
import { migrate } from '../db/migrate.ts';
import { keysCommand } from './keys-command.ts';

const code = await keysCommand(
  process.argv.slice(2),
  { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) },
  async (fn) => {
    let config;
    try {
      config = loadConfig();
    } catch (e) {
      throw e instanceof ConfigError ? new Error(e.message) : e;
    }
    const db = await openDb(config, () => {});
    try {
      await migrate(db);
      return await fn(db);
    } finally {
      await db.close();
    }
  },
);
process.exit(code);
