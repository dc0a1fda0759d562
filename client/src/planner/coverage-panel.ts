import { ApiError, fetchJson, type CoverageResponse, type GeoJsonCollection } from '../api.ts';
import type { OneMapApp } from '../app.ts';
import { escapeHtml } from '../dom.ts';
import { formatNumber, lang, onLang, pick, t } from '../i18n.ts';
import { writeViewState } from '../url-state.ts';
import { barChartSvg } from './bar-chart.ts';
import { sortUnits, tableCsv, tableHtml, targetState, type SortState } from './coverage-table.ts';
import { AnalysisOverlays, CHOROPLETH_CLASSES, choroplethColor, type OverlayName } from './overlays.ts';
import { AreaTools } from './tools.ts';
import { analysisError } from './errors.ts';
import type { Popup } from '../popup.ts';

/** Layers whose changes change the coverage numbers. */
const ANALYSED_LAYERS = new Set(['shelters', 'population', 'districts', 'streets', 'communities']);

type Load<T> = { state: 'idle' } | { state: 'loading' } | { state: 'done'; data: T } | { state: 'error'; message: string; unavailable: boolean };

/**
 * The planner's side panel for one district: coverage %, residents uncovered and
 * m²/resident against the target (district and per street/community), a sortable
 * table, a bar chart, the analysis overlays, CSV export, the area summary and siting.
 */
export class CoveragePanel {
  private coverage: Load<CoverageResponse> = { state: 'idle' };
  private sort: SortState = { key: 'area_per_resident_m2', dir: 1 };
  private readonly overlaysOn = new Set<OverlayName>();
  private readonly overlays: AnalysisOverlays;
  private readonly tools: AreaTools;
  /** Bumped per district/unit choice, so a late answer for an old choice is dropped. */
  private generation = 0;

  constructor(
    private readonly app: OneMapApp,
    private readonly root: HTMLElement,
    popup: Popup,
  ) {
    this.overlays = new AnalysisOverlays(app.map);
    this.tools = new AreaTools(app, this.overlays, popup, () => this.render());
    app.onDistrictChange(() => this.load());
    onLang(() => this.render());
    root.addEventListener('click', (e) => this.onClick(e));
    root.addEventListener('change', (e) => this.onChange(e));
    // Edits to what the analysis counts make the numbers old: say so, and let the planner recalculate
    // (reloading by itself would throw away a drawn area or proposed sites mid-work).
    const markStale = () => {
      if (this.coverage.state !== 'done' || this.stale) return;
      this.stale = true;
      this.render();
    };
    app.live.onEvent((e) => {
      if (e.type !== 'occupancy' && ANALYSED_LAYERS.has(e.layer)) markStale();
    });
    app.live.onResync(markStale);
    this.load();
  }

  private stale = false;

  private get district(): string | null {
    return this.app.state.district;
  }

  load(): void {
    const gen = ++this.generation;
    this.stale = false;
    this.overlays.clearDistrict();
    this.tools.reset();
    if (!this.district) {
      this.coverage = { state: 'idle' };
      this.render();
      return;
    }
    this.coverage = { state: 'loading' };
    this.render();
    const q = new URLSearchParams({ district: this.district, unit: this.app.state.unit, shelters: 'true' });
    fetchJson<CoverageResponse>(`/analysis/coverage?${q}`)
      .then((data) => {
        if (gen !== this.generation) return;
        this.coverage = { state: 'done', data };
        this.overlays.setRadii(data.shelters ?? []);
        for (const name of this.overlaysOn) void this.loadOverlay(name, gen);
      })
      .catch((err) => {
        if (gen !== this.generation) return;
        this.coverage = { state: 'error', message: analysisError(err), unavailable: err instanceof ApiError && err.missing };
      })
      .finally(() => gen === this.generation && this.render());
  }

  private async loadOverlay(name: OverlayName, gen = this.generation): Promise<void> {
    const district = this.district;
    if (!district) return;
    try {
      if (name === 'gaps') {
        const gaps = await fetchJson<GeoJsonCollection>(`/analysis/coverage/gaps?district=${encodeURIComponent(district)}&f=geojson`, {
          headers: { Accept: 'application/geo+json' },
        });
        if (gen === this.generation) this.overlays.setGaps(gaps);
      } else if (name === 'choropleth') {
        const units = await fetchJson<GeoJsonCollection>(
          `/analysis/coverage?district=${encodeURIComponent(district)}&unit=${this.app.state.unit}&f=geojson`,
          { headers: { Accept: 'application/geo+json' } },
        );
        if (gen === this.generation) this.overlays.setChoropleth(units);
      }
    } catch (err) {
      if (gen !== this.generation) return;
      const note = this.root.querySelector<HTMLElement>(`[data-overlay-note="${name}"]`);
      if (note) note.textContent = analysisError(err);
    }
  }

