/**
 * The report of `npm run bench` (bench/run.ts): pure formatting, no I/O, so it is
 * unit-tested (test/unit/bench-report.test.ts). Every figure is shown next to the
 * baseline measured in the same run, and their ratio.
 */

/** One measured figure, as a bench records it (bench/results.ts). */
export interface Figure {
  /** The bench that measured it: tiles, ogc, import, maps, analysis, pressure, bundle, processes. */
  bench: string;
  /** What was measured, e.g. "cached tiles, 32 connections". */
  name: string;
  value: number;
  /** req/s, ms, s, kB, rows/s, … */
  unit: string;
  /** The same thing done the plain way in the same run (bare node:http, hand-written SQL, …). */
  baseline?: { name: string; value: number };
  /** Whether a larger value is better (req/s) or a smaller one (ms, bytes): how to read the ratio. */
  better?: 'higher' | 'lower';
  /** The goal, as the issue states it: on the ratio (value ÷ baseline) when there is a baseline, else on the value, unless `on` says. */
  goal?: { op: '>=' | '<='; value: number; on?: 'ratio' | 'value' };
}

export interface RunMeta {
  /** When the run started. */
  date: Date;
  cores: number;
  cpuModel: string;
  memoryBytes: number;
  versions: Record<string, string>;
  /** 1, 5, 15-minute load averages at the start and the end of the run. */
  loadStart: readonly number[];
  loadEnd: readonly number[];
  durationMs: number;
  quick: boolean;
  /** Benches run (all when the run was not restricted), with the seconds each took. */
  benches: readonly { name: string; seconds: number }[];
  /** Benches that failed, with the reason. */
  failed: readonly { bench: string; error: string }[];
  /** Written with --force while the machine was loaded. */
  loaded: boolean;
}

export const BEGIN_MARKER = '<!-- bench:begin -->';
export const END_MARKER = '<!-- bench:end -->';
/** Above this 1-minute load average the doc is not rewritten unless --force (2 cores: ¾ of a core busy elsewhere). */
export const MAX_LOAD = 1.5;

/** A number with about three significant digits and thousands separators. */
export function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return `— ${unit}`.trim();
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  const text = value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return unit ? `${text} ${unit}` : text;
}

/** value ÷ baseline, or undefined without a usable baseline. */
export function ratioOf(f: Figure): number | undefined {
  if (!f.baseline || !Number.isFinite(f.baseline.value) || f.baseline.value === 0 || !Number.isFinite(f.value)) return undefined;
  return f.value / f.baseline.value;
}

/** ✓ / ✗ against the goal (on the ratio when there is a baseline), '' without a goal or a value. */
export function goalMark(f: Figure): string {
  if (!f.goal) return '';
  const onRatio = (f.goal.on ?? (f.baseline ? 'ratio' : 'value')) === 'ratio';
  const v = onRatio ? ratioOf(f) : f.value;
  const goal = `goal ${f.goal.op === '>=' ? '≥' : '≤'} ${onRatio ? `${f.goal.value}×` : formatValue(f.goal.value, f.unit)}`;
  if (v === undefined || !Number.isFinite(v)) return goal;
  const met = f.goal.op === '>=' ? v >= f.goal.value : v <= f.goal.value;
  return `${met ? '✓' : '✗'} ${goal}`;
}

