import { execFile } from 'node:child_process';
import type { Logger } from '../log.ts';

/**
 * Chinese labels need a CJK font on the server: sharp's librsvg finds system fonts
 * through fontconfig, and without one every Chinese character renders as a box.
 * We look once per process (fontconfig's `fc-list :lang=zh`), name the font we
 * found first in every `font-family`, and warn once when there is none; the
 * image still renders.
 */
export interface MapFonts {
  /** The CJK family found, e.g. "Noto Sans CJK SC"; null when none is installed. */
  cjkFamily: string | null;
  /** Value for SVG `font-family`: the CJK family first, then generic fallbacks. */
  fontFamily: string;
}

/** Runs `fc-list :lang=zh family` and resolves its stdout ('' when fontconfig is missing). */
export type FontLister = () => Promise<string>;

const listChineseFonts: FontLister = () =>
  new Promise((resolve) => {
    execFile('fc-list', [':lang=zh', 'family'], { timeout: 5000 }, (err, stdout) => resolve(err ? '' : stdout));
  });

/** Simplified-Chinese sans faces first; any other CJK face is better than none. */
const PREFERENCE = [/^Noto Sans CJK SC$/, /Sans CJK SC/, /Source Han Sans (SC|CN)/, /WenQuanYi (Zen Hei|Micro Hei)/, /Sans.*(SC|CN)/, /Sans/];

export function pickCjkFamily(fcListOutput: string): string | null {
  const families = fcListOutput
    .split('\n')
    .map((line) => line.split(',')[0].trim())
    .filter((f) => f.length > 0 && !/Mono/.test(f));
  const all = [...new Set(families)].sort();
  for (const pattern of PREFERENCE) {
    const hit = all.find((f) => pattern.test(f));
    if (hit) return hit;
  }
  return all[0] ?? null;
}

export function fontFamilyFor(cjkFamily: string | null): string {
  return cjkFamily ? `'${cjkFamily.replace(/'/g, '')}', 'Noto Sans', 'DejaVu Sans', sans-serif` : `'Noto Sans', 'DejaVu Sans', sans-serif`;
}

export async function detectFonts(log: Logger, list: FontLister = listChineseFonts): Promise<MapFonts> {
  const cjkFamily = pickCjkFamily(await list());
  if (cjkFamily) log.debug(`static maps: Chinese labels use the font "${cjkFamily}"`);
  else log.warn('static maps: no Chinese (CJK) font found by fontconfig (fc-list :lang=zh); Chinese labels will render as boxes. On Debian: apt-get install -y fonts-noto-cjk');
  return { cjkFamily, fontFamily: fontFamilyFor(cjkFamily) };
}

let detected: Promise<MapFonts> | undefined;

/** The fonts of this machine, detected on first use and remembered (so the warning is logged once). */
export function mapFonts(log: Logger): Promise<MapFonts> {
  detected ??= detectFonts(log);
  return detected;
}
