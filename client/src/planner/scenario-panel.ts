import Feature from 'ol/Feature.js';
import GeoJSON from 'ol/format/GeoJSON.js';
import type { Geometry } from 'ol/geom.js';
import Draw from 'ol/interaction/Draw.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import { Circle, Fill, RegularShape, Stroke, Style } from 'ol/style.js';
import { fetchJson, type GeoJsonCollection } from '../api.ts';
import { runScenario, scenarioOptions, type Polygon, type ScenarioCoverage, type ScenarioReport, type ScenarioRequest, type TyphoonLevelOption } from '../api-risk.ts';
import type { OneMapApp } from '../app.ts';
import { escapeHtml } from '../dom.ts';
import { formatNumber, onLang, pick, t } from '../i18n.ts';
import type { Popup } from '../popup.ts';
import { analysisError } from './errors.ts';

const geojson = new GeoJSON();
type Shown = 'before' | 'after';

const STYLES: Record<string, Style> = {
  flood: new Style({ zIndex: 3, image: new Circle({ radius: 9, fill: new Fill({ color: '#00e5ff' }), stroke: new Stroke({ color: '#01579b', width: 3 }) }) }),
  geohazard: new Style({
    zIndex: 3,
    image: new RegularShape({ points: 3, radius: 9, fill: new Fill({ color: '#8d4f1a' }), stroke: new Stroke({ color: '#fff', width: 2 }) }),
  }),
  closed: new Style({
    zIndex: 4,
    image: new RegularShape({ points: 4, radius: 10, angle: Math.PI / 4, fill: new Fill({ color: '#111' }), stroke: new Stroke({ color: '#ff1744', width: 3 }) }),
  }),
  street: new Style({ zIndex: 1, stroke: new Stroke({ color: '#e65100', width: 3 }), fill: new Fill({ color: 'rgba(230,81,0,0.10)' }) }),
  warning: new Style({ zIndex: 0, stroke: new Stroke({ color: '#6a1b9a', width: 2, lineDash: [8, 6] }), fill: new Fill({ color: 'rgba(106,27,154,0.08)' }) }),
};

/**
 * The scenario runner: a rainfall intensity, or a typhoon warning level (the levels
 * and their rules as GET /analysis/scenario/options lists them) with an optional
 * drawn warning area, sent to POST /analysis/scenario as a what-if. The map shows the flooded spots, triggered
 * sites, shelters made unusable and the streets to alert; coverage before and
 * after side by side, with the uncovered areas of each as two overlays to switch
 * between. Ending the scenario restores the normal view.
 */
export class ScenarioPanel {
  private report: ScenarioReport | null = null;
  private error: string | null = null;
  private busy = false;
  private kind: 'rain' | 'typhoon' = 'rain';
  private rainfall = 60;
  private closeOutdoor = true;
  /** The server's typhoon levels, read once when the typhoon form first opens. */
  private levels: TyphoonLevelOption[] | null = null;
  private level: TyphoonLevelOption['level'] = 'orange';
  private shown: Shown = 'after';
  private warningArea: Polygon | null = null;
  private draw: Draw | null = null;
  private generation = 0;
  private readonly source = new VectorSource<Feature<Geometry>>();
  private readonly layer = new VectorLayer({ source: this.source, zIndex: 80, properties: { role: 'scenario' }, style: (f) => STYLES[f.get('kind') as string] });
  private readonly gaps: Record<Shown, VectorLayer<VectorSource<Feature<Geometry>>>>;

  constructor(
    private readonly app: OneMapApp,
    private readonly root: HTMLElement,
    private readonly popup: Popup,
  ) {
    const gapLayer = (which: Shown, color: string) =>
      new VectorLayer({
        source: new VectorSource<Feature<Geometry>>(),
        zIndex: 13,
        visible: false,
        properties: { role: `scenario-gaps-${which}` },
        style: new Style({ stroke: new Stroke({ color, width: 1.2 }), fill: new Fill({ color: `${color}55` }) }),
      });
    this.gaps = { before: gapLayer('before', '#b2182b'), after: gapLayer('after', '#7b1fa2') };
    app.map.addLayer(this.gaps.before);
    app.map.addLayer(this.gaps.after);
    app.map.addLayer(this.layer);
    onLang(() => this.render());
    app.onDistrictChange(() => this.end());
    root.addEventListener('click', (e) => this.onClick(e));
    root.addEventListener('change', (e) => this.onChange(e));
  }

  get active(): boolean {
    return this.report !== null;
  }

