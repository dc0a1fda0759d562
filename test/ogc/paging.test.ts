import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import type { Db } from '../../server/db/types.ts';
import { openOgcApp, walkPages } from './helpers.ts';

/** Paging over a collection of more than 10,000 features: each feature exactly once, whatever the order. */
let db: Db;
let app: Express;
let total: number;
beforeAll(async () => {
  ({ db, app } = await openOgcApp({ riskPoints: 10_500 }));
  total = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM risk_points WHERE deleted_at IS NULL')).rows[0].n;
}, 300_000);
afterAll(async () => db?.close());

function idsOf(pages: Awaited<ReturnType<typeof walkPages>>): number[] {
  return pages.flatMap((p) => p.body.features.map((f: { id: number }) => f.id));
}

describe('paging through 10,000+ features', () => {
  it('default order, limit 1000: every feature once, numberMatched on every page', async () => {
    expect(total).toBeGreaterThan(10_000);
    const pages = await walkPages(app, '/ogc/collections/risk_points/items?limit=1000');
    const ids = idsOf(pages);
    expect(ids.length).toBe(total);
    expect(new Set(ids).size).toBe(total);
    for (const p of pages) expect(p.body.numberMatched).toBe(total);
    expect(pages.length).toBe(Math.ceil(total / 1000));
    const sql = await db.query<{ id: number }>('SELECT id FROM risk_points WHERE deleted_at IS NULL ORDER BY id');
    expect(ids).toEqual(sql.rows.map((r) => r.id));
  });

  it('a sort key with many ties (level) still gives each feature once, because id breaks ties', async () => {
    const pages = await walkPages(app, '/ogc/collections/risk_points/items?limit=2500&sortby=-level&properties=level');
    const ids = idsOf(pages);
    expect(ids.length).toBe(total);
    expect(new Set(ids).size).toBe(total);
  });

  it('limit=10000 (the maximum page) pages to the end', async () => {
    const big = await walkPages(app, '/ogc/collections/risk_points/items?limit=10000&properties=');
    expect(big.length).toBe(Math.ceil(total / 10000));
    expect(new Set(idsOf(big)).size).toBe(total);
  });

  it('CSV pages follow the Link header to the end', async () => {
    let url: string | undefined = '/ogc/collections/risk_points/items?f=csv&limit=4000&properties=name_zh';
    let rows = 0;
    let pages = 0;
    while (url) {
      const r: request.Response = await request(app).get(url).expect(200);
      rows += r.text.trimEnd().split('\r\n').length - 1;
      pages++;
      const next: string | undefined = /<([^>]+)>; rel="next"/.exec(String(r.headers.link ?? ''))?.[1];
      url = next ? new URL(next).pathname + new URL(next).search : undefined;
    }
    expect(rows).toBe(total);
    expect(pages).toBe(Math.ceil(total / 4000));
  });
});
