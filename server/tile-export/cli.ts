/**
 * `npm run export -- --district huadu --minzoom 0 --maxzoom 16 --out huadu.pmtiles`
 * Pre-renders tiles into a PMTiles or MBTiles archive; see docs/archives.md.
 * Renders from the configured database (DATABASE_URL, or the embedded one in
 * DATA_DIR — stop the server first: the embedded database belongs to one
 * process), or from a running server with `--server URL`. The command itself is
 * server/tile-export/command.ts.
 */
import { loadConfig } from '../config.ts';
import { openDb } from '../db/open.ts';
import { prepareDatabase } from '../db/prepare.ts';
import { exportCommand } from './command.ts';

const code = await exportCommand(process.argv.slice(2), {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  tty: process.stderr.isTTY,
  config: () => loadConfig(),
  async withDb(config, fn) {
    const db = await openDb(config, () => {});
    try {
      await prepareDatabase(db, { demoData: config.DEMO_DATA });
      return await fn(db);
    } finally {
      await db.close();
    }
  },
});
process.exit(code);
