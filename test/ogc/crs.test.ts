import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import type { Db } from '../../server/db/types.ts';
import { body, expectProblem, openOgcApp } from './helpers.ts';

/**
 * OGC API – Features Part 2: the `crs` list of a collection is what a client may
 * ask for. Checked both ways over HTTP: every advertised CRS works for `crs` and
 * `bbox-crs` on items and for one feature, every spelling the OpenAPI document
 * offers names an advertised CRS, and anything else is a 400 naming the
 * parameter and listing the advertised values.
 */
let db: Db;
let app: Express;
beforeAll(async () => {
  ({ db, app } = await openOgcApp({ riskPoints: 40 }));
}, 300_000);
afterAll(async () => db?.close());

const ITEMS = '/ogc/collections/risk_points/items';
const q = encodeURIComponent;

async function advertised(): Promise<string[]> {
  return body(await request(app).get('/ogc/collections/risk_points').expect(200)).crs;
}

describe('crs list of the collections', () => {
  it('is the same list on every collection and in /collections, and holds the storageCrs (CRS84, first)', async () => {
    const list = await advertised();
    expect(list[0]).toBe('http://www.opengis.net/def/crs/OGC/1.3/CRS84');
    expect(list).toContain('urn:x-onemap:crs:gcj02');
    const all = body(await request(app).get('/ogc/collections').expect(200));
    expect(all.crs).toEqual(list);
    for (const c of all.collections) {
      expect(c.crs, c.id).toEqual(list);
      expect(list, c.id).toContain(c.storageCrs);
    }
  });

  it('every advertised crs is accepted by crs (items and one feature) and named in Content-Crs', async () => {
    for (const crs of await advertised()) {
      const page = await request(app).get(`${ITEMS}?limit=1&sortby=id&crs=${q(crs)}`).expect(200);
      expect(page.headers['content-crs'], crs).toBe(`<${crs}>`);
      const feature = body(page).features[0];
      const one = await request(app).get(`${ITEMS}/${feature.id}?crs=${q(crs)}`).expect(200);
      expect(one.headers['content-crs'], crs).toBe(`<${crs}>`);
      expect(body(one).geometry.coordinates, crs).toEqual(feature.geometry.coordinates);
    }
  });

  it('every advertised crs is accepted by bbox-crs: a small box around a feature in that crs selects it', async () => {
    for (const crs of await advertised()) {
      const feature = body(await request(app).get(`${ITEMS}?limit=1&sortby=id&crs=${q(crs)}`).expect(200)).features[0];
      const [a, b] = feature.geometry.coordinates as [number, number];
      // Coordinates and bbox share the CRS's axis order; metres for Web Mercator, degrees otherwise.
      const e = Math.abs(a) > 1000 ? 5 : 0.0001;
      const box = [a - e, b - e, a + e, b + e].join(',');
      const page = body(await request(app).get(`${ITEMS}?limit=100&bbox=${box}&bbox-crs=${q(crs)}`).expect(200));
      expect(page.features.map((f: { id: number }) => f.id), crs).toContain(feature.id);
    }
  });

  it('every spelling the OpenAPI document offers for crs names an advertised crs', async () => {
    const list = await advertised();
    const doc = body(await request(app).get('/ogc/api').expect(200));
    const param = doc.paths['/collections/risk_points/items'].get.parameters
      .map((p: { $ref?: string; name?: string }) => (p.$ref ? doc.components.parameters[p.$ref.split('/').pop()!] : p))
      .find((p: { name: string }) => p.name === 'crs');
    const spellings: string[] = param.schema.enum;
    expect(spellings).toEqual(expect.arrayContaining(list));
    for (const s of spellings) {
      const r = await request(app).get(`${ITEMS}?limit=1&crs=${q(s)}`).expect(200);
      expect(list, s).toContain(r.headers['content-crs'].slice(1, -1));
    }
  });

  it('an unadvertised crs is a 400 naming crs (or bbox-crs) and listing every advertised value', async () => {
    const list = await advertised();
    for (const [param, url] of [
      ['crs', `${ITEMS}?crs=${q('http://www.opengis.net/def/crs/EPSG/0/4547')}`],
      ['crs', `${ITEMS}/1?crs=BD09`],
      ['bbox-crs', `${ITEMS}?bbox=1,1,2,2&bbox-crs=${q('http://www.opengis.net/def/crs/EPSG/0/2000')}`],
    ]) {
      const p = await expectProblem(app, url, 400);
      expect(p.param, url).toBe(param);
      const reason = p['invalid-params']!.find((i) => i.name === param)!.reason;
      for (const crs of list) expect(reason, url).toContain(crs);
    }
  });
});
