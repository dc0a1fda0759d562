import fs from 'node:fs';
import type { Figure } from './report.ts';

/**
 * How a bench hands its figures to `npm run bench` (bench/run.ts): one JSON line
 * per figure appended to the file named by BENCH_RESULTS. Run alone (no
 * BENCH_RESULTS) a bench only prints its tables, as before.
 */
export function record(figure: Figure): void {
  const file = process.env.BENCH_RESULTS;
  if (file) fs.appendFileSync(file, JSON.stringify(figure) + '\n');
}

/** Quick runs (`npm run bench -- --quick`) ask benches for smaller data and shorter measurements. */
export const QUICK_RUN = process.env.BENCH_QUICK === '1';