  private onChange(e: Event): void {
    const input = e.target as HTMLInputElement;
    const field = input.dataset.scenario;
    if (field === 'kind') {
      this.kind = input.value as 'rain' | 'typhoon';
      if (this.kind === 'typhoon') void this.loadLevels();
    }
    if (field === 'typhoon-level') {
      this.level = input.value as TyphoonLevelOption['level'];
      this.closeOutdoor = this.levelRule()?.close_outdoor_shelters ?? this.closeOutdoor;
      this.render();
    }
    if (field === 'rainfall') this.rainfall = Number(input.value);
    if (field === 'close-outdoor') this.closeOutdoor = input.checked;
    if (field === 'shown') {
      this.shown = input.value as Shown;
      this.showGaps();
    }
    if (field === 'kind') this.render();
  }

  private onClick(e: Event): void {
    const action = (e.target as HTMLElement).closest<HTMLElement>('[data-scenario-action]')?.dataset.scenarioAction;
    if (action === 'run') void this.run();
    if (action === 'end') this.end();
    if (action === 'draw') this.startDrawing();
    if (action === 'clear-area') {
      this.warningArea = null;
      this.removeKind('warning');
      this.render();
    }
  }

  private removeKind(kind: string): void {
    for (const f of this.source.getFeatures()) if (f.get('kind') === kind) this.source.removeFeature(f);
  }

  private startDrawing(): void {
    if (this.draw) return;
    const draw = new Draw({ type: 'Polygon' });
    draw.on('drawend', (e) => {
      const geometry = e.feature.getGeometry()!;
      this.warningArea = geojson.writeGeometryObject(geometry, { featureProjection: 'EPSG:3857', decimals: 6 }) as Polygon;
      this.removeKind('warning');
      e.feature.set('kind', 'warning');
      this.source.addFeature(e.feature);
      this.stopDrawing();
      this.render();
    });
    this.draw = draw;
    this.popup.suspended = true;
    this.app.map.addInteraction(draw);
    this.render();
  }

  private stopDrawing(): void {
    if (!this.draw) return;
    this.app.map.removeInteraction(this.draw);
    this.draw = null;
    setTimeout(() => (this.popup.suspended = false), 300);
  }

  private levelRule(): TyphoonLevelOption | undefined {
    return this.levels?.find((l) => l.level === this.level);
  }

  private async loadLevels(): Promise<void> {
    if (this.levels) return;
    try {
      this.levels = (await scenarioOptions()).typhoon_levels;
      // the outdoor-closure box starts as the server's rule for the chosen level
      this.closeOutdoor = this.levelRule()?.close_outdoor_shelters ?? this.closeOutdoor;
    } catch (err) {
      this.error = analysisError(err);
    }
    this.render();
  }

  async run(): Promise<void> {
    const district = this.app.state.district;
    if (!district) return;
    const gen = ++this.generation;
    this.stopDrawing();
    this.busy = true;
    this.error = null;
    this.render();
    try {
      const body: ScenarioRequest = { district };
      if (this.kind === 'rain') body.rainfall_mm_h = this.rainfall;
      else {
        // The level sets the rainfall (the server refuses both); without a drawn area it covers the district.
        body.typhoon_level = this.level;
        if (this.warningArea) body.warning_area = this.warningArea;
        body.close_outdoor_in_warning_area = this.closeOutdoor;
      }
      const report = await runScenario(body);
      if (gen !== this.generation) return;
      this.report = report;
      await this.drawReport(report, district, gen);
    } catch (err) {
      if (gen === this.generation) this.error = analysisError(err);
    }
    if (gen !== this.generation) return;
    this.busy = false;
    this.render();
  }

  private async items(layer: string, query: Record<string, string>): Promise<GeoJsonCollection> {
    const q = new URLSearchParams({ ...query, limit: '10000' });
    return fetchJson<GeoJsonCollection>(`/ogc/collections/${layer}/items?${q}`, { headers: { Accept: 'application/geo+json' } });
  }

