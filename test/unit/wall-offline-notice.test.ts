/**
 * The wall's notice (client/src/wall/offline.ts) does not wait for ever on /ready: over a link
 * that died without a FIN the request gives no error, and the wall would go on looking live.
 * fetch is a stub that never answers (or answers 503); the element is a plain object.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OfflineNotice } from '../../client/src/wall/offline.ts';

const element = () => ({ hidden: false, textContent: '', dataset: {} as Record<string, string> }) as unknown as HTMLElement;

// The notice schedules its next check: with the timers faked, none is left running after a test
// (AbortSignal.timeout keeps the real clock).
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('the wall’s offline notice', () => {
  it('says the server is unreachable when /ready does not answer in time', async () => {
    let asked = 0;
    vi.stubGlobal('fetch', (_url: string, init: RequestInit) => {
      asked++;
      // Never answers; gives up only when the request's signal does.
      return new Promise((_resolve, reject) => init.signal?.addEventListener('abort', () => reject(init.signal!.reason)));
    });
    const el = element();
    const notice = new OfflineNotice(el, 15_000, 3_000, 200);
    expect(el.hidden).toBe(true);
    await notice.check();
    expect(asked).toBeGreaterThanOrEqual(1);
    expect(el.hidden).toBe(false);
    expect(el.textContent).toBe('无法连接服务器，地图未更新');
  });

  it('says the database is away when the server answers /ready with 503', async () => {
    vi.stubGlobal('fetch', async () => new Response(JSON.stringify({ status: 'not ready' }), { status: 503 }));
    const el = element();
    const notice = new OfflineNotice(el, 15_000, 3_000, 200);
    await notice.check();
    expect(el.hidden).toBe(false);
    expect(el.textContent).toBe('数据库不可用，地图未更新');
  });
});
