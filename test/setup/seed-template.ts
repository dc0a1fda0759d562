/**
 * Makes the seeded database of a test run: migrations, the demo data and the
 * browser suites' editor key, in a database that already exists (postgres) or
 * in a new data directory (embedded). Run by the global setup
 * (test/setup/global-db.ts) as a process of its own, so test files that need
 * no seeded database run meanwhile:
 *
 *   node --import tsx test/setup/seed-template.ts <embedded|postgres> <dataDir|url> <readyFile>
 *
 * Writes `readyFile` (JSON: `{ browserEditorKey }`) once the database is
 * complete and closed, and exits 0; test workers wait for that file
 * (`seeded()` in test/setup/db.ts).
 */
import fs from 'node:fs';
import { openEmbedded } from '../../server/db/embedded.ts';
import { openPostgres } from '../../server/db/postgres.ts';
import { prepareDatabase } from '../../server/db/prepare.ts';
import { createKey } from '../../server/auth/keys.ts';

export interface SeedReady {
  /** An editor key stored in the seeded database, for servers the browser suites start on a copy. */
  browserEditorKey: string;
}

const [backend, target, readyFile] = process.argv.slice(2);
if (!['embedded', 'postgres'].includes(backend) || !target || !readyFile) {
  console.error('usage: seed-template.ts <embedded|postgres> <dataDir|url> <readyFile>');
  process.exit(2);
}

const db = backend === 'embedded' ? await openEmbedded({ dataDir: target }) : await openPostgres({ connectionString: target, max: 2 });
await prepareDatabase(db, { demoData: true });
// Made here, where the seeded database is open anyway: made per browser suite, it cost an
// extra open of the embedded database in the test worker before the server opened it again.
const ready: SeedReady = { browserEditorKey: (await createKey(db, { name: 'browser test', role: 'editor' })).key };
await db.close();
// Whole or not at all: a waiting worker never reads half a file.
fs.writeFileSync(`${readyFile}.tmp`, JSON.stringify(ready));
fs.renameSync(`${readyFile}.tmp`, readyFile);