  /** Places what the report names by id, from the OGC items of the district. */
  private async drawReport(report: ScenarioReport, district: string, gen: number): Promise<void> {
    // already_closed lists ids; closed lists the shelters with their reasons
    const closedIds = new Set([...report.shelters.closed.map((s) => s.id), ...report.shelters.already_closed]);
    const floodIds = new Set(report.flood_points.active.map((p) => p.id));
    const siteIds = new Set(report.geohazard_sites.active.map((p) => p.id));
    const alert = new Set(report.alert_streets);
    const excluded = report.shelters.closed.map((s) => s.id).join(',');
    const gapsQuery = (exclude: string) =>
      fetchJson<GeoJsonCollection>(`/analysis/coverage/gaps?district=${encodeURIComponent(district)}&f=geojson${exclude ? `&exclude_shelters=${exclude}` : ''}`, {
        headers: { Accept: 'application/geo+json' },
      });
    const [shelters, floods, sites, streets, before, after] = await Promise.all([
      this.items('shelters', { district_id: district }),
      this.items('flood_points', { district_id: district }),
      siteIds.size ? this.items('geohazard_sites', { district_id: district }) : Promise.resolve(null),
      alert.size ? this.items('streets', { district_id: district }) : Promise.resolve(null),
      gapsQuery(''),
      excluded ? gapsQuery(excluded) : null,
    ]);
    if (gen !== this.generation) return;
    const read = (c: GeoJsonCollection | null, keep: (f: Feature<Geometry>) => boolean, kind: string) =>
      c
        ? (geojson.readFeatures(c, { featureProjection: 'EPSG:3857' }) as Feature<Geometry>[]).filter(keep).map((f) => {
            f.set('kind', kind);
            return f;
          })
        : [];
    const warning = this.source.getFeatures().filter((f) => f.get('kind') === 'warning');
    this.source.clear();
    this.source.addFeatures([
      ...warning,
      ...read(streets, (f) => alert.has(String(f.getId())), 'street'),
      ...read(floods, (f) => floodIds.has(Number(f.getId())), 'flood'),
      ...read(sites, (f) => siteIds.has(Number(f.getId())), 'geohazard'),
      ...read(shelters, (f) => closedIds.has(Number(f.getId())), 'closed'),
    ]);
    for (const [which, c] of [
      ['before', before],
      ['after', after ?? before],
    ] as const) {
      const source = this.gaps[which].getSource()!;
      source.clear();
      source.addFeatures(geojson.readFeatures(c, { featureProjection: 'EPSG:3857' }) as Feature<Geometry>[]);
    }
    this.showGaps();
  }

  private showGaps(): void {
    this.gaps.before.setVisible(this.active && this.shown === 'before');
    this.gaps.after.setVisible(this.active && this.shown === 'after');
  }

  /** Ends the scenario: every scenario layer is cleared and the normal view is back. */
  end(): void {
    this.generation++;
    this.stopDrawing();
    this.report = null;
    this.error = null;
    this.busy = false;
    this.warningArea = null;
    this.source.clear();
    for (const l of Object.values(this.gaps)) l.getSource()!.clear();
    this.showGaps();
    this.render();
  }

  private coverageTable(report: ScenarioReport): string {
    const c = report.coverage;
    const row = (label: string, key: keyof ScenarioCoverage, digits = 0, suffix = '') => {
      const v = (x: ScenarioCoverage) => (x[key] === null ? '–' : `${formatNumber(x[key] as number, digits)}${suffix}`);
      return `<tr data-scenario-row="${key}"><th>${label}</th><td>${v(c.before)}</td><td>${v(c.after)}</td></tr>`;
    };
    return `<table class="scenario-table"><thead><tr><th></th><th>${t('before')}</th><th>${t('after')}</th></tr></thead><tbody>
      ${row(t('coveredPct'), 'covered_pct', 1, '%')}${row(t('coveredResidents'), 'covered_residents')}${row(t('uncovered'), 'uncovered_residents')}
      ${row(t('usableShelters'), 'shelters_counted')}${row(t('unsheltered'), 'unsheltered_residents')}</tbody></table>`;
  }

  /** The level choice and what the chosen level means, as the server states it. */
  private levelPicker(): string {
    if (!this.levels) return `<p class="muted small">${t('loading')}</p>`;
    const options = this.levels
      .map((l) => `<option value="${l.level}"${l.level === this.level ? ' selected' : ''}>${escapeHtml(pick({ zh: l.name_zh, en: l.name_en }))}</option>`)
      .join('');
    const r = this.levelRule();
    const rule = r
      ? `<dl class="typhoon-rule small" data-typhoon-rule="${r.level}">
          <dt>${t('typhoonLead')}</dt><dd>${r.lead_hours} h</dd>
          <dt>${t('typhoonWind')}</dt><dd>≥ ${r.mean_wind_force} / ≥ ${r.gust_force} (${formatNumber(r.mean_wind_min_ms, 1)} / ${formatNumber(r.gust_min_ms, 1)} m/s)</dd>
          <dt>${t('typhoonRain')}</dt><dd data-typhoon-rain="${r.rainfall_mm_h}">${r.rainfall_mm_h} mm/h</dd></dl>`
      : '';
    return `<label class="typhoon-level">${t('typhoonLevel')} <select data-scenario="typhoon-level">${options}</select></label>${rule}`;
  }

