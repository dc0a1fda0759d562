/**
 * The one spelling of numbers accepted from paths, query strings and headers.
 *
 * `Number()` reads far more than decimals: `0x10` is 16, `0b11` is 3, `+1`,
 * `" 1"` and `1e3` are numbers too. A shelter id `0x10` would check people into
 * shelter 16, and `radius=0x10` would mean 16 m. Every parser of text into
 * numbers goes through these two patterns, so each value has exactly one
 * spelling (also one cache key): an optional minus, no leading zeros, no plus,
 * no blanks, no other bases. Fractions may carry an exponent (GDAL writes
 * bbox numbers with up to 18 significant digits); integers may not.
 */
export const CANONICAL_INTEGER = /^-?(0|[1-9][0-9]*)$/;
export const CANONICAL_NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/;
/** Positive ids (database serials): 1 to 18 digits, no leading zero. */
export const CANONICAL_ID = /^[1-9][0-9]{0,17}$/;

/** A canonical decimal integer within the safe range, else undefined. */
export function parseCanonicalInteger(raw: string): number | undefined {
  if (!CANONICAL_INTEGER.test(raw)) return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A canonical finite decimal number, else undefined. */
export function parseCanonicalNumber(raw: string): number | undefined {
  if (!CANONICAL_NUMBER.test(raw)) return undefined;
  const n = Number(raw);
  return Number.isFinite(n) ? n : undefined;
}
