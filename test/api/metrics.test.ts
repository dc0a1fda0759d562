import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { backend, testDb } from '../setup/db.ts';
import type { Db } from '../../server/db/types.ts';
import { metricValue as value } from '../helpers/metrics.ts';
import { appOn } from '../helpers/test-app.ts';

let db: Db;
let app: Express;
let guarded: Express;
const TOKEN = 'metrics-token-0123456789';
beforeAll(async () => {
  db = await testDb();
  app = appOn(db);
  guarded = appOn(db, { METRICS_TOKEN: TOKEN, RATE_LIMIT_PER_MIN: '2', TRUST_PROXY: '1' });
});
afterAll(async () => db?.close());

async function scrape(target = app): Promise<string> {
  const r = await request(target).get('/metrics').expect(200);
  expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return r.text;
}

describe('GET /metrics', () => {
  it('counts requests and latency by route template, never by raw URL', async () => {
    await request(app).get('/layers').expect(200);
    const items = await request(app).get('/ogc/collections/shelters/items?limit=1').expect(200);
    const fid = items.body.features[0].id;
    expect(fid).toBeDefined();
    await request(app).get(`/ogc/collections/shelters/items/${fid}`).expect(200);
    await request(app).get('/ogc/collections/shelters/items/987654321').expect(404);
    const text = await scrape();
    expect(value(text, 'onemap_http_requests_total{method="GET",route="/layers",status="200"}')).toBe(1);
    expect(value(text, 'onemap_http_requests_total{method="GET",route="/ogc/collections/:collectionId/items/:featureId",status="200"}')).toBe(1);
    expect(value(text, 'onemap_http_requests_total{method="GET",route="/ogc/collections/:collectionId/items/:featureId",status="404"}')).toBe(1);
    expect(value(text, 'onemap_http_request_duration_seconds_count{method="GET",route="/layers"}')).toBe(1);
    expect(text).toMatch(/onemap_http_request_duration_seconds_bucket\{le="0\.1",method="GET",route="\/layers"\} \d/);
    // No label carries an id or a query string.
    for (const line of text.split('\n').filter((l) => l.startsWith('onemap_http_'))) {
      expect(line).not.toMatch(/\/items\/\d/);
      expect(line).not.toContain('987654321');
      expect(line).not.toContain('limit=');
    }
  });

  it('reports tile cache hits, misses and bytes, fast-path answers included', async () => {
    const before = await scrape();
    // A layer list no other test in this file asks for, so the first request is a miss (unknown query parameters are refused).
    const tile = '/tiles/shelters,districts/8/208/111.mvt';
    await request(app).get(tile);
    await request(app).get(tile);
    await request(app).get(tile);
    const after = await scrape();
    const delta = (series: string) => (value(after, series) ?? NaN) - (value(before, series) ?? NaN);
    // Misses count lookups: a public tile rendered through the fast path is looked up twice.
    expect(delta('onemap_tile_cache_misses_total')).toBeGreaterThanOrEqual(1);
    expect(delta('onemap_tile_cache_misses_total')).toBeLessThanOrEqual(2);
    expect(delta('onemap_tile_cache_hits_total')).toBe(2);
    expect(delta('onemap_tile_fast_path_answers_total')).toBe(2);
    expect(value(after, 'onemap_tile_cache_bytes')).toBeGreaterThan(0);
    expect(value(after, 'onemap_tile_cache_max_bytes')).toBe(64 * 1024 * 1024);
    expect(value(after, 'onemap_http_requests_total{method="GET",route="/tiles/:layers/:z/:x/:y.mvt",status="200"}') ?? value(after, 'onemap_http_requests_total{method="GET",route="/tiles/:layers/:z/:x/:y.mvt",status="204"}')).toBeGreaterThanOrEqual(3);
  });

  it('reports live clients, analysis durations, the pool (PostgreSQL) and the process', async () => {
    const nearest = await request(app).get('/analysis/nearest-shelters?lon=113.22&lat=23.4&n=2');
    expect(nearest.status).toBe(200);
    const text = await scrape();
    expect(value(text, 'onemap_live_clients')).toBe(0);
    expect(value(text, 'onemap_analysis_duration_seconds_count{analysis="/analysis/nearest-shelters"}')).toBe(1);
    if (backend === 'postgres') {
      expect(value(text, 'onemap_db_pool_in_use')).toBeGreaterThanOrEqual(1); // the LISTEN connection
      expect(value(text, 'onemap_db_pool_waiting')).toBe(0);
    } else {
      expect(text).not.toContain('onemap_db_pool_in_use ');
    }
    expect(value(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(value(text, 'onemap_worker_pool_size')).toBeGreaterThanOrEqual(1);
    expect(value(text, 'onemap_worker_queue_length')).toBe(0);
  });

  it('counts rejected requests by reason', async () => {
    await request(app).get('/ogc/collections/shelters/items?limit=abc').expect(400);
    await request(app).get('/layers').set('authorization', 'Bearer nonsense').expect(401);
    const text = await scrape();
    expect(value(text, 'onemap_rejected_requests_total{reason="validation"}')).toBe(1);
    expect(value(text, 'onemap_rejected_requests_total{reason="unauthorized"}')).toBe(1);

    for (let i = 0; i < 2; i++) await request(guarded).get('/layers').set('x-forwarded-for', '198.51.100.7').expect(200);
    await request(guarded).get('/layers').set('x-forwarded-for', '198.51.100.7').expect(429);
    const limited = await request(guarded).get('/metrics').set('authorization', `Bearer ${TOKEN}`).expect(200);
    expect(value(limited.text, 'onemap_rejected_requests_total{reason="rate_limit"}')).toBe(1);
  });

  it('answers loopback callers only, unless METRICS_TOKEN is set; never a caller relayed by a proxy', async () => {
    await request(guarded).get('/metrics').expect(403);
    const wrong = await request(guarded).get('/metrics').set('authorization', `Bearer ${TOKEN}x`);
    expect(wrong.status).toBe(403);
    expect(wrong.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(JSON.parse(wrong.text)).toMatchObject({ status: 403, param: 'Authorization' });
    await request(guarded).get('/metrics').set('authorization', `Bearer ${TOKEN}`).expect(200);

    const proxiedApp = appOn(db, { TRUST_PROXY: '1' });
    await request(proxiedApp).get('/metrics').set('x-forwarded-for', '203.0.113.9').expect(403);
    await request(proxiedApp).get('/metrics').expect(200);
  });
});
