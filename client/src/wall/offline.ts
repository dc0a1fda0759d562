import { lang, onLang, pick, type Bilingual } from '../i18n.ts';

/**
 * "Offline copy of <date>": while the server answers tiles from its archive
 * (TILES_ARCHIVE, the database is unreachable), /ready says so and the wall
 * shows when that copy was made, so nobody reads an old map as the live one.
 * Checked every `everyMs`, whenever the live connection drops (it also drops when silent too long,
 * client/src/live/connection.ts) or returns, and
 * when the server says over it that its database went away or is back (the
 * caller's `check()`); while the database is away every `downEveryMs`, so the
 * notice goes soon after it is back.
 */
const OFFLINE: Bilingual = { zh: '离线副本', en: 'Offline copy of' };
const NO_DATABASE: Bilingual = { zh: '数据库不可用，地图未更新', en: 'Database unavailable — the map is not updating' };
const NO_SERVER: Bilingual = { zh: '无法连接服务器，地图未更新', en: 'Server unreachable — the map is not updating' };

interface ReadyAnswer {
  status?: string;
  tiles_from_archive?: { exported_at: string | null };
}

interface State {
  archiveDate: string | null;
  down: boolean;
  /** No answer from the server at all, within `answerMs`. */
  unreachable?: boolean;
}

export class OfflineNotice {
  private state: State = { archiveDate: null, down: false };
  private next?: ReturnType<typeof setTimeout>;

  /**
   * `answerMs`: how long /ready may take. A link that died without a FIN (a switch, a power cut at
   * the server) gives no error, and a request over it would wait for minutes with the notice hidden.
   */
  constructor(
    private readonly el: HTMLElement,
    private readonly everyMs = 15_000,
    private readonly downEveryMs = 3_000,
    private readonly answerMs = 5_000,
  ) {
    el.hidden = true;
    onLang(() => this.render());
    void this.check();
  }

  async check(): Promise<void> {
    clearTimeout(this.next);
    try {
      const signal = AbortSignal.timeout(this.answerMs);
      const res = await fetch('/ready', { cache: 'no-store', signal });
      const body = (await res.json().catch(() => ({}))) as ReadyAnswer;
      this.state = res.ok ? { archiveDate: null, down: false } : { archiveDate: body.tiles_from_archive?.exported_at ?? null, down: true };
    } catch {
      // The server itself is out of reach: the map keeps what it has drawn.
      this.state = { archiveDate: null, down: true, unreachable: true };
    }
    this.render();
    clearTimeout(this.next);
    this.next = setTimeout(() => void this.check(), this.state.down ? this.downEveryMs : this.everyMs);
  }

  private render(): void {
    const { archiveDate, down, unreachable } = this.state;
    this.el.hidden = !down;
    if (!down) return;
    if (archiveDate) {
      const d = new Date(archiveDate);
      const when = d.toLocaleString(lang() === 'zh' ? 'zh-CN' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' });
      this.el.textContent = `${pick(OFFLINE)} ${when}`;
      this.el.dataset.archive = archiveDate;
    } else {
      this.el.textContent = pick(unreachable ? NO_SERVER : NO_DATABASE);
      delete this.el.dataset.archive;
    }
  }
}
