/**
 * Bundles the server with esbuild into server/dist/ when the bundle is missing or older
 * than any file it was built from: main.mjs (what `npm start` runs), worker.mjs and
 * bootstrap.mjs (the analysis worker threads, server/work/pool.ts).
 *
 * Why a bundle: loading the server's TypeScript modules through tsx costs every process
 * 2.2–2.5 s of CPU, every worker thread another ~0.7 s, and on a machine whose tsx cache
 * is empty every process transforms every file again. One plain module loads in about a
 * third of that (docs/testing.md, Timings). `npm start` builds it first, as it builds the
 * client, and the tests start servers from it, so they run what users run.
 *
 * Packages stay in node_modules (not bundled): PGlite, sharp and the others find their
 * files next to their own modules. The bundle sits two folders below the root, as the
 * sources do, so the paths the server reads relative to its modules (package.json,
 * sql/migrations/, client/dist/) resolve the same from either.
 *
 *   tsx server/build.ts          build if needed
 *   tsx server/build.ts --force  always build
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const SERVER_DIST = path.join(ROOT, 'server', 'dist');
export const SERVER_BUNDLE = path.join(SERVER_DIST, 'main.mjs');
/** The bundled analysis worker (what server/work/pool.ts loads in the bundle, and the tests' apps). */
export const SERVER_WORKER = path.join(SERVER_DIST, 'worker.mjs');
/** The files the last build read (esbuild's metafile), relative to the root. */
const INPUTS = 'inputs.json';
/** Besides the modules: a new version of a package may change what gets bundled around it. */
const ALSO_READ = ['package-lock.json', 'server/build.ts'];

const ENTRIES = {
  main: 'server/main.ts',
  worker: 'server/work/worker.ts',
  bootstrap: 'server/work/bootstrap.mjs',
};

const mtime = (file: string) => fs.statSync(path.resolve(ROOT, file), { throwIfNoEntry: false })?.mtimeMs;

/**
 * True when a bundle is missing, or any file the last build read is newer than it, or gone.
 * `outDir` is server/dist/ but for tests; another folder must also sit two below the root.
 */
export function serverIsStale(outDir = SERVER_DIST): boolean {
  const built = Math.min(...Object.keys(ENTRIES).map((name) => mtime(path.join(outDir, `${name}.mjs`)) ?? 0));
  if (built === 0) return true;
  let inputs: string[];
  try {
    inputs = JSON.parse(fs.readFileSync(path.join(outDir, INPUTS), 'utf8')) as string[];
  } catch {
    return true;
  }
  return [...inputs, ...ALSO_READ].some((rel) => (mtime(rel) ?? Infinity) > built);
}

/**
 * Builds the bundle when needed (or always with `force`). Each build writes into a
 * folder of its own and then moves its files into server/dist/ one rename at a time,
 * so builds started at once by several processes (test workers) never leave a file
 * half written; they write the same bytes.
 */
export async function ensureServerBuilt(options: { force?: boolean; log?: (m: string) => void; outDir?: string } = {}): Promise<{ built: boolean }> {
  const outDir = options.outDir ?? SERVER_DIST;
  if (!options.force && !serverIsStale(outDir)) return { built: false };
  const esbuild = await import('esbuild');
  const started = Date.now();
  const tmp = fs.mkdtempSync(path.join(ROOT, 'server', '.dist-'));
  try {
    const result = await esbuild.build({
      absWorkingDir: ROOT,
      entryPoints: ENTRIES,
      outdir: tmp,
      outExtension: { '.js': '.mjs' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      // Error stacks name the TypeScript file and line (node --enable-source-maps).
      sourcemap: 'linked',
      sourcesContent: false,
      keepNames: true,
      metafile: true,
      logLevel: 'warning',
    });
    const inputs = Object.keys(result.metafile.inputs).filter((f) => !f.startsWith('node_modules/'));
    fs.writeFileSync(path.join(tmp, INPUTS), JSON.stringify(inputs));
    fs.mkdirSync(outDir, { recursive: true });
    // inputs.json last: until it is in place the bundle counts as stale.
    const files = fs.readdirSync(tmp).sort((a, b) => Number(a === INPUTS) - Number(b === INPUTS));
    for (const f of files) fs.renameSync(path.join(tmp, f), path.join(outDir, f));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  options.log?.(`server built in ${Date.now() - started} ms → ${path.relative(process.cwd(), outDir) || outDir}`);
  return { built: true };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  ensureServerBuilt({ force: process.argv.includes('--force'), log: (m) => process.stdout.write(`onemap: ${m}\n`) }).catch((err) => {
    process.stderr.write(`onemap: server build failed: ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
}
