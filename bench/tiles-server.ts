/**
 * A server process for bench/tiles.ts, so the load generator and the server do
 * not share an event loop. Listens on 127.0.0.1 on a free port and prints
 * `{"port": N}` on stdout when ready.
 *
 *   MODE=app      the one-map app (buildApp) on DATABASE_URL, cached tiles via the fast path
 *   MODE=express  the same app with the fast path removed: cached tiles through Express
 *   MODE=bare     bare node:http answering the bytes and headers in BODY_FILE (JSON)
 */
import fs from 'node:fs';
import http from 'node:http';
import { buildApp } from '../server/app.ts';
import { loadConfig } from '../server/config.ts';
import { silentLogger } from '../server/log.ts';
import { openPostgres } from '../server/db/postgres.ts';

const mode = process.env.MODE;

async function main() {
  let server: http.Server;
  if (mode === 'bare') {
    const spec = JSON.parse(fs.readFileSync(process.env.BODY_FILE!, 'utf8')) as { body: string; headers: Record<string, string> };
    const body = Buffer.from(spec.body, 'base64');
    server = http.createServer((_req, res) => {
      res.writeHead(200, spec.headers);
      res.end(body);
    });
  } else if (mode === 'app' || mode === 'express') {
    const db = await openPostgres({ connectionString: process.env.DATABASE_URL!, max: 10 });
    const app = buildApp({ db, config: loadConfig({ DATABASE_URL: process.env.DATABASE_URL }), log: silentLogger });
    if (mode === 'express') app.locals.tileFastPath.uninstall();
    server = http.createServer(app);
  } else {
    throw new Error(`unknown MODE ${mode}`);
  }
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    process.stdout.write(JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0 }) + '\n');
  });
  process.on('SIGTERM', () => process.exit(0));
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
