import { transformExtent } from 'ol/proj.js';
import { download } from '../api-risk.ts';
import type { OneMapApp } from '../app.ts';
import { escapeHtml } from '../dom.ts';
import { lang, onLang, pick, t } from '../i18n.ts';
import { analysisError } from './errors.ts';

/** Layers the static map cannot draw from the registry's tables (computed on request). */
const NOT_PRINTABLE = new Set(['coverage_gaps']);

/**
 * "Print this view" and "Print community map": the server's static map
 * (/maps/static.png, with its title and legend) of the current view or of a
 * community, with the layers switched on, downloaded as a PNG.
 */
export class PrintPanel {
  private note = '';
  private busy = false;
  private community = '';

  constructor(
    private readonly app: OneMapApp,
    private readonly root: HTMLElement,
  ) {
    onLang(() => this.render());
    app.onDistrictChange(() => {
      this.community = '';
      this.render();
    });
    root.addEventListener('change', (e) => {
      const select = (e.target as HTMLElement).closest<HTMLSelectElement>('select[data-print-community]');
      if (select) this.community = select.value;
    });
    root.addEventListener('click', (e) => {
      const action = (e.target as HTMLElement).closest<HTMLElement>('[data-print]')?.dataset.print;
      if (action === 'view') void this.print(this.viewQuery(), 'map-view.png');
      if (action === 'community' && this.community) void this.print({ community: this.community }, `map-${this.community}.png`);
    });
  }

  private layers(): string {
    return this.app.catalogue
      .filter((l) => this.app.isOn(l.id) && !NOT_PRINTABLE.has(l.id))
      .map((l) => l.id)
      .join(',');
  }

  /** The current view as a WGS84 bbox at the map's size (at most the server's limit). */
  viewQuery(): Record<string, string> {
    const size = this.app.map.getSize() ?? [1200, 800];
    const extent = transformExtent(this.app.map.getView().calculateExtent(size), 'EPSG:3857', 'EPSG:4326');
    const scale = Math.min(1, 2000 / Math.max(size[0], size[1]));
    return {
      bbox: extent.map((v) => v.toFixed(6)).join(','),
      width: String(Math.round(size[0] * scale)),
      height: String(Math.round(size[1] * scale)),
    };
  }

  private async print(area: Record<string, string>, name: string): Promise<void> {
    const q = new URLSearchParams({ ...area, lang: lang() });
    const layers = this.layers();
    if (layers) q.set('layers', layers);
    this.busy = true;
    this.note = '';
    this.render();
    try {
      const saved = await download(`/maps/static.png?${q}`, name);
      this.note = `${t('printed')}: ${saved}`;
    } catch (err) {
      this.note = analysisError(err);
    }
    this.busy = false;
    this.render();
  }

  private render(): void {
    const district = this.app.state.district;
    const communities = [...this.app.admin.byId.values()]
      .filter((u) => u.layer === 'communities' && (!district || u.districtId === district))
      .sort((a, b) => a.name.zh.localeCompare(b.name.zh, 'zh-CN'));
    const options = communities
      .map((u) => `<option value="${escapeHtml(u.id)}"${u.id === this.community ? ' selected' : ''}>${escapeHtml(pick(u.name))}</option>`)
      .join('');
    this.root.innerHTML = `<h2>${t('print')}</h2>
      <p class="small muted">${t('printHint')}</p>
      <div class="actions"><button type="button" data-print="view"${this.busy ? ' disabled' : ''}>${t('printView')}</button></div>
      <h3>${t('printCommunity')}</h3>
      ${
        district
          ? `<select data-print-community aria-label="${t('community')}"><option value="">${t('pickCommunity')}</option>${options}</select>
        <div class="actions"><button type="button" data-print="community"${this.busy ? ' disabled' : ''}>${t('printCommunity')}</button></div>`
          : `<p class="muted small">${t('pickDistrict')}</p>`
      }
      <p class="small" data-print-note>${this.busy ? t('working') : escapeHtml(this.note)}</p>`;
  }
}