/** Whether the doc may be rewritten: refused above MAX_LOAD unless forced; a forced loaded run is labelled. */
export function writeDecision(load1: number, force: boolean): { write: boolean; loaded: boolean; reason?: string } {
  if (load1 <= MAX_LOAD) return { write: true, loaded: false };
  if (force) return { write: true, loaded: true };
  return {
    write: false,
    loaded: true,
    reason: `the 1-minute load average is ${load1.toFixed(2)} (> ${MAX_LOAD}): figures from a busy machine are not written to docs/performance.md; wait for a quiet machine, or pass --force to write them labelled "loaded"`,
  };
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const loadText = (l: readonly number[]) => l.map((x) => x.toFixed(2)).join(' / ');

/** The Markdown between the markers: the run's conditions, then one table per bench. */
export function formatReport(meta: RunMeta, figures: readonly Figure[]): string {
  const out: string[] = [];
  const labels = [meta.loaded ? '**loaded**' : '', meta.quick ? '**quick**' : ''].filter(Boolean);
  const when = meta.date.toISOString().slice(0, 16).replace('T', ' ');
  out.push(`### \`npm run bench\`, ${when} UTC${labels.length ? ` — ${labels.join(', ')}` : ''}`);
  out.push('');
  if (meta.loaded) {
    out.push(
      `Measured while other work kept the machine busy (1-minute load average ${meta.loadStart[0]?.toFixed(2)} before the run, above ${MAX_LOAD}): ` +
        'absolute figures are low and noisy; only the ratios, both sides measured in the same run, mean something. Not figures to quote.',
    );
    out.push('');
  }
  if (meta.quick) {
    out.push('`--quick`: smaller data (tiles part (c) on 100,000 points, not 1,000,000), one short round per measurement; a check that every bench runs, not the figures the goals ask for.');
    out.push('');
  }
  const versions = Object.entries(meta.versions)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  out.push(
    `${meta.cores} cores (${meta.cpuModel}), ${(meta.memoryBytes / 2 ** 30).toFixed(0)} GiB; ${versions}. ` +
      `Load average (1 / 5 / 15 min) ${loadText(meta.loadStart)} at the start, ${loadText(meta.loadEnd)} at the end; ` +
      `the run took ${(meta.durationMs / 60_000).toFixed(1)} min. Benches (seconds each): ${meta.benches.map((b) => `${b.name} ${b.seconds}`).join(', ')}.`,
  );
  out.push('');
  for (const f of meta.failed) {
    out.push(`- **${f.bench} failed:** ${cell(f.error)}`);
  }
  if (meta.failed.length) out.push('');

  const benches = [...new Set(figures.map((f) => f.bench))];
  for (const bench of benches) {
    out.push(`#### ${bench}`);
    out.push('');
    out.push('| figure | value | baseline (same run) | baseline value | ratio | goal |');
    out.push('|---|---|---|---|---|---|');
    for (const f of figures.filter((x) => x.bench === bench)) {
      const r = ratioOf(f);
      const ratio = r === undefined ? '' : `**${r.toFixed(2)}×**${f.better ? (f.better === 'higher' ? ' (higher is better)' : ' (lower is better)') : ''}`;
      out.push(
        `| ${cell(f.name)} | ${formatValue(f.value, f.unit)} | ${f.baseline ? cell(f.baseline.name) : ''} | ${f.baseline ? formatValue(f.baseline.value, f.unit) : ''} | ${ratio} | ${goalMark(f)} |`,
      );
    }
    out.push('');
  }
  if (!benches.length) out.push('No figures were recorded.\n');
  return out.join('\n');
}

/** `doc` with the text between the markers replaced by `section`; throws when the markers are missing or out of order. */
export function replaceBetweenMarkers(doc: string, section: string): string {
  const begin = doc.indexOf(BEGIN_MARKER);
  const end = doc.indexOf(END_MARKER);
  if (begin < 0 || end < 0 || end < begin || doc.indexOf(BEGIN_MARKER, begin + 1) >= 0 || doc.indexOf(END_MARKER, end + 1) >= 0) {
    throw new Error(`docs/performance.md must hold ${BEGIN_MARKER} and ${END_MARKER} once each, in that order`);
  }
  return `${doc.slice(0, begin + BEGIN_MARKER.length)}\n${section.trim()}\n${doc.slice(end)}`;
}

/** Reads the figures a bench wrote, one JSON object a line; malformed lines are skipped, not fatal. */
export function parseFigures(text: string): Figure[] {
  const figures: Figure[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const f = JSON.parse(line) as Figure;
      if (typeof f.bench === 'string' && typeof f.name === 'string' && typeof f.value === 'number' && typeof f.unit === 'string') figures.push(f);
    } catch {
      // a line cut short by a killed bench
    }
  }
  return figures;
}
