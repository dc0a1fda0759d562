import type { ChangeEvent } from './store.ts';

export type LiveStatus = 'connecting' | 'open' | 'reconnecting';

export interface LiveHandlers {
  change(event: ChangeEvent): void;
  status(status: LiveStatus): void;
  /** The stream came back after a break: changes may have been missed. */
  resync(): void;
  /** The server lost its database (`false`) or has it back (`true`). */
  database?(up: boolean): void;
}

export interface LiveOptions {
  url: string;
  /** First retry delay after the browser gives up on its own, ms. */
  minRetryMs: number;
  /** Longest retry delay, ms: a wall should be back within this after the server is. */
  maxRetryMs: number;
  /**
   * Heartbeats that may go missing before a stream that looks open is taken as broken. The server
   * sends one every `interval_s` (15 s): a link that died without a FIN (a switch, a power cut at
   * the server) sends no error, and the browser would keep showing the stream as open for hours.
   */
  missedHeartbeats: number;
}

const DEFAULTS: LiveOptions = { url: '/events', minRetryMs: 1000, maxRetryMs: 10_000, missedHeartbeats: 3 };
/** The server's heartbeat interval until it names its own (server/live/events.ts). */
const HEARTBEAT_MS = 15_000;

/**
 * `GET /events` over EventSource, kept alive without a page reload. The browser
 * retries a dropped stream by itself (sending Last-Event-ID); when it gives up
 * (the server answered with an error while restarting) a new EventSource is
 * opened with `?lastEventId=`, backing off up to `maxRetryMs`. Every reopening
 * after a break asks for a resync, since the server's replay buffer may not
 * reach back far enough (it is empty after a restart). A stream silent for
 * `missedHeartbeats` heartbeats counts as a break too.
 */
export class LiveConnection {
  private source: EventSource | null = null;
  /** The last event id seen, as sent (`V` or `V.k`: a number would read `12.10` as `12.1`). */
  private lastId: string | null = null;
  private retryMs: number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private broken = false;
  private stopped = false;
  private readonly options: LiveOptions;
  /** When the current stream was opened or last sent anything (an event, a heartbeat); the monotonic clock, which no clock setting moves. */
  private heardAt = 0;
  private heartbeatMs = HEARTBEAT_MS;
  private watchdog: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly handlers: LiveHandlers,
    options: Partial<LiveOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.retryMs = this.options.minRetryMs;
  }

  start(): void {
    this.stopped = false;
    this.connect();
    clearInterval(this.watchdog);
    this.watchdog = setInterval(() => this.checkSilence(), 1000);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.watchdog);
    this.source?.close();
    this.source = null;
  }

  /**
   * A stream (open, or still connecting) that has sent nothing for `missedHeartbeats` heartbeats
   * is given up: closed, shown as reconnecting, and opened again.
   */
  private checkSilence(): void {
    const es = this.source;
    if (!es || this.stopped || es.readyState === EventSource.CLOSED) return;
    if (performance.now() - this.heardAt <= this.options.missedHeartbeats * this.heartbeatMs) return;
    this.broken = true;
    this.handlers.status('reconnecting');
    es.close();
    this.source = null;
    this.retry();
  }

  private retry(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), this.retryMs);
    this.retryMs = Math.min(this.options.maxRetryMs, this.retryMs * 2);
  }

  private connect(): void {
    const url = this.lastId === null ? this.options.url : `${this.options.url}?lastEventId=${encodeURIComponent(this.lastId)}`;
    const es = new EventSource(url);
    this.source = es;
    this.heardAt = performance.now();
    this.handlers.status(this.broken ? 'reconnecting' : 'connecting');
    const heard = () => {
      if (this.source === es) this.heardAt = performance.now();
    };
    es.addEventListener('heartbeat', (e) => {
      heard();
      try {
        const every = Number((JSON.parse((e as MessageEvent<string>).data) as { interval_s?: unknown }).interval_s);
        if (every > 0) this.heartbeatMs = every * 1000;
      } catch {
        /* a malformed heartbeat still counts as one */
      }
    });
    es.addEventListener('open', () => {
      heard();
      this.retryMs = this.options.minRetryMs;
      this.handlers.status('open');
      if (this.broken) {
        this.broken = false;
        this.handlers.resync();
      }
    });
    es.addEventListener('change', (e) => {
      heard();
      const msg = e as MessageEvent<string>;
      if (/^\d+(\.\d+)?$/.test(msg.lastEventId)) this.lastId = msg.lastEventId;
      try {
        this.handlers.change(JSON.parse(msg.data) as ChangeEvent);
      } catch {
        /* a malformed event is skipped, the stream goes on */
      }
    });
    es.addEventListener('database', (e) => {
      heard();
      try {
        this.handlers.database?.(Boolean((JSON.parse((e as MessageEvent<string>).data) as { up?: unknown }).up));
      } catch {
        /* a malformed notice is skipped */
      }
    });
    es.addEventListener('error', () => {
      this.broken = true;
      this.handlers.status('reconnecting');
      if (es.readyState !== EventSource.CLOSED || this.stopped || this.source !== es) return; // the browser is retrying by itself
      es.close();
      this.retry();
    });
  }
}
