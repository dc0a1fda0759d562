import type { LayerInfo } from '../api.ts';
import { checkIn, featureHistory, featureSchema, type HistoryEntry } from '../api-edit.ts';
import type { OneMapApp } from '../app.ts';
import { escapeHtml } from '../dom.ts';
import { formatNumber, t } from '../i18n.ts';
import type { PopupExtras } from '../popup.ts';
import type { EditPanel } from './edit-panel.ts';

const OPERATIONS: Record<string, 'opInsert' | 'opUpdate' | 'opDelete'> = { insert: 'opInsert', update: 'opUpdate', delete: 'opDelete', restore: 'opInsert' };

/** What changed in one audit entry: the fields whose value differs between before and after. */
function changedFields(e: HistoryEntry): string {
  if (!e.before || !e.after) return '';
  return Object.keys(e.after)
    .filter((k) => JSON.stringify(e.before![k]) !== JSON.stringify(e.after![k]))
    .map((k) => `${k}: ${String(e.before![k] ?? '–')} → ${String(e.after![k] ?? '–')}`)
    .join('; ');
}

/**
 * The part `selector` of a feature's section in the popup as it is now: the popup may have
 * redrawn itself while an answer was awaited, replacing the section the action came from.
 */
function currentPart(layer: string, id: string | number, selector: string): HTMLElement | null {
  return document.querySelector<HTMLElement>(`.popup .popup-feature[data-layer="${CSS.escape(layer)}"][data-id="${CSS.escape(String(id))}"] ${selector}`);
}

/**
 * The popup's buttons for someone with a key: edit (opens the form), the audit
 * history, and for shelters adding or subtracting people (check-ins and
 * check-outs). Occupancy on every map follows through the live events.
 */
export class FeatureActions implements PopupExtras {
  private readonly editable = new Set<string>();
  /** The last check-in answer per shelter, kept across the popup redrawing itself. */
  private readonly results = new Map<string, { text: string; occupancy?: number; error: boolean }>();
  /**
   * The history shown per feature (`layer/id`), kept across the popup redrawing itself: a
   * feature changed a moment ago is picked from the live layer too, and the popup redraws
   * when its full record arrives, which would otherwise drop a history just opened.
   */
  private readonly histories = new Map<string, HistoryEntry[] | Error | 'loading'>();

  constructor(
    app: OneMapApp,
    private readonly editor: EditPanel,
  ) {
    for (const l of app.catalogue.filter((l) => l.geometry === 'point')) {
      featureSchema(l.id)
        .then((s) => s['x-editable'] && this.editable.add(l.id))
        .catch(() => {});
    }
  }

  html(info: LayerInfo, id: string | number): string {
    if (typeof id !== 'number' && !/^\d+$/.test(String(id))) return '';
    const buttons = [
      this.editable.has(info.id) ? `<button type="button" data-extra="edit">${t('edit')}</button>` : '',
      `<button type="button" data-extra="history">${t('history')}</button>`,
    ].join('');
    const checkins =
      info.id === 'shelters'
        ? `<div class="checkin"><label>${t('people')} <input type="number" min="1" step="1" value="1" data-checkin-people></label>
          <button type="button" data-extra="checkin" title="${t('checkIn')}">＋ ${t('checkIn')}</button><button type="button" data-extra="checkout" title="${t('checkOut')}">－ ${t('checkOut')}</button>
          ${this.resultHtml(String(id))}</div>`
        : '';
    return `<div class="popup-actions">${buttons}</div>${checkins}<div class="history" data-history>${this.historyHtml(`${info.id}/${id}`)}</div>`;
  }

  private resultHtml(id: string): string {
    const r = this.results.get(id);
    return `<small data-checkin-result${r?.occupancy !== undefined ? ` data-occupancy="${r.occupancy}"` : ''}${r?.error ? ' class="analysis-error"' : ''}>${escapeHtml(r?.text ?? '')}</small>`;
  }

  onAction(action: string, info: LayerInfo, id: string | number, section: HTMLElement): void {
    if (action === 'edit') void this.editor.edit(info, id);
    if (action === 'history') void this.showHistory(info, id);
    if (action === 'checkin' || action === 'checkout') void this.checkIn(id, action === 'checkout', section);
  }

  private historyHtml(key: string): string {
    const h = this.histories.get(key);
    if (h === undefined) return '';
    if (h === 'loading') return escapeHtml(t('loading'));
    if (h instanceof Error) return `<p class="analysis-error small">${escapeHtml(h.message)}</p>`;
    if (!h.length) return `<p class="muted small">${t('noHistory')}</p>`;
    const items = h
      .slice()
      .reverse()
      .map(
        (e) =>
          `<li data-operation="${escapeHtml(e.operation)}"><b>${escapeHtml(e.at.slice(0, 16).replace('T', ' '))}</b> ${escapeHtml(e.actor)} · ${t(OPERATIONS[e.operation] ?? 'opUpdate')}<br><small>${escapeHtml(changedFields(e))}</small></li>`,
      );
    return `<ol class="history-list">${items.join('')}</ol>`;
  }

  private async showHistory(info: LayerInfo, id: string | number): Promise<void> {
    const key = `${info.id}/${id}`;
    const show = (h: HistoryEntry[] | Error | 'loading') => {
      this.histories.set(key, h);
      const box = currentPart(info.id, id, '[data-history]');
      if (box) box.innerHTML = this.historyHtml(key);
    };
    show('loading');
    try {
      show(await featureHistory(info.id, id));
    } catch (err) {
      show(err as Error);
    }
  }

  /** A new click on the map: histories opened before are not shown again (they may be out of date). */
  onOpen(): void {
    this.histories.clear();
  }

  private async checkIn(id: string | number, out: boolean, section: HTMLElement): Promise<void> {
    const people = Number(section.querySelector<HTMLInputElement>('[data-checkin-people]')?.value);
    try {
      const o = await checkIn(id, people, out);
      this.results.set(String(id), {
        text: `${t('occupancy')} ${formatNumber(o.occupancy)} / ${formatNumber(o.capacity)} · ${t('freePlaces')} ${formatNumber(o.free)}`,
        occupancy: o.occupancy,
        error: false,
      });
    } catch (err) {
      this.results.set(String(id), { text: (err as Error).message, error: true });
    }
    const box = currentPart('shelters', id, '[data-checkin-result]');
    if (box) box.outerHTML = this.resultHtml(String(id));
  }
}
