import { lang, onLang, pick, type Bilingual } from '../i18n.ts';

/**
 * "Offline copy of <date>": while the server answers tiles from its archive
 * (TILES_ARCHIVE, the database is unreachable), /ready says so and the wall
 * shows when that copy was made, so nobody reads an old map as the live one.
 * Checked every `everyMs`, whenever the live connection drops or returns, and
 * when the server says over it that its database went away or is back (the
 * caller's `check()`); while the database is away every `downEveryMs`, so the
 * notice goes soon after it is back.
 */
const OFFLINE: Bilingual = { zh: '离线副本', en: 'Offline copy of' };
const NO_DATABASE: Bilingual = { zh: '数据库不可用，地图未更新', en: 'Database unavailable — the map is not updating' };

interface ReadyAnswer {
  status?: string;
  tiles_from_archive?: { exported_at: string | null };
}

export class OfflineNotice {
  private state: { archiveDate: string | null; down: boolean } = { archiveDate: null, down: false };
  private next?: ReturnType<typeof setTimeout>;

  constructor(
    private readonly el: HTMLElement,
    private readonly everyMs = 15_000,
    private readonly downEveryMs = 3_000,
  ) {
    el.hidden = true;
    onLang(() => this.render());
    void this.check();
  }

  async check(): Promise<void> {
    clearTimeout(this.next);
    try {
      const res = await fetch('/ready', { cache: 'no-store' });
      const body = (await res.json().catch(() => ({}))) as ReadyAnswer;
      this.state = res.ok ? { archiveDate: null, down: false } : { archiveDate: body.tiles_from_archive?.exported_at ?? null, down: true };
    } catch {
      // The server itself is out of reach: the map keeps what it has drawn.
      this.state = { archiveDate: null, down: true };
    }
    this.render();
    clearTimeout(this.next);
    this.next = setTimeout(() => void this.check(), this.state.down ? this.downEveryMs : this.everyMs);
  }

  private render(): void {
    const { archiveDate, down } = this.state;
    this.el.hidden = !down;
    if (!down) return;
    if (archiveDate) {
      const d = new Date(archiveDate);
      const when = d.toLocaleString(lang() === 'zh' ? 'zh-CN' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' });
      this.el.textContent = `${pick(OFFLINE)} ${when}`;
      this.el.dataset.archive = archiveDate;
    } else {
      this.el.textContent = pick(NO_DATABASE);
      delete this.el.dataset.archive;
    }
  }
}
