import Feature from 'ol/Feature.js';
import Point from 'ol/geom/Point.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import { fromLonLat } from 'ol/proj.js';
import { Circle, Fill, Stroke, Style } from 'ol/style.js';
import type { LayerInfo } from '../api.ts';
import { download, inspectionsDue, riskTable, type InspectionsDue, type Level, type RiskTable, type RiskTablePoint } from '../api-risk.ts';
import type { OneMapApp } from '../app.ts';
import { escapeHtml } from '../dom.ts';
import { formatNumber, onLang, pick, t } from '../i18n.ts';
import { formatValue } from '../popup.ts';
import { levelRank, RISK_LEVELS, riskLevelColor } from '../risk.ts';
import { analysisError } from './errors.ts';

type SortKey = 'name' | 'level' | 'street' | 'next_due';
interface Filters {
  level: string;
  category: string;
  street: string;
  overdue: boolean;
}

/**
 * The one table beside the map: counts by level, the risk points of the district
 * (sort and filter by level, category, street and overdue), the inspections due by
 * colour, and CSV/XLSX exports that are the API's own files. The table's points
 * are drawn on a layer of their own: a row click centres the map on its point, a
 * click on a point highlights its row; overdue points are ringed.
 */
export class RiskPanel {
  private table: RiskTable | null = null;
  private due: InspectionsDue | null = null;
  private error: string | null = null;
  private loading = false;
  private loadedFor: string | null = null;
  private selected: number | null = null;
  private sort: { key: SortKey; dir: 1 | -1 } = { key: 'level', dir: 1 };
  private filters: Filters = { level: '', category: '', street: '', overdue: false };
  private generation = 0;
  private readonly source = new VectorSource<Feature<Point>>();
  readonly layer: VectorLayer<VectorSource<Feature<Point>>>;

  constructor(
    private readonly app: OneMapApp,
    private readonly root: HTMLElement,
    private readonly isActive: () => boolean,
  ) {
    const info = app.layerInfo('risk_points');
    const styles = new Map<string, Style>();
    this.layer = new VectorLayer({
      source: this.source,
      zIndex: 60,
      visible: false,
      properties: { role: 'risk-table' },
      style: (f) => {
        const level = f.get('level') as string;
        const overdue = f.get('overdue') === true;
        const selected = f.getId() === this.selected;
        const key = `${level}|${overdue}|${selected}`;
        let style = styles.get(key);
        if (!style) {
          const color = info ? riskLevelColor(info, level) : '#888';
          style = new Style({
            zIndex: selected ? 3 : overdue ? 2 : 1,
            image: new Circle({
              radius: selected ? 10 : overdue ? 7 : 5,
              fill: new Fill({ color }),
              stroke: new Stroke({ color: selected ? '#111' : overdue ? '#7f0000' : '#fff', width: selected ? 3 : overdue ? 3 : 1.5 }),
            }),
          });
          styles.set(key, style);
        }
        return style;
      },
    });
    app.map.addLayer(this.layer);
    app.onDistrictChange(() => this.refresh());
    onLang(() => this.render());
    root.addEventListener('click', (e) => this.onClick(e));
    root.addEventListener('change', (e) => this.onChange(e));
    app.map.on('singleclick', (e) => {
      if (!this.layer.getVisible()) return;
      const hit = app.map.forEachFeatureAtPixel(e.pixel, (f) => f, { hitTolerance: 4, layerFilter: (l) => l === this.layer });
      if (hit) this.select(Number(hit.getId()), false);
    });
    // An inspection, a level set by hand or an edit moves the table: reload it when it is on screen.
    app.live.onEvent((e) => {
      if (e.layer === 'risk_points' && this.loadedFor) {
        this.loadedFor = null;
        if (this.isActive()) this.refresh();
      }
    });
    this.render();
  }

  private get riskInfo(): LayerInfo | undefined {
    return this.app.layerInfo('risk_points');
  }

  /** Called when the tab is shown or hidden, and when the district changes. */
  refresh(): void {
    const active = this.isActive();
    this.layer.setVisible(active && this.table !== null);
    if (!active) return;
    const district = this.app.state.district;
    if (district === this.loadedFor) return;
    this.loadedFor = district;
    this.table = null;
    this.due = null;
    this.error = null;
    this.selected = null;
    this.filters = { level: '', category: '', street: '', overdue: false };
    this.source.clear();
    if (!district) return this.render();
    const gen = ++this.generation;
    this.loading = true;
    this.render();
    Promise.all([riskTable(district), inspectionsDue(district)])
      .then(([table, due]) => {
        if (gen !== this.generation) return;
        this.table = table;
        this.due = due;
        this.drawPoints();
      })
      .catch((err) => {
        if (gen === this.generation) this.error = analysisError(err);
      })
      .finally(() => {
        if (gen !== this.generation) return;
        this.loading = false;
        this.layer.setVisible(this.isActive() && this.table !== null);
        this.render();
      });
  }

