import type { OneMapApp } from '../app.ts';
import { escapeHtml } from '../dom.ts';
import { formatNumber, formatTime, pick, t } from '../i18n.ts';
import type { ChangeEvent } from '../live/store.ts';
import { riskLevelColor } from '../risk.ts';

interface TickerItem {
  event: ChangeEvent;
  alarming: boolean;
  at: Date;
  /** Whole-layer changes: every layer one transaction (or one reconnection) reloaded, on one line. */
  layers?: string[];
}

/**
 * The latest changes, newest first, with their times. Holds `size` items and
 * no more: older ones drop off, so a wall running for weeks keeps one short list.
 */
export class Ticker {
  private items: TickerItem[] = [];

  constructor(
    private readonly el: HTMLElement,
    private readonly app: OneMapApp,
    private readonly size: number,
    /** Names of features the events do not name (shelters whose occupancy changed). */
    private readonly nameOf: (layer: string, id: string | number) => string | undefined = () => undefined,
  ) {}

  add(event: ChangeEvent, alarming: boolean): void {
    const at = new Date(event.at);
    const top = this.items[0];
    // The whole-layer changes of one version arrive together (a transaction written in plain SQL,
    // or every layer after a break in the stream): one line, not one per layer pushing the rest out.
    if (event.resync && top?.layers && top.event.version === event.version) {
      if (!top.layers.includes(event.layer)) top.layers.push(event.layer);
    } else {
      this.items.unshift({ event, alarming, at: Number.isNaN(at.getTime()) ? new Date() : at, ...(event.resync ? { layers: [event.layer] } : {}) });
    }
    if (this.items.length > this.size) this.items.length = this.size;
    // A burst of events redraws the list once per frame, not once per event.
    if (!this.frame) this.frame = requestAnimationFrame(() => this.render());
  }

  private frame = 0;

  render(): void {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    if (!this.items.length) {
      this.el.innerHTML = `<li class="empty">${t('noChanges')}</li>`;
      return;
    }
    this.el.innerHTML = this.items.map((item) => this.itemHtml(item)).join('');
  }

  private itemHtml({ event: e, alarming, at, layers = [e.layer] }: TickerItem): string {
    const info = this.app.live.layerOf(e.layer);
    const titleOf = (id: string) => {
      const l = this.app.live.layerOf(id);
      return l ? pick(l.title) : id;
    };
    const layerTitle = layers.map(titleOf).join(', ');
    const op = opWord(e);
    const levelProp = info?.properties.find((p) => p.name === 'level');
    const level = e.level && levelProp?.enumTitles?.[e.level] ? pick(levelProp.enumTitles[e.level]) : '';
    const chip = e.level && info ? `<i class="chip" style="background:${riskLevelColor(info, e.level)}"></i>` : '';
    // A whole-layer change names no feature: the layer's title says it all.
    const name = e.resync ? '' : (e.name_zh ?? this.nameOf(e.layer, e.id) ?? '') || `#${e.id}`;
    const occupancy =
      e.type === 'occupancy' && e.occupancy !== undefined ? ` ${formatNumber(e.occupancy)}${e.capacity ? ` / ${formatNumber(e.capacity)}` : ''}` : '';
    return `<li class="${alarming ? 'alarming' : ''}" data-layer="${escapeHtml(layers.join(' '))}" data-id="${escapeHtml(String(e.id))}">
      <time>${formatTime(at)}</time>${chip}<span class="what">${escapeHtml(op)} · ${escapeHtml(layerTitle)}</span>
      <span class="name">${escapeHtml(name)}${level ? ` · ${escapeHtml(level)}` : ''}${escapeHtml(occupancy)}</span></li>`;
  }
}

/** What happened, in a word: a whole layer reloaded, occupancy, an import, or an edit. */
function opWord(e: ChangeEvent): string {
  if (e.resync) return t('opReload');
  if (e.type === 'occupancy') return t('opOccupancy');
  if (e.type === 'import') return t('opImport');
  return t(e.op === 'insert' ? 'opInsert' : e.op === 'delete' ? 'opDelete' : 'opUpdate');
}
