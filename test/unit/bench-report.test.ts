import { describe, expect, it } from 'vitest';
import {
  BEGIN_MARKER,
  END_MARKER,
  formatReport,
  formatValue,
  goalMark,
  parseFigures,
  ratioOf,
  replaceBetweenMarkers,
  writeDecision,
  type Figure,
  type RunMeta,
} from '../../bench/report.ts';

const meta = (over: Partial<RunMeta> = {}): RunMeta => ({
  date: new Date('2026-12-05T06:00:00Z'),
  cores: 2,
  cpuModel: 'AMD EPYC',
  memoryBytes: 24 * 2 ** 30,
  versions: { Node: 'v20.20.2', PostgreSQL: '15.20', PostGIS: '3.3.2' },
  loadStart: [0.4, 0.6, 0.7],
  loadEnd: [1.9, 1.2, 0.9],
  durationMs: 8.5 * 60_000,
  quick: false,
  benches: [
    { name: 'tiles', seconds: 212 },
    { name: 'bundle', seconds: 3 },
  ],
  failed: [],
  loaded: false,
  ...over,
});

const cached: Figure = {
  bench: 'tiles',
  name: '(a) cached tiles',
  value: 30_300,
  unit: 'req/s',
  baseline: { name: 'bare node:http', value: 40_700 },
  better: 'higher',
  goal: { op: '>=', value: 0.8 },
};

describe('bench report', () => {
  it('formats numbers to about three significant digits with separators', () => {
    expect(formatValue(30_300.4, 'req/s')).toBe('30,300 req/s');
    expect(formatValue(48.04, 'ms')).toBe('48.0 ms');
    expect(formatValue(1.234, 'ms')).toBe('1.23 ms');
    expect(formatValue(0.51234, 'ms')).toBe('0.512 ms');
    expect(formatValue(NaN, 'req/s')).toBe('— req/s');
  });

  it('shows each figure next to its same-run baseline and their ratio, against the goal', () => {
    expect(ratioOf(cached)).toBeCloseTo(0.744, 3);
    expect(goalMark(cached)).toBe('✗ goal ≥ 0.8×');
    expect(goalMark({ ...cached, value: 33_000 })).toBe('✓ goal ≥ 0.8×');
    // A goal on the value although there is a baseline (a time budget).
    expect(goalMark({ ...cached, unit: 'ms', value: 2500, goal: { op: '<=', value: 3000, on: 'value' } })).toBe('✓ goal ≤ 3,000 ms');
    // Without a baseline the goal is on the value; without a usable baseline no ratio.
    expect(goalMark({ bench: 'tiles', name: 'z3', value: 12, unit: 'ms', goal: { op: '<=', value: 50 } })).toBe('✓ goal ≤ 50.0 ms');
    expect(ratioOf({ ...cached, baseline: { name: 'x', value: 0 } })).toBeUndefined();
    expect(goalMark({ ...cached, baseline: { name: 'x', value: NaN } })).toBe('goal ≥ 0.8×');

    const md = formatReport(meta(), [cached, { bench: 'bundle', name: 'JavaScript, gzipped', value: 142.4, unit: 'kB', goal: { op: '<=', value: 500 } }]);
    expect(md).toContain('| (a) cached tiles | 30,300 req/s | bare node:http | 40,700 req/s | **0.74×** (higher is better) | ✗ goal ≥ 0.8× |');
    expect(md).toContain('| JavaScript, gzipped | 142 kB |  |  |  | ✓ goal ≤ 500 kB |');
    expect(md).toContain('2026-12-05 06:00 UTC');
    expect(md).toContain('2 cores (AMD EPYC), 24 GiB; Node v20.20.2, PostgreSQL 15.20, PostGIS 3.3.2');
    expect(md).toContain('0.40 / 0.60 / 0.70 at the start, 1.90 / 1.20 / 0.90 at the end');
    expect(md).toContain('Benches (seconds each): tiles 212, bundle 3.');
    expect(md).toMatch(/#### tiles[\s\S]*#### bundle/);
    expect(md).not.toMatch(/loaded|quick/i);
  });

  it('labels a loaded or quick run, and names failed benches', () => {
    const md = formatReport(meta({ loaded: true, quick: true, failed: [{ bench: 'ogc', error: 'exit 1 | boom' }] }), []);
    expect(md).toMatch(/^### `npm run bench`, 2026-12-05 06:00 UTC — \*\*loaded\*\*, \*\*quick\*\*/);
    expect(md).toContain('Not figures to quote');
    expect(md).toContain('1-minute load average 0.40 before the run');
    expect(md).toContain('- **ogc failed:** exit 1 \\| boom');
    expect(md).toContain('No figures were recorded.');
  });

  it('refuses to write above a 1-minute load of 1.5 unless forced, and then labels the run loaded', () => {
    expect(writeDecision(0.9, false)).toEqual({ write: true, loaded: false });
    expect(writeDecision(1.5, false)).toEqual({ write: true, loaded: false });
    const refused = writeDecision(3.2, false);
    expect(refused.write).toBe(false);
    expect(refused.reason).toMatch(/3\.20.*--force/);
    expect(writeDecision(3.2, true)).toEqual({ write: true, loaded: true });
  });

  it('replaces only the text between the markers, and refuses a doc without them', () => {
    const doc = `# Performance\n\nintro\n\n${BEGIN_MARKER}\nold figures\n${END_MARKER}\n\n## Static maps\nkept\n`;
    const out = replaceBetweenMarkers(doc, '### new run\n\n| a | b |\n');
    expect(out).toBe(`# Performance\n\nintro\n\n${BEGIN_MARKER}\n### new run\n\n| a | b |\n${END_MARKER}\n\n## Static maps\nkept\n`);
    expect(replaceBetweenMarkers(out, 'again')).toContain(`${BEGIN_MARKER}\nagain\n${END_MARKER}`);
    expect(() => replaceBetweenMarkers('# no markers', 'x')).toThrow(/bench:begin/);
    expect(() => replaceBetweenMarkers(`${END_MARKER}\n${BEGIN_MARKER}`, 'x')).toThrow();
    expect(() => replaceBetweenMarkers(`${BEGIN_MARKER}${END_MARKER}${BEGIN_MARKER}${END_MARKER}`, 'x')).toThrow();
  });

  it('reads figures one JSON line each, skipping a line cut short', () => {
    const text = `${JSON.stringify(cached)}\n{"bench":"ogc","name":"first pa\n\n${JSON.stringify({ bench: 'x', name: 'no value' })}\n`;
    expect(parseFigures(text)).toEqual([cached]);
  });
});

describe('OGC bench deep page', () => {
  it('starts after 50,000 features, or halfway in whole pages on smaller tables (quick runs)', async () => {
    const { deepPosition } = await import('../../bench/ogc-pages.ts');
    expect(deepPosition(100_481)).toBe(50_000);
    expect(deepPosition(20_481)).toBe(10_000);
    expect(deepPosition(3_500)).toBe(1_000); // bench/ogc.ts refuses fewer than 2,000 rows
  });
});