  private overdueIds(): Set<number> {
    return new Set((this.due?.points ?? []).filter((p) => p.status === 'overdue').map((p) => p.id));
  }

  private drawPoints(): void {
    this.source.clear();
    if (!this.table) return;
    const overdue = this.overdueIds();
    this.source.addFeatures(
      this.filtered().map((p) => {
        const f = new Feature({ geometry: new Point(fromLonLat([p.lon, p.lat])), level: p.level, overdue: overdue.has(p.id) });
        f.setId(p.id);
        return f;
      }),
    );
  }

  private filtered(): RiskTablePoint[] {
    if (!this.table) return [];
    const f = this.filters;
    const rows = this.table.points.filter(
      (p) =>
        (!f.level || p.level === f.level) &&
        (!f.category || p.category === f.category) &&
        (!f.street || p.street_id === f.street) &&
        (!f.overdue || p.inspection_status === 'overdue'),
    );
    const { key, dir } = this.sort;
    const value = (p: RiskTablePoint): string | number =>
      key === 'level' ? -levelRank(p.level) : key === 'street' ? (p.street_name_zh ?? '') : key === 'next_due' ? (p.next_due ?? '9999') : this.pointName(p);
    return rows.sort((a, b) => {
      const va = value(a);
      const vb = value(b);
      const c = typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va).localeCompare(String(vb), 'zh-CN');
      return c * dir || a.id - b.id;
    });
  }

  private pointName(p: RiskTablePoint): string {
    return pick({ zh: p.name_zh, en: p.name_en ?? '' });
  }

  private prop(name: string) {
    return this.riskInfo?.properties.find((p) => p.name === name);
  }

  /** Selects a point: its row is highlighted (and scrolled to); from the table, the map centres on it. */
  select(id: number, centre: boolean): void {
    const point = this.table?.points.find((p) => p.id === id);
    if (!point) return;
    this.selected = id;
    this.source.changed();
    for (const row of this.root.querySelectorAll<HTMLElement>('tr[data-risk-id]')) {
      const on = Number(row.dataset.riskId) === id;
      row.classList.toggle('selected', on);
      if (on && !centre) row.scrollIntoView({ block: 'nearest' });
    }
    if (centre) {
      const view = this.app.map.getView();
      view.animate({ center: fromLonLat([point.lon, point.lat]), zoom: Math.max(view.getZoom() ?? 0, 15), duration: 300 });
    }
  }

  private onClick(e: Event): void {
    const target = e.target as HTMLElement;
    const sortKey = target.closest<HTMLElement>('[data-risk-sort]')?.dataset.riskSort as SortKey | undefined;
    if (sortKey) {
      this.sort = { key: sortKey, dir: this.sort.key === sortKey ? (this.sort.dir === 1 ? -1 : 1) : 1 };
      this.render();
      return;
    }
    const row = target.closest<HTMLElement>('[data-risk-id]');
    if (row) {
      this.select(Number(row.dataset.riskId), true);
      return;
    }
    const format = target.closest<HTMLElement>('[data-risk-export]')?.dataset.riskExport;
    if (format && this.app.state.district) {
      const district = this.app.state.district;
      const note = this.root.querySelector<HTMLElement>('.export-note');
      download(`/risk/table?district=${encodeURIComponent(district)}&f=${format}`, `risk-table-${district}.${format}`)
        .then(() => note && (note.textContent = ''))
        .catch((err) => note && (note.textContent = analysisError(err)));
    }
  }

  private onChange(e: Event): void {
    const input = e.target as HTMLInputElement | HTMLSelectElement;
    const name = input.dataset.riskFilter as keyof Filters | undefined;
    if (!name) return;
    if (name === 'overdue') this.filters.overdue = (input as HTMLInputElement).checked;
    else this.filters[name] = input.value;
    this.drawPoints();
    this.render();
  }

  private render(): void {
    const district = this.app.state.district;
    const unit = district ? this.app.admin.byId.get(`districts:${district}`) : undefined;
    const parts = [`<h2>${t('riskTable')}${unit ? ` · ${escapeHtml(pick(unit.name))}` : ''}</h2>`];
    if (!district) parts.push(`<p class="muted">${t('pickDistrictRisk')}</p>`);
    else if (this.loading) parts.push(`<p class="muted" data-risk-state="loading">${t('loading')}</p>`);
    else if (this.error) parts.push(`<p class="analysis-error" data-risk-state="error">${escapeHtml(this.error)}</p>`);
    else if (this.table) parts.push(this.tableHtml(this.table), this.dueHtml());
    this.root.innerHTML = parts.join('');
  }

  private levelTitle(level: string): string {
    return formatValue(this.prop('level'), level);
  }

  private swatch(level: string): string {
    const info = this.riskInfo;
    return `<i class="swatch" style="background:${info ? riskLevelColor(info, level) : '#888'}"></i>`;
  }

  private tableHtml(table: RiskTable): string {
    const total = table.counts.total;
    const cards = RISK_LEVELS.map(
      (l) => `<div class="card level-card" data-level-count="${l}">${this.swatch(l)}<b>${formatNumber(total[l])}</b><span>${escapeHtml(this.levelTitle(l))}</span></div>`,
    ).join('');
    const f = this.filters;
    const option = (value: string, label: string, current: string) =>
      `<option value="${escapeHtml(value)}"${value === current ? ' selected' : ''}>${escapeHtml(label)}</option>`;
    const categories = [...new Set(table.points.map((p) => p.category))].sort();
    const streets = table.counts.by_street.filter((s) => s.total > 0);
    const filters = `<div class="risk-filters">
      <select data-risk-filter="level" aria-label="${t('level')}">${option('', t('allLevels'), f.level)}${RISK_LEVELS.map((l) => option(l, this.levelTitle(l), f.level)).join('')}</select>
      <select data-risk-filter="category" aria-label="${t('category')}">${option('', t('allCategories'), f.category)}${categories.map((c) => option(c, formatValue(this.prop('category'), c), f.category)).join('')}</select>
      <select data-risk-filter="street" aria-label="${t('street')}">${option('', t('allStreets'), f.street)}${streets.map((s) => option(s.street_id, pick({ zh: s.name_zh, en: s.name_en }), f.street)).join('')}</select>
      <label><input type="checkbox" data-risk-filter="overdue"${f.overdue ? ' checked' : ''}> ${t('overdueOnly')}</label></div>`;
    const rows = this.filtered();
    const head = (key: SortKey, word: 'unitName' | 'level' | 'street' | 'nextDue') =>
      `<th><button type="button" class="link" data-risk-sort="${key}">${t(word)}${this.sort.key === key ? (this.sort.dir === 1 ? ' ▲' : ' ▼') : ''}</button></th>`;
    const body = rows
      .map((p) => {
        const overdue = p.inspection_status === 'overdue';
        return `<tr data-risk-id="${p.id}" class="${overdue ? 'overdue' : ''}${p.id === this.selected ? ' selected' : ''}">
          <td>${escapeHtml(this.pointName(p))}<br><small class="muted">${escapeHtml(formatValue(this.prop('category'), p.category))}</small></td>
          <td data-level="${p.level}">${this.swatch(p.level)}${escapeHtml(this.levelTitle(p.level))}</td>
          <td>${escapeHtml(p.street_name_zh ?? '')}</td>
          <td>${escapeHtml(p.next_due ?? '–')}${overdue ? ` <small class="bad">${p.days_overdue === null ? t('neverInspected') : `+${p.days_overdue}${t('daysShort')}`}</small>` : ''}</td></tr>`;
      })
      .join('');
    return `<div class="cards level-cards">${cards}</div>
      <p class="small muted" data-risk-total="${total.total}">${t('total')} ${formatNumber(total.total)} · ${t('asOf')} ${escapeHtml(table.as_of)}</p>
      ${filters}<p class="small muted" data-risk-shown="${rows.length}">${t('shown')} ${formatNumber(rows.length)}</p>
      <div class="table-scroll risk-scroll"><table class="risk-table"><thead><tr>${head('name', 'unitName')}${head('level', 'level')}${head('street', 'street')}${head('next_due', 'nextDue')}</tr></thead><tbody>${body}</tbody></table></div>
      <div class="actions"><button type="button" data-risk-export="csv">${t('exportCsv')}</button><button type="button" data-risk-export="xlsx">${t('exportXlsx')}</button><small class="analysis-error export-note"></small></div>`;
  }

  private dueHtml(): string {
    const due = this.due;
    if (!due) return '';
    const byLevel = RISK_LEVELS.map((level) => {
      const points = due.points.filter((p) => p.level === level);
      if (!points.length) return '';
      const items = points
        .map(
          (p) =>
            `<li data-risk-id="${p.id}" data-due-status="${p.status}" class="${p.status}">${escapeHtml(p.name_zh)} · ${
              p.status === 'overdue'
                ? `<b class="bad">${p.never_inspected ? t('neverInspected') : `${t('overdue')} ${p.days_overdue}${t('daysShort')}`}</b>`
                : `${t('dueIn')} ${p.days_until_due}${t('daysShort')}`
            }</li>`,
        )
        .join('');
      return `<h4 data-due-level="${level}">${this.swatch(level as Level)}${escapeHtml(this.levelTitle(level))} (${points.length})</h4><ul class="due-list">${items}</ul>`;
    }).join('');
    return `<h3>${t('inspectionsDue')}</h3>
      <p class="small" data-due-summary><span class="bad">${t('overdue')} ${formatNumber(due.summary.overdue)}</span> · ${t('dueSoon')} ${formatNumber(due.summary.due_soon)}</p>${byLevel}`;
  }
}
