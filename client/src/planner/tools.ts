import Draw from 'ol/interaction/Draw.js';
import GeoJSON from 'ol/format/GeoJSON.js';
import type Feature from 'ol/Feature.js';
import type { Geometry, Polygon } from 'ol/geom.js';
import { getArea } from 'ol/sphere.js';
import { fetchJson, postJson, type GeoJsonCollection } from '../api.ts';
import type { OneMapApp } from '../app.ts';
import { escapeHtml } from '../dom.ts';
import { formatNumber, lang, t } from '../i18n.ts';
import type { Popup } from '../popup.ts';
import { analysisError } from './errors.ts';
import { riskLevelColor } from '../risk.ts';
import type { AnalysisOverlays } from './overlays.ts';

/** `POST /analysis/area-summary` as the server sends it (fields this panel shows). */
interface AreaSummary {
  area_m2?: number;
  residents?: number;
  shelters?: { total: number; capacity: number; free_capacity: number; area_per_resident_m2: number | null };
  risk_points?: { total: number; by_level: Record<string, number> };
  flood_points?: { total: number };
  geohazard_sites?: { total: number };
  resources?: { total: number };
  hazard_sources?: { total: number; by_level: Record<string, number>; major_hazard: number } | null;
  units?: { districts: Unit[]; streets: Unit[]; communities: Unit[] };
}
interface Unit {
  id: string;
  name_zh: string;
  name_en: string;
}

const AREA_WORDS = {
  residents: { zh: '常住人口', en: 'Residents' },
  shelters: { zh: '避难场所', en: 'Shelters' },
  capacity: { zh: '容量 / 空余(人)', en: 'Capacity / free (people)' },
  perResident: { zh: '人均避难面积', en: 'Shelter area per resident' },
  risk: { zh: '风险点', en: 'Risk points' },
  flood: { zh: '内涝易发点', en: 'Flood-prone spots' },
  geohazard: { zh: '地质灾害隐患点', en: 'Geohazard sites' },
  resources: { zh: '应急资源', en: 'Emergency resources' },
  hazards: { zh: '危险化学品企业(重大危险源)', en: 'Hazardous-chemical enterprises (major)' },
  streets: { zh: '涉及街道/镇', en: 'Streets/towns' },
  communities: { zh: '涉及社区/村', en: 'Communities/villages' },
} as const;

const w = (k: keyof typeof AREA_WORDS) => AREA_WORDS[k][lang()];

/** The area summary as rows; the four risk levels as coloured chips. */
export function areaSummaryRows(s: AreaSummary, levelColor: (level: string) => string): string {
  const row = (title: string, value: string, attr = '') => `<tr${attr}><th>${escapeHtml(title)}</th><td>${value}</td></tr>`;
  const n = (v: number | null | undefined, d = 0) => (v === null || v === undefined ? '–' : formatNumber(v, d));
  const levels = (by: Record<string, number> | undefined) =>
    by
      ? ['red', 'orange', 'yellow', 'blue']
          .map((l) => `<span class="level-count"><i class="chip" style="background:${levelColor(l)}"></i>${n(by[l])}</span>`)
          .join(' ')
      : '';
  const names = (units: Unit[] | undefined) =>
    units && units.length ? escapeHtml(units.map((u) => (lang() === 'en' ? u.name_en || u.name_zh : u.name_zh)).join('、')) : '–';
  const rows: string[] = [];
  if (s.residents !== undefined) rows.push(row(w('residents'), n(s.residents), ' data-field="residents"'));
  if (s.shelters) {
    rows.push(row(w('shelters'), n(s.shelters.total), ' data-field="shelters"'));
    rows.push(row(w('capacity'), `${n(s.shelters.capacity)} / ${n(s.shelters.free_capacity)}`));
    rows.push(row(w('perResident'), s.shelters.area_per_resident_m2 === null ? '–' : `${n(s.shelters.area_per_resident_m2, 2)} m²`));
  }
  if (s.risk_points) rows.push(row(w('risk'), `${n(s.risk_points.total)} ${levels(s.risk_points.by_level)}`, ' data-field="risk_points"'));
  if (s.flood_points) rows.push(row(w('flood'), n(s.flood_points.total)));
  if (s.geohazard_sites) rows.push(row(w('geohazard'), n(s.geohazard_sites.total)));
  if (s.resources) rows.push(row(w('resources'), n(s.resources.total)));
  if (s.hazard_sources) rows.push(row(w('hazards'), `${n(s.hazard_sources.total)} (${n(s.hazard_sources.major_hazard)}) ${levels(s.hazard_sources.by_level)}`));
  if (s.units) {
    rows.push(row(w('streets'), names(s.units.streets)));
    rows.push(row(w('communities'), names(s.units.communities)));
  }
  return rows.join('');
}

