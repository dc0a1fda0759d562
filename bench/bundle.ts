/**
 * Client bundle size: builds the one-map client (Vite, production) and prints
 * each asset raw and gzipped, and the JavaScript total against the 500 kB
 * gzipped budget of the client issue. Sizes, not times, so one run is exact.
 *
 *   npx tsx bench/bundle.ts
 */
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DIST_DIR, ensureClientBuilt } from '../client/build.ts';
import { record } from './results.ts';

const BUDGET_GZIP = 500 * 1024;
await ensureClientBuilt({ force: true, log: (m) => console.log(m) });

const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`;
let jsGzip = 0;
const files = fs.readdirSync(path.join(DIST_DIR, 'assets')).map((f) => path.join('assets', f));
for (const rel of ['index.html', ...files]) {
  const body = fs.readFileSync(path.join(DIST_DIR, rel));
  const gz = gzipSync(body, { level: 9 }).length;
  if (rel.endsWith('.js')) jsGzip += gz;
  console.log(`${rel.padEnd(32)} ${kb(body.length).padStart(10)} raw ${kb(gz).padStart(10)} gzip`);
}
record({ bench: 'bundle', name: 'client JavaScript, gzipped (sizes, exact)', value: jsGzip / 1024, unit: 'kB', better: 'lower', goal: { op: '<=', value: BUDGET_GZIP / 1024 } });
console.log(`JavaScript gzipped: ${kb(jsGzip)} of a ${kb(BUDGET_GZIP)} budget → ${(jsGzip / BUDGET_GZIP).toFixed(2)} of it`);