  private render(): void {
    const district = this.app.state.district;
    const parts = [`<h2>${t('scenario')}</h2>`];
    if (!district) {
      parts.push(`<p class="muted">${t('pickDistrict')}</p>`);
      this.root.innerHTML = parts.join('');
      return;
    }
    const typhoon = this.kind === 'typhoon';
    parts.push(`<div class="scenario-form">
      <div class="segmented" role="radiogroup">
        <label><input type="radio" name="scenario-kind" data-scenario="kind" value="rain"${typhoon ? '' : ' checked'}> ${t('rainstorm')}</label>
        <label><input type="radio" name="scenario-kind" data-scenario="kind" value="typhoon"${typhoon ? ' checked' : ''}> ${t('typhoon')}</label></div>
      ${
        typhoon
          ? `${this.levelPicker()}
        <p class="small muted">${this.warningArea ? t('warningAreaDrawn') : t('warningAreaDistrict')}</p>
        <div class="actions"><button type="button" data-scenario-action="draw">${this.draw ? t('drawHint') : t('drawWarningArea')}</button>${
          this.warningArea ? `<button type="button" data-scenario-action="clear-area">${t('cancel')}</button>` : ''
        }</div>
        <label><input type="checkbox" data-scenario="close-outdoor"${this.closeOutdoor ? ' checked' : ''}> ${t('closeOutdoor')}</label>`
          : `<label>${t('rainfall')} <input type="number" min="0" max="500" step="5" data-scenario="rainfall" value="${this.rainfall}"> mm/h</label>`
      }
      <div class="actions"><button type="button" data-scenario-action="run"${this.busy ? ' disabled' : ''}>${t('runScenario')}</button>${
        this.report ? `<button type="button" data-scenario-action="end">${t('endScenario')}</button>` : ''
      }</div></div>`);
    if (this.busy) parts.push(`<p class="muted" data-scenario-state="working">${t('working')}</p>`);
    if (this.error) parts.push(`<p class="analysis-error" data-scenario-state="error">${escapeHtml(this.error)}</p>`);
    const r = this.report;
    if (r && !this.busy) {
      const closed = r.shelters.closed.length + r.shelters.already_closed.length;
      const streetName = (id: string) => {
        const u = this.app.admin.byId.get(`streets:${id}`);
        return u ? pick(u.name) : id;
      };
      parts.push(`<div class="cards" data-scenario-state="done">
          <div class="card bad" data-scenario-metric="flooded"><b>${formatNumber(r.flood_points.active.length)}</b><span>${t('floodedSpots')}</span></div>
          <div class="card bad" data-scenario-metric="closed" data-count="${closed}"><b>${formatNumber(closed)}</b><span>${t('unusableShelters')}</span></div>
          <div class="card" data-scenario-metric="sites"><b>${formatNumber(r.geohazard_sites.active.length)}</b><span>${t('triggeredSites')}</span></div>
          <div class="card bad" data-scenario-metric="losing_cover"><b>${formatNumber(r.coverage.residents_losing_cover)}</b><span>${t('losingCover')}</span></div>
          <div class="card bad" data-scenario-metric="losing_place"><b>${formatNumber(r.coverage.residents_losing_a_place)}</b><span>${t('losingPlace')}</span></div></div>
        ${this.coverageTable(r)}
        <fieldset class="overlays"><legend>${t('gapPolygons')}</legend>
          <label><input type="radio" name="scenario-shown" data-scenario="shown" value="before"${this.shown === 'before' ? ' checked' : ''}> ${t('before')}</label>
          <label><input type="radio" name="scenario-shown" data-scenario="shown" value="after"${this.shown === 'after' ? ' checked' : ''}> ${t('after')}</label></fieldset>
        <h3>${t('alertStreets')} (${r.alert_streets.length})</h3>
        <ul class="alert-streets">${r.alert_streets.map((id) => `<li data-street="${escapeHtml(id)}">${escapeHtml(streetName(id))}</li>`).join('')}</ul>
        <p class="synthetic-note small">${t('scenarioWhatIf')}</p>`);
    }
    this.root.innerHTML = parts.join('');
  }
}
