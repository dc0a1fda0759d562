import { fetchJson, type GeoJsonCollection } from '../api.ts';
import type { OneMapApp } from '../app.ts';
import { escapeHtml } from '../dom.ts';
import { formatNumber, lang, t } from '../i18n.ts';
import type { ChangeEvent } from '../live/store.ts';

interface ShelterRow {
  id: string;
  name_zh: string;
  name_en: string;
  district: string;
  occupancy: number;
  capacity: number;
  status: string;
}

/** Shelters the board keeps at most (every shelter of the demo is ~300). */
const MAX_SHELTERS = 5000;

/**
 * Shelter occupancy for the district on the wall: totals and the fullest
 * shelters as bars that move as people check in and out (rows updated in
 * place from live events; bar widths animate in CSS).
 */
export class OccupancyBoard {
  private readonly rows = new Map<string, ShelterRow>();
  private gen = 0;

  constructor(
    private readonly el: HTMLElement,
    private readonly app: OneMapApp,
    private readonly top: number,
  ) {}

  nameOf(id: string | number): string | undefined {
    const row = this.rows.get(String(id));
    return row ? (lang() === 'en' ? row.name_en || row.name_zh : row.name_zh) : undefined;
  }

  async load(): Promise<void> {
    const gen = ++this.gen;
    const q = new URLSearchParams({ limit: '10000', properties: 'name_zh,name_en,district_id,occupancy,capacity,status' });
    if (this.app.state.district) q.set('district_id', this.app.state.district);
    try {
      const body = await fetchJson<GeoJsonCollection>(`/ogc/collections/shelters/items?${q}`, { headers: { Accept: 'application/geo+json' } });
      if (gen !== this.gen) return;
      this.rows.clear();
      for (const f of body.features.slice(0, MAX_SHELTERS)) {
        const p = f.properties;
        this.rows.set(String(f.id), {
          id: String(f.id),
          name_zh: String(p.name_zh ?? ''),
          name_en: String(p.name_en ?? ''),
          district: String(p.district_id ?? ''),
          occupancy: Number(p.occupancy) || 0,
          capacity: Number(p.capacity) || 0,
          status: String(p.status ?? ''),
        });
      }
    } catch {
      /* keep the last numbers; the next resync tries again */
    }
    this.render();
  }

  apply(e: ChangeEvent): void {
    if (e.layer !== 'shelters') return;
    const row = this.rows.get(String(e.id));
    if (!row) {
      // A new shelter, or any of them changed (written in plain SQL): reload the list once things
      // are quiet (a burst of inserts loads it once).
      if (e.op === 'insert' || e.resync) {
        clearTimeout(this.reload);
        this.reload = setTimeout(() => void this.load(), 2000);
      }
      return;
    }
    if (e.op === 'delete') this.rows.delete(row.id);
    if (e.occupancy !== undefined) row.occupancy = e.occupancy;
    if (e.capacity !== undefined) row.capacity = e.capacity;
    if (e.status !== undefined) row.status = e.status;
    if (!this.frame) this.frame = requestAnimationFrame(() => this.render());
  }

  private reload: ReturnType<typeof setTimeout> | undefined;
  private frame = 0;

  render(): void {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    const rows = [...this.rows.values()];
    const occupancy = rows.reduce((s, r) => s + r.occupancy, 0);
    const capacity = rows.reduce((s, r) => s + r.capacity, 0);
    const pct = (r: { occupancy: number; capacity: number }) => (r.capacity > 0 ? (100 * r.occupancy) / r.capacity : 0);
    const fullest = rows.sort((a, b) => pct(b) - pct(a) || b.occupancy - a.occupancy || b.capacity - a.capacity).slice(0, this.top);
    const bar = (r: ShelterRow) => {
      const p = Math.min(100, pct(r));
      const cls = p >= 90 ? 'high' : p >= 70 ? 'mid' : 'low';
      const name = lang() === 'en' ? r.name_en || r.name_zh : r.name_zh;
      return `<li data-shelter-id="${escapeHtml(r.id)}"><span class="name">${escapeHtml(name)}</span>
        <span class="bar ${cls}"><i style="width:${p.toFixed(1)}%"></i></span><span class="num">${formatNumber(r.occupancy)} / ${formatNumber(r.capacity)}</span></li>`;
    };
    // Keep the list's elements when the same shelters stay on top, so the bars glide instead of jumping.
    const ids = fullest.map((r) => r.id).join(',');
    const list = this.el.querySelector<HTMLElement>('ol.bars');
    const totals = `<p class="totals"><b>${formatNumber(occupancy)}</b> / ${formatNumber(capacity)} <small>${t('occupancy')} ${formatNumber(capacity ? (100 * occupancy) / capacity : 0, 1)}%</small></p>`;
    if (list && list.dataset.ids === ids) {
      this.el.querySelector('.totals')!.outerHTML = totals;
      fullest.forEach((r, i) => {
        const li = list.children[i] as HTMLElement;
        const p = Math.min(100, pct(r));
        const bar = li.querySelector<HTMLElement>('.bar')!;
        bar.className = `bar ${p >= 90 ? 'high' : p >= 70 ? 'mid' : 'low'}`;
        bar.querySelector<HTMLElement>('i')!.style.width = `${p.toFixed(1)}%`;
        li.querySelector('.num')!.textContent = `${formatNumber(r.occupancy)} / ${formatNumber(r.capacity)}`;
      });
      return;
    }
    this.el.innerHTML = `${totals}<ol class="bars" data-ids="${escapeHtml(ids)}">${fullest.map(bar).join('')}</ol>`;
  }
}
