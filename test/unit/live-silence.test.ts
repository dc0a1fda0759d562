/**
 * The live connection of maps and walls (client/src/live/connection.ts) takes a stream that has
 * gone silent as broken. A link that dies without a FIN (a switch, a power cut at the server)
 * raises no error in the browser: without this, a wall would show "live" over a map that no
 * longer changes. The server's heartbeats (`event: heartbeat`, server/live/events.ts) are what
 * the client listens for; the server side is tested in test/unit/live-heartbeat.test.ts.
 * EventSource is a stub here, and the clock is vitest's.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveConnection, type LiveStatus } from '../../client/src/live/connection.ts';

class FakeEventSource {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  static made: FakeEventSource[] = [];
  readyState = FakeEventSource.CONNECTING;
  private readonly listeners = new Map<string, ((e: MessageEvent<string>) => void)[]>();
  constructor(readonly url: string) {
    FakeEventSource.made.push(this);
  }
  addEventListener(type: string, fn: (e: MessageEvent<string>) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  close() {
    this.readyState = FakeEventSource.CLOSED;
  }
  emit(type: string, data = '', lastEventId = '') {
    if (type === 'open') this.readyState = FakeEventSource.OPEN;
    for (const fn of this.listeners.get(type) ?? []) fn({ data, lastEventId } as MessageEvent<string>);
  }
}

let statuses: LiveStatus[];
let resyncs: number;
let live: LiveConnection;
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
  vi.stubGlobal('EventSource', FakeEventSource);
  FakeEventSource.made = [];
  statuses = [];
  resyncs = 0;
  live = new LiveConnection({ change: () => {}, status: (s) => statuses.push(s), resync: () => resyncs++ });
  live.start();
});
afterEach(() => {
  live.stop();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

const current = () => FakeEventSource.made.at(-1)!;

describe('a live stream that goes silent', () => {
  it('stays open as long as heartbeats come, however long nothing changes', () => {
    current().emit('open');
    for (let i = 0; i < 40; i++) {
      vi.advanceTimersByTime(15_000);
      current().emit('heartbeat', '{"interval_s":15}');
    }
    expect(FakeEventSource.made).toHaveLength(1);
    expect(statuses.at(-1)).toBe('open');
  });

  it('is given up after three missed heartbeats, shown as reconnecting, and opened again; back, the map resyncs', () => {
    const first = current();
    first.emit('open');
    first.emit('heartbeat', '{"interval_s":15}');
    vi.advanceTimersByTime(45_000);
    expect(statuses.at(-1)).toBe('open');
    vi.advanceTimersByTime(1_000);
    expect(statuses.at(-1)).toBe('reconnecting');
    expect(first.readyState).toBe(FakeEventSource.CLOSED);
    vi.advanceTimersByTime(1_000); // the first retry delay
    expect(FakeEventSource.made).toHaveLength(2);
    current().emit('open');
    expect(statuses.at(-1)).toBe('open');
    expect(resyncs).toBe(1);
  });

  it('follows the interval the server names', () => {
    current().emit('open');
    current().emit('heartbeat', '{"interval_s":2}');
    vi.advanceTimersByTime(7_000);
    expect(statuses.at(-1)).toBe('reconnecting');
  });

  it('a new stream that never opens (the link is still down) is given up in turn', () => {
    current().emit('open');
    vi.advanceTimersByTime(46_000);
    vi.advanceTimersByTime(1_000);
    expect(FakeEventSource.made).toHaveLength(2);
    vi.advanceTimersByTime(46_000 + 2_000); // silent again, then the second retry delay
    expect(FakeEventSource.made).toHaveLength(3);
    expect(FakeEventSource.made.slice(0, -1).every((s) => s.readyState === FakeEventSource.CLOSED)).toBe(true);
  });
});
