/**
 * Builds the one-map client with Vite when its output is missing or older than
 * its sources. `npm start` runs it first (a build takes seconds), and so do the
 * browser tests, so a fresh clone serves a working map without a manual step.
 *
 *   tsx client/build.ts          build if needed
 *   tsx client/build.ts --force  always build
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const CLIENT_DIR = fileURLToPath(new URL('.', import.meta.url));
export const DIST_DIR = path.join(CLIENT_DIR, 'dist');
/** What the build reads: the client's own files, and the lock file (a new OpenLayers means a new bundle). */
const SOURCES = ['index.html', 'vite.config.ts', 'src', '../package-lock.json'];
/** Concurrent builds (parallel test files) take turns through this directory. */
const LOCK_DIR = path.join(CLIENT_DIR, '.build-lock');
const STALE_LOCK_MS = 180_000;

function newestMtime(p: string): number {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, name)));
  return newest;
}

/** True when dist/index.html is missing or older than any source file. */
export function clientIsStale(): boolean {
  const built = newestMtime(path.join(DIST_DIR, 'index.html'));
  if (built === 0) return true;
  return SOURCES.some((s) => newestMtime(path.join(CLIENT_DIR, s)) > built);
}

async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      fs.mkdirSync(LOCK_DIR);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (fs.statSync(LOCK_DIR, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > STALE_LOCK_MS) fs.rmSync(LOCK_DIR, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(LOCK_DIR, { recursive: true, force: true });
  }
}

export interface BuildOutcome {
  built: boolean;
  /** Why nothing was built, when `built` is false and a build was needed. */
  skipped?: string;
}

/** Builds the client when needed (or always with `force`); safe to call from several processes at once. */
export async function ensureClientBuilt(options: { force?: boolean; log?: (m: string) => void } = {}): Promise<BuildOutcome> {
  const log = options.log ?? (() => {});
  if (!options.force && !clientIsStale()) return { built: false };
  let vite: typeof import('vite');
  try {
    vite = await import('vite');
  } catch {
    // A production install without devDependencies: serve whatever was built before.
    return { built: false, skipped: 'vite is not installed (npm install without --omit=dev builds the client)' };
  }
  return withLock(async () => {
    // Another process may have built it while this one waited for the lock.
    if (!options.force && !clientIsStale()) return { built: false };
    const started = Date.now();
    await vite.build({ configFile: path.join(CLIENT_DIR, 'vite.config.ts'), logLevel: 'warn' });
    precompress(DIST_DIR);
    log(`client built in ${Date.now() - started} ms → ${path.relative(process.cwd(), DIST_DIR) || DIST_DIR}`);
    return { built: true };
  });
}

const PRECOMPRESSED = /\.(js|mjs|css|html|svg|json|map|txt)$/;

/**
 * Writes `file.br` (brotli, best quality) and `file.gz` (gzip -9) next to every text
 * file of the build of at least 1 kB, once, so the server hands out compressed
 * assets without compressing them per request (server/routes/client.ts).
 */
export function precompress(dir: string): number {
  let written = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      written += precompress(file);
      continue;
    }
    if (!PRECOMPRESSED.test(entry.name)) continue;
    const body = fs.readFileSync(file);
    if (body.length < 1024) continue;
    fs.writeFileSync(`${file}.br`, zlib.brotliCompressSync(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length } }));
    fs.writeFileSync(`${file}.gz`, zlib.gzipSync(body, { level: 9 }));
    written += 2;
  }
  return written;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  ensureClientBuilt({ force: process.argv.includes('--force'), log: (m) => process.stdout.write(`onemap: ${m}\n`) })
    .then((outcome) => {
      if (outcome.skipped) process.stderr.write(`onemap: client not rebuilt: ${outcome.skipped}\n`);
    })
    .catch((err) => {
      process.stderr.write(`onemap: client build failed: ${(err as Error).message}\n`);
      // Before `npm start` a failed build must not keep the API down: the server answers / with 503 until it is built.
      if (process.argv.includes('--force')) process.exit(1);
    });
}