interface Site {
  rank: number;
  lon: number;
  lat: number;
  props: Record<string, unknown>;
}

/** Reads proposed sites from a GeoJSON FeatureCollection or a JSON `sites` list. */
export function readSites(body: unknown): Site[] {
  const b = body as GeoJsonCollection & { sites?: Record<string, unknown>[] };
  if (b && Array.isArray(b.features)) {
    return b.features
      .filter((f) => f.geometry?.type === 'Point')
      .map((f, i) => {
        const [lon, lat] = f.geometry!.coordinates as [number, number];
        return { rank: Number(f.properties.rank ?? i + 1), lon, lat, props: f.properties };
      });
  }
  if (b && Array.isArray(b.sites)) {
    return b.sites
      .filter((s) => typeof s.lon === 'number' && typeof s.lat === 'number')
      .map((s, i) => ({ rank: Number(s.rank ?? i + 1), lon: s.lon as number, lat: s.lat as number, props: s }));
  }
  return [];
}

type Result = { state: 'idle' } | { state: 'working' } | { state: 'done'; html: string } | { state: 'error'; message: string };

/** Draw a polygon → area summary; k new shelters → proposed sites. Both from the analysis endpoints. */
export class AreaTools {
  private draw: Draw | null = null;
  private area: Result = { state: 'idle' };
  private siting: Result = { state: 'idle' };
  private k = 5;
  private capacityAware = false;
  private gen = 0;

  constructor(
    private readonly app: OneMapApp,
    private readonly overlays: AnalysisOverlays,
    private readonly popup: Popup,
    private readonly rerender: () => void,
  ) {}

  reset(): void {
    this.gen++;
    this.stopDrawing();
    this.area = { state: 'idle' };
    this.siting = { state: 'idle' };
  }

  html(): string {
    const drawing = this.draw !== null;
    const show = (r: Result, cls: string) =>
      r.state === 'working'
        ? `<p class="muted">${t('working')}</p>`
        : r.state === 'error'
          ? `<p class="analysis-error ${cls}">${escapeHtml(r.message)}</p>`
          : r.state === 'done'
            ? r.html
            : '';
    return `<section class="tool" data-tool="area"><h3>${t('areaSummary')}</h3>
        <button type="button" data-tool-action="${drawing ? 'cancel-draw' : 'draw'}" aria-pressed="${drawing}">${drawing ? t('cancel') : t('drawArea')}</button>
        ${drawing ? `<p class="muted small">${t('drawHint')}</p>` : ''}${show(this.area, 'area')}</section>
      <section class="tool" data-tool="siting"><h3>${t('siting')}</h3>
        <label>${t('sitingK')} <input type="number" min="1" max="100" step="1" value="${this.k}" data-tool-input="k"></label>
        <label><input type="checkbox" data-tool-input="capacity"${this.capacityAware ? ' checked' : ''}> ${t('capacityAware')}</label>
        <button type="button" data-tool-action="siting">${t('runSiting')}</button>${show(this.siting, 'siting')}</section>`;
  }

  /** Buttons of the tools (the panel delegates its clicks here). */
  handle(action: string, root: HTMLElement): void {
    if (action === 'draw') this.startDrawing();
    if (action === 'cancel-draw') this.stopDrawing();
    if (action === 'siting') {
      const k = Number(root.querySelector<HTMLInputElement>('[data-tool-input="k"]')?.value);
      this.k = Number.isInteger(k) && k >= 1 && k <= 100 ? k : 5;
      this.capacityAware = root.querySelector<HTMLInputElement>('[data-tool-input="capacity"]')?.checked ?? false;
      void this.runSiting();
    }
    this.rerender();
  }

