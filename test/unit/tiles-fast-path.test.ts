import { describe, expect, it } from 'vitest';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TileCache, type CachedTile } from '../../tiles/cache.ts';
import { answerFromCache } from '../../tiles/fast-path.ts';

const URL = '/tiles/risk_points/10/834/444.mvt';

function cached(extra: Partial<CachedTile> = {}): TileCache {
  const cache = new TileCache(1e6);
  const body = Buffer.from('tile bytes');
  cache.set(
    {
      key: `a:${URL}`,
      status: 200,
      body,
      etag: '"abc"',
      layers: ['risk_points'],
      tile: { z: 10, x: 834, y: 444 },
      headers: { 'Content-Length': String(body.length), ETag: '"abc"' },
      notModifiedHeaders: { ETag: '"abc"' },
      replayable: true,
      ...extra,
    },
    cache.epoch,
  );
  return cache;
}

function exchange(method: string, headers: Record<string, string> = {}, locals?: object) {
  const written: { status?: number; headers?: object; body?: unknown; ended: boolean } = { ended: false };
  const req = { method, url: URL, headers } as unknown as IncomingMessage;
  const res = {
    locals,
    writeHead(status: number, h: object) {
      written.status = status;
      written.headers = h;
    },
    end(body?: unknown) {
      written.body = body;
      written.ended = true;
    },
  } as unknown as ServerResponse;
  return { req, res, written };
}

describe('answering cached tiles before Express', () => {
  it('answers an anonymous GET from the cache', () => {
    const { req, res, written } = exchange('GET');
    expect(answerFromCache(cached(), req, res)).toBe(true);
    expect(written.status).toBe(200);
    expect(String(written.body)).toBe('tile bytes');
  });

  it('HEAD gets the headers only; a matching If-None-Match gets 304', () => {
    const head = exchange('HEAD');
    expect(answerFromCache(cached(), head.req, head.res)).toBe(true);
    expect(head.written.body).toBeUndefined();
    const conditional = exchange('GET', { 'if-none-match': '"abc"' });
    expect(answerFromCache(cached(), conditional.req, conditional.res)).toBe(true);
    expect(conditional.written.status).toBe(304);
  });

  it('leaves to Express: callers with credentials, principals set by an outer app, other methods, misses, request-dependent entries', () => {
    const cases = [
      exchange('GET', { authorization: 'Bearer om_x' }),
      exchange('GET', {}, { principal: { canSeeRestricted: true } }),
      exchange('POST'),
    ];
    for (const { req, res, written } of cases) {
      expect(answerFromCache(cached(), req, res)).toBe(false);
      expect(written.ended).toBe(false);
    }
    const miss = exchange('GET');
    expect(answerFromCache(new TileCache(1e6), miss.req, miss.res)).toBe(false);
    const varying = exchange('GET');
    expect(answerFromCache(cached({ replayable: false }), varying.req, varying.res)).toBe(false);
  });
});
