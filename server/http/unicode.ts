import { isUtf8 } from 'node:buffer';
import { badRequest, HttpProblem } from './problem.ts';
import { answerProblem, type EdgeHook } from './edge.ts';

/**
 * Ill-formed Unicode is refused at input, the same way everywhere: 400 naming
 * where it was. Without this, a lone surrogate ("\ud800") reached PostgreSQL,
 * which refused it as JSON (a 422 quoting the database) or stored it in a text
 * column; and percent-encoded bytes that are not UTF-8 were silently replaced
 * by U+FFFD in query strings.
 */
export const WELL_FORMED = 'well-formed Unicode text (UTF-8, no lone surrogates)';

/** Edge hook: the percent-encoded bytes of the path and query must be UTF-8. */
export const urlUnicodeHook: EdgeHook = (req, res) => {
  const url = req.url ?? '';
  if (!url.includes('%')) return false;
  const bytes = percentDecode(url);
  if (bytes && isUtf8(bytes)) return false;
  const where = url.indexOf('?');
  const name = where >= 0 && url.indexOf('%') > where ? 'query' : 'path';
  return answerProblem(req, res, new HttpProblem(400, 'Invalid request', `${name}: ${WELL_FORMED}`, [{ name, reason: WELL_FORMED }]));
};

/** The bytes a percent-encoded URL stands for; null when an escape is malformed. */
function percentDecode(url: string): Buffer | null {
  const out: number[] = [];
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c !== 0x25) {
      out.push(c & 0xff);
      continue;
    }
    const hex = url.slice(i + 1, i + 3);
    if (!/^[0-9a-fA-F]{2}$/.test(hex)) return null;
    out.push(parseInt(hex, 16));
    i += 2;
  }
  return Buffer.from(out);
}

// In a /u regex a surrogate class matches only unpaired surrogates (pairs are one code point).
const LONE_SURROGATE = /\p{Surrogate}/u;
export const wellFormed = (s: string) => !LONE_SURROGATE.test(s);

/** The path (e.g. `properties.name_zh`) of the first ill-formed string in a parsed JSON value, or null. */
export function illFormedAt(value: unknown, path: string[] = []): string[] | null {
  if (typeof value === 'string') return wellFormed(value) ? null : path;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = illFormedAt(value[i], [...path, String(i)]);
      if (p) return p;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (!wellFormed(k)) return [...path, k];
      const p = illFormedAt(v, [...path, k]);
      if (p) return p;
    }
  }
  return null;
}

/** Throws the 400 when a parsed body holds ill-formed text. */
export function assertWellFormed(value: unknown, where = 'body'): void {
  const at = illFormedAt(value);
  if (at) throw badRequest(at.length ? at.join('.') : where, WELL_FORMED);
}

/** `verify` for the body parsers: the raw bytes must be UTF-8. */
export function verifyUtf8(_req: unknown, _res: unknown, buf: Buffer): void {
  if (!isUtf8(buf)) throw badRequest('body', WELL_FORMED);
}
