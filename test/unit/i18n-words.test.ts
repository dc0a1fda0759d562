import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WORDS, countPhrase } from '../../client/src/i18n.ts';

/**
 * The client's own words come in pairs: every Chinese word has its English one and
 * every English word its Chinese one, and neither side is left in the other language
 * (a word copied untranslated shows up as Chinese on the English map, or the reverse).
 */
const HAN = /\p{Script=Han}/u;
/** The language toggle names the other language; coordinate systems keep their names. */
const SAME_IN_BOTH = new Set(['language', 'crsWgs84', 'crsCgcs2000']);

describe('client words (client/src/i18n.ts)', () => {
  const entries = Object.entries(WORDS) as [string, { zh?: unknown; en?: unknown }][];

  it('every key has a non-empty zh and en word', () => {
    const missing = entries.filter(([, w]) => typeof w.zh !== 'string' || !w.zh.trim() || typeof w.en !== 'string' || !w.en.trim()).map(([k]) => k);
    expect(missing).toEqual([]);
    expect(entries.length).toBeGreaterThan(100);
  });

  it('zh words are Chinese and en words are not', () => {
    const notChinese = entries.filter(([k, w]) => !SAME_IN_BOTH.has(k) && !HAN.test(String(w.zh))).map(([k]) => k);
    const chineseInEnglish = entries.filter(([k, w]) => k !== 'language' && HAN.test(String(w.en))).map(([k]) => k);
    expect(notChinese).toEqual([]);
    expect(chineseInEnglish).toEqual([]);
  });

  it('no word is left untranslated (zh equal to en)', () => {
    expect(entries.filter(([k, w]) => !SAME_IN_BOTH.has(k) && w.zh === w.en).map(([k]) => k)).toEqual([]);
  });
});

describe('bilingual literals elsewhere in the client', () => {
  const root = fileURLToPath(new URL('../../client/src/', import.meta.url));
  const files = fs.readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));

  it('every { zh: "…" } literal has its en: "…" beside it, and vice versa', () => {
    const unpaired: string[] = [];
    let pairs = 0;
    for (const f of files) {
      const text = fs.readFileSync(path.join(root, f), 'utf8');
      // A literal word on either side (not a value read from data, like `zh: p.name_zh`).
      const zh = [...text.matchAll(/\bzh: '[^']*'/g)].length;
      const en = [...text.matchAll(/\ben: '[^']*'/g)].length;
      const paired = [...text.matchAll(/\{\s*zh: '([^']*)',\s*en: '([^']*)'\s*\}/g)];
      pairs += paired.length;
      // (i18n.ts's words are checked above, with their exceptions)
      for (const [, z, e] of paired) if (!z.trim() || !e.trim() || (f !== 'i18n.ts' && HAN.test(e))) unpaired.push(`${f}: ${z} / ${e}`);
      if (zh !== paired.length || en !== paired.length) unpaired.push(`${f}: ${zh} zh and ${en} en literal words, ${paired.length} pairs`);
    }
    expect(unpaired).toEqual([]);
    expect(pairs).toBeGreaterThan(100);
  });
});

describe('counts with their nouns (countPhrase)', () => {
  it('English takes the singular for one and the plural otherwise; Chinese nouns do not change', () => {
    expect(countPhrase(1, 'rows', 'en')).toBe('1 row');
    expect(countPhrase(0, 'rows', 'en')).toBe('0 rows');
    expect(countPhrase(2, 'rows', 'en')).toBe('2 rows');
    expect(countPhrase(12_345, 'rows', 'en')).toBe('12,345 rows');
    expect(countPhrase(1, 'points', 'en')).toBe('1 point');
    expect(countPhrase(1, 'rows', 'zh')).toBe(`1 ${WORDS.rows.zh}`);
    expect(countPhrase(2, 'rows', 'zh')).toBe(`2 ${WORDS.rows.zh}`);
  });

  it('agrees with the number as shown, after rounding', () => {
    expect(countPhrase(1.04, 'rows', 'en', 1)).toBe('1 row');
    expect(countPhrase(1.5, 'rows', 'en', 1)).toBe('1.5 rows');
  });

  it('the client prints no count before a bare plural noun', () => {
    // "${formatNumber(n)} ${t('rows')}" printed "1 rows"; counts go through formatCount.
    const root = fileURLToPath(new URL('../../client/src/', import.meta.url));
    const files = fs.readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const bare = files.flatMap((f) =>
      [...fs.readFileSync(path.join(root, f), 'utf8').matchAll(/formatNumber\([^)]*\)\}? ?\$\{t\('(rows|points)'\)\}/g)].map((m) => `${f}: ${m[0]}`),
    );
    expect(bare).toEqual([]);
  });
});