  private onClick(e: Event): void {
    const target = e.target as HTMLElement;
    const sortKey = target.closest<HTMLElement>('[data-sort]')?.dataset.sort;
    if (sortKey) {
      this.sort = { key: sortKey as SortState['key'], dir: this.sort.key === sortKey ? (this.sort.dir === 1 ? -1 : 1) : sortKey === 'name' ? 1 : -1 };
      this.render();
      return;
    }
    const unitId = target.closest<HTMLElement>('[data-unit-id]')?.dataset.unitId;
    if (unitId) {
      const layer = this.app.state.unit === 'street' ? 'streets' : 'communities';
      const unit = this.app.admin.byId.get(`${layer}:${unitId}`);
      if (unit) this.app.fit(unit.extent, 400);
      return;
    }
    const toolAction = target.closest<HTMLElement>('[data-tool-action]')?.dataset.toolAction;
    if (toolAction) {
      this.tools.handle(toolAction, this.root);
      return;
    }
    const action = target.closest<HTMLElement>('[data-action]')?.dataset.action;
    if (action === 'csv') this.exportCsv();
    if (action === 'reload') this.load();
    if (action === 'unit-street' || action === 'unit-community') {
      const unit = action === 'unit-street' ? 'street' : 'community';
      if (unit !== this.app.state.unit) {
        this.app.state.unit = unit;
        writeViewState(this.app.state);
        this.load();
      }
    }
  }

  private onChange(e: Event): void {
    const input = e.target as HTMLInputElement;
    const name = input.dataset.overlay as OverlayName | undefined;
    if (!name) return;
    if (input.checked) this.overlaysOn.add(name);
    else this.overlaysOn.delete(name);
    this.overlays.layer(name).setVisible(input.checked);
    if (input.checked && name !== 'radii') void this.loadOverlay(name);
  }

  private exportCsv(): void {
    if (this.coverage.state !== 'done') return;
    const csv = tableCsv(sortUnits(this.coverage.data.units, this.sort));
    const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `coverage-${this.district}-${this.app.state.unit}.csv`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  private districtName(): string {
    const unit = this.district ? this.app.admin.byId.get(`districts:${this.district}`) : undefined;
    return unit ? pick(unit.name) : (this.district ?? '');
  }

  render(): void {
    const parts: string[] = [`<h2>${t('coverage')}${this.district ? ` · ${escapeHtml(this.districtName())}` : ''}</h2>`];
    if (this.stale) parts.push(`<p class="stale-note" role="status">${t('dataChanged')} <button type="button" data-action="reload">${t('recalculate')}</button></p>`);
    const c = this.coverage;
    if (c.state === 'idle') parts.push(`<p class="muted" data-coverage-state="idle">${t('pickDistrict')}</p>`);
    if (c.state === 'loading') parts.push(`<p class="muted" data-coverage-state="loading">${t('loading')}</p>`);
    if (c.state === 'error') parts.push(`<p class="analysis-error" data-coverage-state="${c.unavailable ? 'unavailable' : 'error'}">${escapeHtml(c.message)}</p>`);
    if (c.state === 'done') parts.push(this.resultHtml(c.data));
    if (this.district) parts.push(this.overlaysHtml(), this.tools.html());
    this.root.innerHTML = parts.join('');
    for (const name of this.overlaysOn) {
      const input = this.root.querySelector<HTMLInputElement>(`input[data-overlay="${name}"]`);
      if (input) input.checked = true;
    }
  }

  private resultHtml(data: CoverageResponse): string {
    const total = data.total;
    const target = data.parameters.target_m2_per_resident;
    const units = sortUnits(data.units, this.sort);
    const card = (metric: string, value: string, label: string, cls = '') =>
      `<div class="card ${cls}" data-metric="${metric}"><b>${value}</b><span>${label}</span></div>`;
    const cards = [
      card('covered_pct', total.covered_pct === null ? '–' : `${formatNumber(total.covered_pct, 1)}%`, t('coveredPct')),
      card('uncovered_residents', formatNumber(total.uncovered_residents), t('uncovered')),
      card(
        'area_per_resident_m2',
        total.area_per_resident_m2 === null ? '–' : `${formatNumber(total.area_per_resident_m2, 2)} m²`,
        `${t('areaPerResident')} (${t('target')} ${formatNumber(target, 1)} m²)`,
        targetState(total.meets_target),
      ),
      card('unsheltered_residents', formatNumber(total.unsheltered_residents), t('unsheltered')),
    ].join('');
    const unitToggle = `<div class="segmented" role="group">
      <button type="button" data-action="unit-street" aria-pressed="${data.unit === 'street'}">${t('byStreet')}</button>
      <button type="button" data-action="unit-community" aria-pressed="${data.unit === 'community'}">${t('byCommunity')}</button></div>`;
    const source = data.parameters.target_source ? `<p class="muted small">${t('target')}: ${escapeHtml(data.parameters.target_source)}</p>` : '';
    return `<div class="cards">${cards}</div>${source}${unitToggle}
      <figure class="chart"><figcaption>${t('chartTitle')}</figcaption><div class="chart-scroll">${barChartSvg(units, target)}</div></figure>
      <div class="table-scroll">${tableHtml(units, this.sort)}</div>
      <div class="actions"><button type="button" data-action="csv">${t('exportCsv')}</button></div>
      <p class="synthetic-note small">${t('syntheticAnalysis')}</p>`;
  }

  private overlaysHtml(): string {
    const row = (name: OverlayName, word: 'radiusCircles' | 'gapPolygons' | 'choropleth', extra = '') =>
      `<label><input type="checkbox" data-overlay="${name}"> ${t(word)}</label>${extra}<small class="analysis-error" data-overlay-note="${name}"></small>`;
    const scale = CHOROPLETH_CLASSES.map(([ratio, label]) => `<span><i style="background:${choroplethColor(ratio)}"></i>${label}</span>`).join('');
    return `<fieldset class="overlays"><legend>${t('overlays')}</legend>
      ${row('radii', 'radiusCircles')}${row('gaps', 'gapPolygons')}${row('choropleth', 'choropleth', `<div class="scale" lang="${lang()}">${scale}</div>`)}</fieldset>`;
  }
}
