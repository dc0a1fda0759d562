/** The golden-file rule itself: a missing file fails unless REGEN=1 (which writes it). */
import { describe, expect, it } from 'vitest';
import { REGEN, expectGolden, goldenBytes } from '../helpers/golden.ts';

describe.skipIf(REGEN)('golden files', () => {
  it('a missing golden file fails and is not written', () => {
    let produced = false;
    expect(() => goldenBytes('no-such-dir/none.json', () => ((produced = true), '{}'))).toThrow(/missing: run the test with REGEN=1/);
    expect(produced).toBe(false);
    expect(() => expectGolden('no-such-dir/none.json', { a: 1 })).toThrow(/missing/);
  });

  it('an existing golden file is compared, and a difference fails', () => {
    const stored = goldenBytes('risk/exposure-huadu.json', () => '');
    expect(stored).toBeInstanceOf(Buffer);
    expect(() => expectGolden('risk/exposure-huadu.json', { different: true })).toThrow();
  });
});
