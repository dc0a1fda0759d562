import type { LayerInfo } from './api.ts';
import { pick, t } from './i18n.ts';
import { escapeHtml } from './dom.ts';
import { clusterSvg, shapeOf, symbolFor, symbolSvg } from './symbols.ts';
import { RISK_LEVELS, riskLevelColor } from './risk.ts';
import type { Theme } from './theme.ts';

/**
 * The layer switcher and legend, generated from the catalogue: one section per
 * layer with its symbol(s), titles in the current language and a tag when its
 * data is synthetic. Planners get checkboxes; the wall shows the legend of the
 * layers that are on, without controls.
 */
export interface LayerPanelOptions {
  switchable: boolean;
  isOn(id: string): boolean;
  onToggle?(id: string, on: boolean): void;
  /** Zoom-dependent note: whether the layer is drawn at the current zoom. */
  inRange?(id: string): boolean;
}

function entriesHtml(info: LayerInfo, theme: Theme): string {
  const items: string[] = [];
  if (info.style.by) {
    for (const entry of info.legend) {
      items.push(`<li data-value="${escapeHtml(entry.value ?? '')}">${symbolSvg(symbolFor(info, entry.value, theme, { capacity: 2000 }))}<span>${escapeHtml(pick(entry.title))}</span></li>`);
    }
  }
  if (info.cluster && info.properties.some((p) => p.name === 'level')) {
    const ring = riskLevelColor(info, RISK_LEVELS[0]);
    items.push(`<li class="note">${clusterSvg(ring, theme, shapeOf(null, info.id))}<span>${t('clusterLegend')}</span></li>`);
  }
  if (info.id === 'shelters') items.push(`<li class="note"><span>${t('shelterSize')}</span></li>`);
  if (info.geometry === 'polygon' && info.synthetic && (info.style.fillOpacity ?? 0) === 0) {
    items.push(`<li class="note">${symbolSvg(symbolFor(info, null, theme, { synthetic: true }))}<span>${t('syntheticOutline')}</span></li>`);
  }
  return items.length ? `<ul class="legend-entries">${items.join('')}</ul>` : '';
}

export function renderLayerPanel(container: HTMLElement, catalogue: LayerInfo[], theme: Theme, opts: LayerPanelOptions): void {
  const sections = catalogue
    .filter((info) => opts.switchable || opts.isOn(info.id))
    .map((info) => {
      const on = opts.isOn(info.id);
      const single = symbolSvg(symbolFor(info, null, theme, { synthetic: info.synthetic && info.geometry === 'polygon', capacity: 2000 }));
      const tags = [
        info.synthetic ? `<span class="tag synthetic" title="${escapeHtml(t('syntheticBadge'))}">${t('synthetic')}</span>` : '',
        info.access === 'restricted' ? `<span class="tag restricted">${t('restricted')}</span>` : '',
      ].join('');
      const head = opts.switchable
        ? `<label class="layer-toggle" title="${escapeHtml(pick(info.description))}"><input type="checkbox" data-layer-toggle="${info.id}"${on ? ' checked' : ''}><span class="symbol">${single}</span><span class="title">${escapeHtml(pick(info.title))}</span>${tags}</label>`
        : `<div class="layer-toggle"><span class="symbol">${single}</span><span class="title">${escapeHtml(pick(info.title))}</span>${tags}</div>`;
      const dim = opts.inRange && !opts.inRange(info.id) ? ' out-of-range' : '';
      return `<section class="legend-layer${on ? '' : ' off'}${dim}" data-legend-layer="${info.id}">${head}${entriesHtml(info, theme)}</section>`;
    });
  container.innerHTML = sections.join('');
  if (opts.switchable && opts.onToggle) {
    container.querySelectorAll<HTMLInputElement>('input[data-layer-toggle]').forEach((input) => {
      input.addEventListener('change', () => opts.onToggle!(input.dataset.layerToggle!, input.checked));
    });
  }
}
