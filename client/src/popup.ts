import Overlay from 'ol/Overlay.js';
import type OlMap from 'ol/Map.js';
import type { FeatureLike } from 'ol/Feature.js';
import type { Layer } from 'ol/layer.js';
import type { Coordinate } from 'ol/coordinate.js';
import { fetchJson, type GeoJsonFeature, type LayerInfo, type LayerProperty } from './api.ts';
import { formatCount, formatNumber, lang, onLang, pick, t } from './i18n.ts';
import { RISK_LEVELS, riskLevelColor } from './risk.ts';
import { escapeHtml } from './dom.ts';

/**
 * Click a feature → a popup with its fields, titled and valued in the current
 * language from the catalogue. Up to three features under the pointer are shown
 * (points can sit on one another). A cluster shows its counts per risk level.
 */
interface Picked {
  info: LayerInfo;
  id: string | number | undefined;
  props: Record<string, unknown>;
  cluster: boolean;
  /** Live features carry only what the event said: the rest is fetched. */
  partial: boolean;
}

const NAME_FIELDS = new Set(['name_zh', 'name_en', 'synthetic']);

export function formatValue(prop: LayerProperty | undefined, value: unknown): string {
  if (value === null || value === undefined || value === '') return '';
  if (prop?.enumTitles && typeof value === 'string' && prop.enumTitles[value]) return pick(prop.enumTitles[value]);
  if (typeof value === 'boolean' || prop?.type === 'boolean') return value === true || value === 'true' ? t('yes') : t('no');
  if (typeof value === 'number') return formatNumber(value, prop?.type === 'integer' ? 0 : 2);
  return String(value);
}

function featureName(p: Picked): string {
  const zh = p.props.name_zh as string | undefined;
  const en = p.props.name_en as string | undefined;
  return (lang() === 'en' ? en || zh : zh || en) ?? (p.id !== undefined ? `#${p.id}` : '');
}

function sectionHtml(p: Picked, extra: PopupExtras | null): string {
  const title = pick(p.info.title);
  if (p.cluster) {
    const count = Number(p.props.point_count) || 0;
    const levels = RISK_LEVELS.filter((l) => Number(p.props[l]) > 0)
      .map((l) => {
        const prop = p.info.properties.find((q) => q.name === 'level');
        return `<li><span class="swatch" style="background:${riskLevelColor(p.info, l)}"></span>${escapeHtml(formatValue(prop, l))}: ${formatNumber(Number(p.props[l]))}</li>`;
      })
      .join('');
    return `<section class="popup-feature" data-layer="${p.info.id}"><h3><small>${escapeHtml(title)} · ${t('cluster')}</small>${formatCount(count, 'points')}</h3>
      ${levels ? `<ul class="levels">${levels}</ul>` : ''}<button type="button" class="link" data-action="zoom">${t('zoomIn')}</button></section>`;
  }
  const rows = p.info.properties
    .filter((prop) => !NAME_FIELDS.has(prop.name))
    .map((prop) => [prop, formatValue(prop, p.props[prop.name])] as const)
    .filter(([, v]) => v !== '')
    .map(([prop, v]) => `<tr><th>${escapeHtml(pick(prop.title))}</th><td>${escapeHtml(v)}</td></tr>`)
    .join('');
  const synthetic = p.props.synthetic === true || p.props.synthetic === 'true';
  return `<section class="popup-feature" data-layer="${p.info.id}" data-id="${escapeHtml(String(p.id ?? ''))}">
    <h3><small>${escapeHtml(title)}</small>${escapeHtml(featureName(p))}</h3>
    ${synthetic ? `<p class="synthetic-note">${t('syntheticFeature')}</p>` : ''}
    ${rows ? `<table>${rows}</table>` : p.partial ? `<p class="muted">${t('loading')}</p>` : ''}${extra && p.id !== undefined ? extra.html(p.info, p.id) : ''}</section>`;
}

/** More a planner can do with a feature (edit, history, check-ins): its buttons, and what they do. */
export interface PopupExtras {
  html(info: LayerInfo, id: string | number): string;
  /** A click on an element with `data-extra` inside a feature's section. */
  onAction(action: string, info: LayerInfo, id: string | number, section: HTMLElement): void;
  /** The popup opens on a new click: state kept across its redraws starts afresh. */
  onOpen?(): void;
}

