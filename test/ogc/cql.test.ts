import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import type { Db } from '../../server/db/types.ts';
import { body, expectProblem, openOgcApp, walkPages } from './helpers.ts';

/** CQL2-text `filter=` (Part 3) against the same condition written in SQL. */
let db: Db;
let app: Express;
beforeAll(async () => {
  ({ db, app } = await openOgcApp({ riskPoints: 240 }));
}, 300_000);
afterAll(async () => db?.close());

const items = (filter: string, extra = '') => `/ogc/collections/risk_points/items?limit=1000&properties=&filter=${encodeURIComponent(filter)}${extra}`;

async function idsOf(filter: string, extra = ''): Promise<number[]> {
  const pages = await walkPages(app, items(filter, extra));
  return pages.flatMap((p) => p.body.features.map((f: { id: number }) => f.id));
}

async function sqlIds(where: string): Promise<number[]> {
  return (await db.query<{ id: number }>(`SELECT id FROM risk_points WHERE deleted_at IS NULL AND (${where}) ORDER BY id`)).rows.map((r) => r.id);
}

describe('filter (CQL2-text)', () => {
  const cases: [string, string][] = [
    [`level = 'red'`, `level = 'red'`],
    [`level <> 'red' AND district_id = 'huadu'`, `level <> 'red' AND district_id = 'huadu'`],
    [`level = 'red' OR level = 'blue' AND district_id = 'huadu'`, `level = 'red' OR (level = 'blue' AND district_id = 'huadu')`],
    [`NOT (level IN ('red', 'orange'))`, `NOT (level IN ('red', 'orange'))`],
    [`level NOT IN ('red')`, `level NOT IN ('red')`],
    [`last_inspection BETWEEN DATE('2024-02-01') AND DATE('2024-03-31')`, `last_inspection BETWEEN '2024-02-01' AND '2024-03-31'`],
    [`last_inspection < TIMESTAMP('2024-01-20T00:00:00Z')`, `last_inspection < '2024-01-20'`],
    [`last_inspection IS NULL`, `last_inspection IS NULL`],
    [`last_inspection IS NOT NULL AND street_id LIKE 'ogct\\_h%'`, `last_inspection IS NOT NULL AND street_id LIKE 'ogct\\_h%'`],
    [`S_INTERSECTS(geometry, BBOX(113.25, 23.11, 113.28, 23.13))`, `ST_Intersects(geom, ST_MakeEnvelope(113.25, 23.11, 113.28, 23.13, 4326))`],
    [
      `S_INTERSECTS(geometry, POLYGON((113.25 23.11, 113.3 23.11, 113.3 23.16, 113.25 23.11))) AND level = 'red'`,
      `ST_Intersects(geom, ST_GeomFromText('POLYGON((113.25 23.11, 113.3 23.11, 113.3 23.16, 113.25 23.11))', 4326)) AND level = 'red'`,
    ],
  ];
  for (const [cql, where] of cases) {
    it(`${cql} selects what SQL selects`, async () => {
      const expected = await sqlIds(where);
      expect(expected.length, 'the case must select something').toBeGreaterThan(0);
      expect(await idsOf(cql)).toEqual(expected);
    });
  }

  it('combines with the other filters, declares filter-lang, and next links keep the filter (small pages)', async () => {
    const expected = await sqlIds(`level IN ('red','orange') AND district_id = 'yuexiu'`);
    const pages = await walkPages(app, `/ogc/collections/risk_points/items?limit=9&properties=&district=yuexiu&filter-lang=cql2-text&filter=${encodeURIComponent(`level IN ('red','orange')`)}`);
    expect(pages.flatMap((p) => p.body.features.map((f: { id: number }) => f.id))).toEqual(expected);
    expect(pages[0].body.numberMatched).toBe(expected.length);
    expect(pages.length).toBe(Math.ceil(expected.length / 9));
  });

  it('refuses bad filters with 400 naming filter and saying why; unknown properties are named', async () => {
    const bad: [string, RegExp][] = [
      [`levle = 'red'`, /unknown property 'levle'/],
      [`contact_phone = '1'`, /unknown property 'contact_phone'/],
      [`level = 'purple'`, /not a value of 'level'/],
      [`level = `, /expected a literal/],
      [`level = 'red'; DROP TABLE risk_points`, /unexpected character/],
    ];
    for (const [cql, reason] of bad) {
      const p = await expectProblem(app, items(cql), 400);
      expect(p.param, cql).toBe('filter');
      expect(p.detail, cql).toMatch(reason);
    }
    expect((await expectProblem(app, items(`level = 'red'`, '&filter-lang=cql2-json'), 400)).param).toBe('filter-lang');
    expect((await expectProblem(app, items(`level = 'red'`, '&filter-crs=EPSG:3857'), 400)).param).toBe('filter-crs');
    const still = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM risk_points');
    expect(still.rows[0].n).toBeGreaterThan(0);
  });

  it('filters other collections on their own queryables', async () => {
    const r = await request(app).get(`/ogc/collections/shelters/items?filter=${encodeURIComponent(`status = 'open'`)}`).expect(200);
    const n = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM shelters WHERE deleted_at IS NULL AND status = 'open'`)).rows[0].n;
    expect(body(r).numberMatched).toBe(n);
  });
});
