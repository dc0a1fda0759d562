import { describe, expect, it } from 'vitest';
import { parseLsn } from '../../server/db/lsn.ts';

describe('WAL positions', () => {
  it('compare as 64-bit numbers, not as text', () => {
    expect(parseLsn('0/3000148')).toBe(0x3000148n);
    expect(parseLsn('16/B374D848')).toBe((0x16n << 32n) | 0xb374d848n);
    // as text '0/A0' < '0/9F' would be false the other way round
    expect(parseLsn('0/A0')! > parseLsn('0/9F')!).toBe(true);
    expect(parseLsn('1/0')! > parseLsn('0/FFFFFFFF')!).toBe(true);
    expect(parseLsn('16/b374d848')).toBe(parseLsn('16/B374D848'));
  });

  it.each(['', '0', '0/', '/1', '0/123456789', 'x/1', '0/1 ', '-1/1', '0x1/1'])('refuses %j', (text) => {
    expect(parseLsn(text)).toBeNull();
  });
});