  private startDrawing(): void {
    if (this.draw) return;
    this.overlays.drawn.getSource()!.clear();
    const draw = new Draw({ type: 'Polygon', source: this.overlays.drawn.getSource()! });
    draw.on('drawend', (e) => {
      this.stopDrawing();
      void this.summarise(e.feature as Feature<Geometry>);
    });
    this.draw = draw;
    this.popup.suspended = true;
    this.popup.close();
    this.app.map.addInteraction(draw);
  }

  private stopDrawing(): void {
    if (!this.draw) return;
    this.app.map.removeInteraction(this.draw);
    this.draw = null;
    // Let the double-click that ends a drawing finish before clicks open popups again.
    setTimeout(() => (this.popup.suspended = false), 300);
  }

  private async summarise(feature: Feature<Geometry>): Promise<void> {
    const gen = this.gen;
    const polygon = feature.getGeometry() as Polygon;
    const areaKm2 = getArea(polygon) / 1e6;
    const geometry = new GeoJSON().writeGeometryObject(polygon, { featureProjection: 'EPSG:3857', decimals: 6 });
    const local = `<tr><th>${t('area')}</th><td class="num">${formatNumber(areaKm2, 2)} km²</td></tr>`;
    const levelColor = (level: string) => {
      const risk = this.app.layerInfo('risk_points');
      return risk ? riskLevelColor(risk, level) : '#888888';
    };
    this.area = { state: 'working' };
    this.rerender();
    try {
      const body = await postJson<AreaSummary>('/analysis/area-summary', geometry);
      if (gen !== this.gen) return;
      this.area = { state: 'done', html: `<table class="result" data-result="area">${local}${areaSummaryRows(body, levelColor)}</table>` };
    } catch (err) {
      if (gen !== this.gen) return;
      this.area = { state: 'done', html: `<table class="result" data-result="area">${local}</table><p class="analysis-error">${escapeHtml(analysisError(err))}</p>` };
    }
    this.rerender();
  }

  private async runSiting(): Promise<void> {
    const district = this.app.state.district;
    if (!district) return;
    const gen = this.gen;
    this.siting = { state: 'working' };
    this.overlays.setSites([]);
    try {
      const q = new URLSearchParams({ district, k: String(this.k), f: 'geojson', capacity_aware: String(this.capacityAware) });
      const body = await fetchJson<unknown>(`/analysis/siting?${q}`, {
        headers: { Accept: 'application/geo+json' },
      });
      if (gen !== this.gen) return;
      const sites = readSites(body);
      this.overlays.setSites(sites);
      // covered_* for radius coverage, sheltered_* when capacity-aware.
      const num = (p: Record<string, unknown>, pattern: RegExp) => {
        const key = Object.keys(p).find((k) => pattern.test(k) && typeof p[k] === 'number');
        return key ? (p[key] as number) : null;
      };
      const rows = sites
        .map((s) => {
          const gained = num(s.props, /^newly_/);
          const pct = num(s.props, /_pct$/);
          // a candidate site is named (its size was checked by the server)
          const site = s.props.site as { name_zh?: string; name_en?: string | null } | undefined;
          const name = site?.name_zh ? ` <span class="site-name">${escapeHtml((lang() === 'en' && site.name_en) || site.name_zh)}</span>` : '';
          return `<tr data-site="${s.rank}"><td class="num">${s.rank}${name}</td><td class="num">${gained === null ? '–' : formatNumber(gained)}</td><td class="num">${pct === null ? '–' : `${formatNumber(pct, 1)}%`}</td></tr>`;
        })
        .join('');
      this.siting = {
        state: 'done',
        html: `<table class="result" data-result="siting"><thead><tr><th>#</th><th>${t('residentsGained')}</th><th>${t('coveredPct')}</th></tr></thead><tbody>${rows}</tbody></table>`,
      };
    } catch (err) {
      if (gen !== this.gen) return;
      this.siting = { state: 'error', message: analysisError(err) };
    }
    this.rerender();
  }
}
