import type { LayerDef, LayerProperty } from '../../catalog/layers.ts';
import { valueTitle } from '../../catalog/vocabulary.ts';
import { esc, htmlHref, renderPage, t, type PageLang } from './html.ts';
import { MEDIA, type Link } from './links.ts';

/** The four HTML pages of /ogc, from the same data as their JSON documents. */

interface CollectionSummary {
  id: string;
  titles: { zh: string; en: string };
  descriptions: { zh: string; en: string };
  synthetic: boolean;
  extent?: { spatial?: { bbox: number[][] } };
}

const jsonAlt = (href: string, type: string = MEDIA.json, title = 'JSON'): Link => ({ href, rel: 'alternate', type, title });

export function landingPage(ogc: string, lang: PageLang): string {
  const links: [string, string][] = [
    [t('collections', lang), htmlHref(`${ogc}/collections`, lang)],
    [t('apiDoc', lang), `${ogc}/api?f=html`],
    [t('conformance', lang), htmlHref(`${ogc}/conformance`, lang)],
  ];
  return renderPage({
    lang,
    title: t('api', lang),
    trail: [],
    body: `<ul class="links">${links.map(([l, h]) => `<li><a href="${esc(h)}">${esc(l)}</a></li>`).join('')}</ul>`,
    otherLang: htmlHref(ogc, lang === 'zh' ? 'en' : 'zh'),
    alternates: [jsonAlt(`${ogc}?f=json`)],
  });
}

export function conformancePage(ogc: string, lang: PageLang, classes: readonly string[]): string {
  return renderPage({
    lang,
    title: t('conformance', lang),
    trail: [[t('api', lang), htmlHref(ogc, lang)]],
    body: `<ul class="links">${classes.map((c) => `<li><a href="${esc(c)}">${esc(c)}</a></li>`).join('')}</ul>`,
    otherLang: htmlHref(`${ogc}/conformance`, lang === 'zh' ? 'en' : 'zh'),
    alternates: [jsonAlt(`${ogc}/conformance?f=json`)],
  });
}

export function collectionsPage(ogc: string, lang: PageLang, collections: CollectionSummary[]): string {
  const rows = collections
    .map(
      (c) =>
        `<tr><td><a href="${esc(htmlHref(`${ogc}/collections/${c.id}`, lang))}">${esc(c.titles[lang])}</a></td><td><code>${esc(c.id)}</code></td>` +
        `<td>${esc(c.descriptions[lang])}${c.synthetic ? ` (${esc(t('synthetic', lang))})` : ''}</td>` +
        `<td><a href="${esc(htmlHref(`${ogc}/collections/${c.id}/items`, lang))}">${esc(t('browse', lang))}</a></td></tr>`,
    )
    .join('\n');
  return renderPage({
    lang,
    title: t('collections', lang),
    trail: [[t('api', lang), htmlHref(ogc, lang)]],
    body: `<table class="collections"><tbody>\n${rows}\n</tbody></table>`,
    otherLang: htmlHref(`${ogc}/collections`, lang === 'zh' ? 'en' : 'zh'),
    alternates: [jsonAlt(`${ogc}/collections?f=json`)],
  });
}

export function collectionPage(ogc: string, lang: PageLang, c: CollectionSummary): string {
  const self = `${ogc}/collections/${c.id}`;
  const bbox = c.extent?.spatial?.bbox[0];
  const body = [
    `<p>${esc(c.descriptions[lang])}${c.synthetic ? ` (${esc(t('synthetic', lang))})` : ''}</p>`,
    bbox ? `<p>${esc(t('extent', lang))}: ${bbox.map((n) => n.toFixed(4)).join(', ')}</p>` : '',
    `<ul class="links"><li><a href="${esc(htmlHref(`${self}/items`, lang))}">${esc(t('browse', lang))}</a></li>`,
    `<li><a href="${esc(`${self}/queryables`)}">${esc(t('queryables', lang))}</a></li></ul>`,
  ].join('\n');
  return renderPage({
    lang,
    title: c.titles[lang],
    trail: [
      [t('api', lang), htmlHref(ogc, lang)],
      [t('collections', lang), htmlHref(`${ogc}/collections`, lang)],
    ],
    body,
    otherLang: htmlHref(self, lang === 'zh' ? 'en' : 'zh'),
    alternates: [jsonAlt(`${self}?f=json`), jsonAlt(`${self}/items`, MEDIA.geojson, 'GeoJSON'), jsonAlt(`${self}/items?f=csv`, MEDIA.csv, 'CSV')],
  });
}

interface PageFeature {
  id: string | number;
  properties: Record<string, unknown>;
}

export interface ItemsPageInput {
  ogc: string;
  lang: PageLang;
  layer: LayerDef;
  properties: readonly LayerProperty[];
  features: PageFeature[];
  numberMatched?: number;
  links: Link[];
  /** This page as GeoJSON, for the map. */
  geojsonUrl: string;
  /** This page in the other language. */
  otherLang: string;
  /** The page of one feature, for the id cell's link (none on the feature's own page). */
  featureHref?: (id: string | number) => string;
}

function cellText(prop: LayerProperty, value: unknown, lang: PageLang): string {
  if (value === null || value === undefined) return '';
  if (prop.enum && typeof value === 'string') return valueTitle(value)[lang] ?? value;
  if (typeof value === 'boolean') return value ? (lang === 'zh' ? '是' : 'yes') : lang === 'zh' ? '否' : 'no';
  return String(value);
}

export function itemsPage(o: ItemsPageInput): string {
  const { lang, layer } = o;
  const head = `<tr><th>id</th>${o.properties.map((p) => `<th title="${esc(p.name)}">${esc(p.title[lang])}</th>`).join('')}</tr>`;
  const rows = o.features
    .map((f) => `<tr data-id="${esc(f.id)}"><td>${o.featureHref ? `<a href="${esc(o.featureHref(f.id))}">${esc(f.id)}</a>` : esc(f.id)}</td>${o.properties.map((p) => `<td>${esc(cellText(p, f.properties[p.name], lang))}</td>`).join('')}</tr>`)
    .join('\n');
  const paging = (['prev', 'next'] as const)
    .map((rel) => o.links.find((l) => l.rel === rel))
    .filter((l): l is Link => l !== undefined)
    .map((l) => `<a rel="${l.rel}" href="${esc(l.href)}">${esc(t(l.rel as 'prev' | 'next', lang))}</a>`)
    .join(' ');
  const count =
    (o.numberMatched !== undefined ? `${o.numberMatched} ${esc(t('matched', lang))} · ` : '') + `${o.features.length} ${esc(t('returned', lang))}`;
  const body = [
    `<div id="ogc-map" class="ogc-map" data-src="${esc(o.geojsonUrl)}" role="img" aria-label="${esc(layer.title[lang])}"></div>`,
    `<p class="count">${count}</p>`,
    `<nav class="paging">${paging}</nav>`,
    `<table class="items"><thead>${head}</thead><tbody>\n${rows}\n</tbody></table>`,
    `<nav class="paging">${paging}</nav>`,
  ].join('\n');
  return renderPage({
    lang,
    title: `${layer.title[lang]} – ${t('items', lang)}`,
    trail: [
      [t('api', lang), htmlHref(o.ogc, lang)],
      [t('collections', lang), htmlHref(`${o.ogc}/collections`, lang)],
      [layer.title[lang], htmlHref(`${o.ogc}/collections/${layer.id}`, lang)],
    ],
    body,
    otherLang: o.otherLang,
    alternates: [jsonAlt(o.geojsonUrl, MEDIA.geojson, 'GeoJSON')],
    script: true,
  });
}
