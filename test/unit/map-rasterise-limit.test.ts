import { describe, expect, it } from 'vitest';
import { rasterise } from '../../server/maps/render.ts';
import { HttpProblem } from '../../server/http/problem.ts';

/**
 * The rasteriser of static maps stops at its time limit (no database: runs once, in the
 * unit project, not on both backends).
 */
describe('rasterising is bounded', () => {
  it('stops past its time limit and answers 422 Request too costly instead of running on', async () => {
    // No map contains a filter; this picture is simply one that takes long (~20 s here without a limit).
    const n = 3000;
    const circles = Array.from(
      { length: 3000 },
      (_, i) => `<circle cx="${(i * 37) % n}" cy="${(i * 91) % n}" r="${200 + (i % 300)}" fill="#${((i * 4099) % 0xffffff).toString(16).padStart(6, '0')}" fill-opacity="0.3"/>`,
    ).join('');
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${n}" height="${n}"><defs><filter id="b"><feGaussianBlur stdDeviation="40"/></filter></defs><g filter="url(#b)">${circles}</g></svg>`;
    const err = await rasterise(svg, 'png', 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpProblem);
    expect(err).toMatchObject({ status: 422, title: 'Request too costly' });
  }, 120_000);
});
