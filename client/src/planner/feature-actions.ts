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
 * The popup's buttons for someone with a key: edit (opens the form), the audit
 * history, and for shelters adding or subtracting people (check-ins and
 * check-outs). Occupancy on every map follows through the live events.
 */
export class FeatureActions implements PopupExtras {
  private readonly editable = new Set<string>();
  /** The last check-in answer per shelter, kept across the popup redrawing itself. */
  private readonly results = new Map<string, { text: string; occupancy?: number; error: boolean }>();

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
    return `<div class="popup-actions">${buttons}</div>${checkins}<div class="history" data-history></div>`;
  }

  private resultHtml(id: string): string {
    const r = this.results.get(id);
    return `<small data-checkin-result${r?.occupancy !== undefined ? ` data-occupancy="${r.occupancy}"` : ''}${r?.error ? ' class="analysis-error"' : ''}>${escapeHtml(r?.text ?? '')}</small>`;
  }

  onAction(action: string, info: LayerInfo, id: string | number, section: HTMLElement): void {
    if (action === 'edit') void this.editor.edit(info, id);
    if (action === 'history') void this.showHistory(info, id, section.querySelector<HTMLElement>('[data-history]')!);
    if (action === 'checkin' || action === 'checkout') void this.checkIn(id, action === 'checkout', section);
  }

  private async showHistory(info: LayerInfo, id: string | number, box: HTMLElement): Promise<void> {
    box.textContent = t('loading');
    try {
      const entries = await featureHistory(info.id, id);
      box.innerHTML = entries.length
        ? `<ol class="history-list">${entries
            .slice()
            .reverse()
            .map(
              (e) =>
                `<li data-operation="${escapeHtml(e.operation)}"><b>${escapeHtml(e.at.slice(0, 16).replace('T', ' '))}</b> ${escapeHtml(e.actor)} · ${t(OPERATIONS[e.operation] ?? 'opUpdate')}<br><small>${escapeHtml(changedFields(e))}</small></li>`,
            )
            .join('')}</ol>`
        : `<p class="muted small">${t('noHistory')}</p>`;
    } catch (err) {
      box.innerHTML = `<p class="analysis-error small">${escapeHtml((err as Error).message)}</p>`;
    }
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
    // The popup may have redrawn meanwhile: write into its current section.
    const box = document.querySelector<HTMLElement>(`.popup .popup-feature[data-layer="shelters"][data-id="${CSS.escape(String(id))}"] [data-checkin-result]`);
    if (box) box.outerHTML = this.resultHtml(String(id));
  }
}
