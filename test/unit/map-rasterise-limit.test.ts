import { describe, expect, it } from 'vitest';
import { rasterise, stoppedByTimeout } from '../../server/maps/render.ts';
import { HttpProblem } from '../../server/http/problem.ts';

/**
 * The rasteriser of static maps stops at its time limit (no database: runs once, in the
 * unit project, not on both backends).
 */
describe('rasterising is bounded', () => {
  it('stops past its time limit and answers 422 Request too costly instead of running on', async () => {
    // A picture that takes long to rasterise: ~7 s here without a limit. Plain shapes, no
    // filter: librsvg draws them strip by strip and libvips checks the limit between strips,
    // so it stops soon after 1 s (a blur over the whole picture is one step it cannot
    // interrupt, and took 3–13 s of CPU to stop).
    const n = 8000;
    const circles = Array.from(
      { length: 8000 },
      (_, i) => `<circle cx="${(i * 37) % n}" cy="${(i * 91) % n}" r="${200 + (i % 300)}" fill="#${((i * 4099) % 0xffffff).toString(16).padStart(6, '0')}" fill-opacity="0.3"/>`,
    ).join('');
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${n}" height="${n}">${circles}</svg>`;
    const err = await rasterise(svg, 'png', undefined, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpProblem);
    expect(err).toMatchObject({ status: 422, title: 'Request too costly' });
  }, 120_000);

  it('counts a failure at or past the limit as the limit, whatever stage libvips was in', () => {
    // Stopped while reading the SVG …
    expect(stoppedByTimeout('VipsImage: timeout', 1000, 1)).toBe(true);
    // … or while the PNG encoder was writing (seen under load: a 500 before this rule).
    expect(stoppedByTimeout('vips2png: unable to write to target target', 1004, 1)).toBe(true);
    // A failure before the limit is a failure of its own.
    expect(stoppedByTimeout('vips2png: unable to write to target target', 400, 1)).toBe(false);
    expect(stoppedByTimeout('Input file has corrupt header', 10, 2)).toBe(false);
  });
});