export class Popup {
  private readonly overlay: Overlay;
  private readonly element: HTMLElement;
  private picked: Picked[] = [];
  private at: Coordinate | null = null;
  /** Set while a tool (drawing) owns map clicks. */
  suspended = false;
  extras: PopupExtras | null = null;

  constructor(
    private readonly map: OlMap,
    private readonly layerOf: (olLayer: Layer, feature: FeatureLike) => LayerInfo | undefined,
  ) {
    this.element = document.createElement('div');
    this.element.className = 'popup';
    this.element.setAttribute('role', 'dialog');
    this.overlay = new Overlay({ element: this.element, autoPan: { animation: { duration: 200 } }, positioning: 'bottom-center', offset: [0, -12], stopEvent: true });
    map.addOverlay(this.overlay);
    map.on('singleclick', (e) => {
      if (!this.suspended) this.openAt(e.pixel, e.coordinate);
    });
    map.on('pointermove', (e) => {
      if (e.dragging) return;
      const hit = map.hasFeatureAtPixel(e.pixel, { hitTolerance: 4, layerFilter: (l) => Boolean(l.get('layerId') || l.get('role') === 'live') });
      map.getTargetElement()!.style.cursor = hit && !this.suspended ? 'pointer' : '';
    });
    this.element.addEventListener('click', (e) => {
      const extra = (e.target as HTMLElement).closest<HTMLElement>('[data-extra]');
      const section = extra?.closest<HTMLElement>('.popup-feature');
      const picked = section ? this.picked.find((p) => p.info.id === section.dataset.layer && String(p.id) === section.dataset.id) : undefined;
      if (extra && section && picked && this.extras) {
        this.extras.onAction(extra.dataset.extra!, picked.info, picked.id!, section);
        return;
      }
      const action = (e.target as HTMLElement).closest('[data-action]')?.getAttribute('data-action');
      if (action === 'close') this.close();
      if (action === 'zoom' && this.at) {
        const view = map.getView();
        view.animate({ center: this.at, zoom: (view.getZoom() ?? 10) + 2, duration: 300 });
        this.close();
      }
    });
    onLang(() => this.render());
  }

  openAt(pixel: number[], coordinate: Coordinate): void {
    const picked: Picked[] = [];
    this.map.forEachFeatureAtPixel(
      pixel,
      (feature, olLayer) => {
        const info = this.layerOf(olLayer as Layer, feature);
        if (!info || picked.length >= 3) return picked.length >= 3;
        const props = { ...feature.getProperties() };
        delete props.geometry;
        const id = feature.getId() ?? (props.id as string | number | undefined);
        if (picked.some((p) => p.info.id === info.id && p.id !== undefined && p.id === id)) return false;
        picked.push({ info, id, props, cluster: Boolean(props.cluster), partial: olLayer.get('role') === 'live' });
        return false;
      },
      { hitTolerance: 4, layerFilter: (l) => Boolean(l.get('layerId') || l.get('role') === 'live') },
    );
    if (!picked.length) return this.close();
    this.picked = picked;
    this.at = coordinate;
    this.extras?.onOpen?.();
    this.render();
    this.overlay.setPosition(coordinate);
    for (const p of picked) if (p.partial && typeof p.id === 'number') void this.complete(p);
  }

  private async complete(p: Picked): Promise<void> {
    try {
      const f = await fetchJson<GeoJsonFeature>(`/ogc/collections/${encodeURIComponent(p.info.id)}/items/${encodeURIComponent(String(p.id))}`, {
        headers: { Accept: 'application/geo+json' },
      });
      p.props = { ...p.props, ...f.properties };
    } catch {
      /* keep what the live event said */
    }
    p.partial = false;
    if (this.picked.includes(p)) this.render();
  }

  private render(): void {
    if (!this.picked.length) return;
    this.element.innerHTML = `<button type="button" class="popup-close" data-action="close" aria-label="${t('close')}">×</button>${this.picked.map((p) => sectionHtml(p, this.extras)).join('')}`;
  }

  close(): void {
    this.picked = [];
    this.at = null;
    this.overlay.setPosition(undefined);
  }
}
