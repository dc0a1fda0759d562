import fs from 'node:fs';
import path from 'node:path';
import type { Request, Response } from 'express';
import { CLIENT_CSP, CLIENT_DIST } from '../routes/client.ts';
import { MEDIA, type Link } from './links.ts';

/**
 * HTML pages of the OGC API (Part 1 "HTML" conformance class): landing page,
 * collections, one collection and items, in Chinese or English, so a planner
 * can browse the data in a browser without QGIS. Pages are rendered here from
 * the same documents the JSON answers carry; every text is escaped. The items
 * page's map is a small OpenLayers script from the client bundle (entry
 * client/src/ogc-page.ts): no inline script, nothing from other origins, so it
 * passes the client's Content-Security-Policy.
 */

export type PageLang = 'zh' | 'en';

/** `f=html`, or no `f` and a browser whose Accept prefers HTML over JSON. */
export function wantsHtml(req: Request, f: string | undefined): boolean {
  if (f !== undefined) return f === 'html';
  return req.accepts([MEDIA.json, MEDIA.geojson, MEDIA.html]) === MEDIA.html;
}

/** `lang=` when given, else the browser's Accept-Language (Chinese by default). */
export function pageLang(req: Request, lang: string | undefined): PageLang {
  if (lang === 'en' || lang === 'zh') return lang;
  return req.acceptsLanguages('zh', 'en') === 'en' ? 'en' : 'zh';
}

export const esc = (s: unknown) =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const T = {
  api: { zh: '一张图 OGC API – Features', en: 'One map OGC API – Features' },
  collections: { zh: '图层', en: 'Collections' },
  items: { zh: '要素', en: 'Features' },
  next: { zh: '下一页', en: 'Next page' },
  prev: { zh: '上一页', en: 'Previous page' },
  matched: { zh: '符合条件', en: 'matching' },
  returned: { zh: '本页', en: 'on this page' },
  other: { zh: 'English', en: '中文' },
  json: { zh: 'JSON', en: 'JSON' },
  apiDoc: { zh: 'API 文档', en: 'API documentation' },
  conformance: { zh: '符合性声明', en: 'Conformance' },
  queryables: { zh: '可筛选属性', en: 'Queryables' },
  extent: { zh: '范围', en: 'Extent' },
  browse: { zh: '浏览要素', en: 'Browse features' },
  synthetic: { zh: '合成演示数据', en: 'synthetic demo data' },
} as const;

export const t = (key: keyof typeof T, lang: PageLang) => T[key][lang];

interface Manifest {
  [entry: string]: { file: string; css?: string[]; imports?: string[] };
}

/** CSS files of a manifest entry and of the chunks it imports (OpenLayers' CSS sits in a shared chunk). */
function cssOf(manifest: Manifest, key: string, seen = new Set<string>()): string[] {
  if (seen.has(key) || !manifest[key]) return [];
  seen.add(key);
  return [...(manifest[key].css ?? []), ...(manifest[key].imports ?? []).flatMap((k) => cssOf(manifest, k, seen))];
}
let manifestCache: { mtime: number; entry?: { file: string; css: string[] } } | undefined;

/** The built page script and its CSS (Vite manifest), or undefined when the client is not built. */
function pageAssets(): { file: string; css: string[] } | undefined {
  const file = path.join(CLIENT_DIST, '.vite', 'manifest.json');
  const st = fs.statSync(file, { throwIfNoEntry: false });
  if (!st) return undefined;
  if (!manifestCache || manifestCache.mtime !== st.mtimeMs) {
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest;
    const entry = manifest['src/ogc-page.ts'];
    manifestCache = { mtime: st.mtimeMs, entry: entry ? { file: entry.file, css: [...new Set(cssOf(manifest, 'src/ogc-page.ts'))] } : undefined };
  }
  return manifestCache.entry;
}

/** `url` with `f=html` and `lang` set (links between pages stay in HTML and the same language). */
export function htmlHref(url: string, lang: PageLang, extra: Record<string, string> = {}): string {
  const u = new URL(url);
  u.searchParams.set('f', 'html');
  u.searchParams.set('lang', lang);
  for (const [k, v] of Object.entries(extra)) u.searchParams.set(k, v);
  return u.toString();
}

export interface PageOptions {
  lang: PageLang;
  title: string;
  /** Trail of [label, href] from the landing page to this page. */
  trail: [string, string][];
  body: string;
  /** The same page in the other language. */
  otherLang: string;
  /** Alternate representations (JSON, GeoJSON, CSV). */
  alternates: Link[];
  /** Load the page script (the items map). */
  script?: boolean;
}

export function renderPage(o: PageOptions): string {
  const assets = o.script ? pageAssets() : undefined;
  const crumbs = o.trail.map(([label, href]) => `<a href="${esc(href)}">${esc(label)}</a>`).join(' › ');
  const alternates = o.alternates.map((l) => `<a href="${esc(l.href)}" type="${esc(l.type)}">${esc(l.title ?? l.type)}</a>`).join(' · ');
  return `<!doctype html>
<html lang="${o.lang === 'zh' ? 'zh-CN' : 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(o.title)}</title>
<link rel="icon" href="data:,">
${(assets?.css ?? []).map((c) => `<link rel="stylesheet" href="/${esc(c)}">`).join('\n')}
</head>
<body class="ogc-page">
<header><nav class="trail">${crumbs}</nav><a class="lang" href="${esc(o.otherLang)}" hreflang="${o.lang === 'zh' ? 'en' : 'zh'}">${esc(t('other', o.lang))}</a></header>
<main>
<h1>${esc(o.title)}</h1>
${o.body}
<p class="alternates">${alternates}</p>
</main>
${assets ? `<script type="module" src="/${esc(assets.file)}"></script>` : ''}
</body>
</html>`;
}

/** Sends a page with the client's security headers. */
export function sendPage(res: Response, html: string): void {
  res.set({
    'Content-Security-Policy': CLIENT_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
    Vary: 'Accept, Accept-Language',
  });
  res.type('text/html; charset=utf-8').send(html);
}
