/**
 * The generator on its own, without a database: deterministic output, exact
 * apportioning, and the outline repair.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { repairMultiPolygon } from '../../data/boundaries.ts';
import { DEMO_SEED, generateDemoData, lecLevel } from '../../data/generate.ts';
import { Random, apportion } from '../../data/random.ts';
import { expectGolden } from '../helpers/golden.ts';

/** SHA-256 of each part of the demo data, as JSON. */
const digests = (data: object): Record<string, string> =>
  Object.fromEntries(Object.entries(data).map(([part, rows]) => [part, createHash('sha256').update(JSON.stringify(rows)).digest('hex')]));

describe('generateDemoData', () => {
  it('gives identical JSON on every run with the same seed, and different points with another seed', () => {
    // Every run and machine: the digest of each part of the demo data is the stored one
    // (REGEN=1 rewrites it when the generator changes on purpose).
    const demo = digests(generateDemoData(DEMO_SEED));
    expectGolden('data/demo-digest.json', demo);
    const other = digests(generateDemoData(DEMO_SEED + 1));
    expect(other.shelters).not.toBe(demo.shelters);
    // The real outlines do not depend on the seed.
    expect(other.districts).toBe(demo.districts);
  }, 60_000);

  it('draws no randomness or time from outside the seed', () => {
    for (const file of ['generate.ts', 'geometry.ts', 'random.ts', 'boundaries.ts', 'districts.ts', 'plan.ts']) {
      const source = fs.readFileSync(new URL(`../../data/${file}`, import.meta.url), 'utf8');
      const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      expect(code, file).not.toMatch(/Math\.random|Date\.now|performance\.now|new Date\(\)/);
    }
  });
});

describe('apportion', () => {
  it('splits a total exactly, in proportion, with a minimum per part', () => {
    const parts = apportion(1_107_200, [0.5, 3, 1e-9, 7, 0.25]);
    expect(parts.reduce((s, p) => s + p, 0)).toBe(1_107_200);
    expect(parts[3]).toBeGreaterThan(parts[1]);
    const withMin = apportion(2_320, [1, 1, 30], 12);
    expect(withMin.reduce((s, p) => s + p, 0)).toBe(2_320);
    expect(Math.min(...withMin)).toBeGreaterThanOrEqual(12);
    expect(() => apportion(10, [1, 1], 6)).toThrow(/below/);
  });
});

describe('Random', () => {
  it('is reproducible per purpose and independent across purposes', () => {
    const a = Random.for(1, 'x');
    const b = Random.for(1, 'x');
    const c = Random.for(1, 'y');
    const seqA = [a.float(), a.float(), a.float()];
    expect([b.float(), b.float(), b.float()]).toEqual(seqA);
    expect([c.float(), c.float(), c.float()]).not.toEqual(seqA);
  });
});

describe('lecLevel', () => {
  it('grades D = L·E·C into the four colours', () => {
    expect([400, 240, 90, 20].map(lecLevel)).toEqual(['red', 'orange', 'yellow', 'blue']);
  });
});

describe('repairMultiPolygon', () => {
  it('splits a self-intersecting (bow-tie) ring into valid parts with the same area', () => {
    const bowtie = {
      type: 'Polygon' as const,
      coordinates: [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]],
    };
    const fixed = repairMultiPolygon(bowtie);
    expect(fixed.type).toBe('MultiPolygon');
    expect(fixed.coordinates).toHaveLength(2);
    const shoelace = (r: number[][]) => r.slice(0, -1).reduce((s, p, i) => s + p[0] * r[i + 1][1] - r[i + 1][0] * p[1], 0) / 2;
    // Both triangles: counter-clockwise exteriors (RFC 7946), 0.25 each.
    for (const poly of fixed.coordinates) expect(shoelace(poly[0])).toBeCloseTo(0.25, 9);
  });

  it('drops repeated vertices, closes rings and orients exteriors counter-clockwise', () => {
    const clockwise = { type: 'Polygon' as const, coordinates: [[[0, 0], [0, 1], [0, 1], [1, 1], [1, 0]]] };
    const fixed = repairMultiPolygon(clockwise);
    const ring = fixed.coordinates[0][0];
    expect(ring).toHaveLength(5);
    expect(ring[0]).toEqual(ring[4]);
    const area = ring.slice(0, -1).reduce((s, p, i) => s + p[0] * ring[i + 1][1] - ring[i + 1][0] * p[1], 0) / 2;
    expect(area).toBeGreaterThan(0);
  });
});
