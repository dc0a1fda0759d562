import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Express } from 'express';
import type { Db } from '../../server/db/types.ts';
import { expectProblem, openOgcApp } from './helpers.ts';

/**
 * Every parameter, every resource: bad input is a 400 application/problem+json
 * whose `param` (and `invalid-params`) names the offending parameter; unknown
 * collections and features are 404.
 */
let db: Db;
let app: Express;
beforeAll(async () => {
  ({ db, app } = await openOgcApp({ riskPoints: 20 }));
});
afterAll(async () => db?.close());

const ITEMS = '/ogc/collections/risk_points/items';

const cases: [string, string, RegExp?][] = [
  // limit
  ['limit', 'limit=0', /from 1/],
  ['limit', 'limit=-5', /from 1/],
  ['limit', 'limit=abc', /integer/],
  ['limit', 'limit=1.5', /integer/],
  ['limit', 'limit=1e3', /integer/],
  ['limit', 'limit=', /empty/],
  ['limit', 'limit=99999999999999999999', /integer/],
  // offset
  ['offset', 'offset=-1', /from 0/],
  ['offset', 'offset=x', /integer/],
  ['offset', 'offset=', /empty/],
  // bbox
  ['bbox', 'bbox=113.2,23.1,113.3', /4 numbers/],
  ['bbox', 'bbox=113.2,23.1,113.3,23.2,1', /4 numbers/],
  ['bbox', 'bbox=', /4 numbers/],
  ['bbox', 'bbox=113.3,23.1,113.2,23.2', /antimeridian/],
  ['bbox', 'bbox=170,10,-170,20', /antimeridian/],
  ['bbox', 'bbox=113.2,23.1,113.3,95', /latitude 95/],
  ['bbox', 'bbox=113.2,-91,113.3,23', /latitude -91/],
  ['bbox', 'bbox=-190,23.1,113.3,23.2', /longitude -190/],
  ['bbox', 'bbox=113.2,23.2,113.3,23.1', /minimum latitude/],
  ['bbox', 'bbox=113.2,NaN,113.3,23.2', /not a number/],
  ['bbox', 'bbox=a,b,c,d', /not a number/],
  ['bbox', 'bbox=113.2,23.1,,23.2', /not a number/],
  ['bbox', 'bbox=113.2,23.1,Infinity,23.2', /not a number/],
  ['bbox', 'bbox=113.2,23.1,100,113.3,23.2,0', /height/],
  ['bbox', 'bbox=113.2,23.1,113.3,23.2&bbox-crs=EPSG:4490', /latitude 113.2/],
  // bbox-crs / crs
  ['bbox-crs', 'bbox=113.2,23.1,113.3,23.2&bbox-crs=EPSG:2000', /one of the collection's crs/],
  ['crs', 'crs=EPSG:2000', /one of the collection's crs/],
  ['bbox', 'bbox=0,0,30000000,10&bbox-crs=EPSG:3857', /outside the Web Mercator world/],
  ['crs', 'crs=', /one of the collection's crs/],
  // datetime
  ['datetime', 'datetime=yesterday', /RFC 3339/],
  ['datetime', 'datetime=2024-13-01', /RFC 3339/],
  ['datetime', 'datetime=2024-02-30', /RFC 3339/],
  ['datetime', 'datetime=2024-06-01T25:00:00Z', /RFC 3339/],
  ['datetime', 'datetime=2024-06-01T08:00:00', /RFC 3339/],
  ['datetime', 'datetime=2024-06-30/2024-01-01', /after its end/],
  ['datetime', 'datetime=2024-01-01/2024-02-01/2024-03-01', /interval/],
  ['datetime', 'datetime=', /RFC 3339/],
  // sortby
  ['sortby', 'sortby=nope', /property name/],
  ['sortby', 'sortby=', /at least one/],
  ['sortby', 'sortby=name_zh,-name_zh', /twice/],
  ['sortby', 'sortby=*name_zh', /property name/],
  // q
  ['q', 'q=', /at least one/],
  ['q', `q=${'长'.repeat(101)}`, /at most 100/],
  ['q', `q=${Array.from({ length: 11 }, (_, i) => `t${i}`).join(',')}`, /at most 10/],
  // properties
  ['properties', 'properties=name_zh,nope', /property names/],
  // f
  ['f', 'f=xml', /one of json, geojson, csv, html/],
  ['lang', 'f=html&lang=fr', /zh or en/],
  // property filters
  ['level', 'level=purple', /one of red, orange, yellow, blue/],
  ['level', 'level=red,purple', /purple/],
  ['level', 'level=', /at least one value/],
  ['district', 'district=narnia', /one of yuexiu/],
  ['district', 'district_id=yuexiu&district=huadu', /only one of/],
  ['category', 'category=fire,', /one of/],
  // unknown and repeated parameters
  ['levle', 'levle=red', /unknown parameter/],
  ['filter', 'filter=level=red', /CQL2-text: expected a literal/],
  ['filter', 'filter=levle%3D%27red%27', /unknown property 'levle'/],
  ['filter-lang', 'filter-lang=cql2-json', /cql2-text/],
  ['cursor', 'cursor=abc', /not a cursor of this query/],
  ['numberMatched', 'numberMatched=all', /auto, exact, estimate, none/],
  ['resultType', 'resultType=hits', /unknown parameter/],
  ['limit', 'limit=1&limit=2', /more than once/],
];

describe('items: bad input is 400 problem+json naming the parameter', () => {
  it.each(cases)('%s: ?%s', async (param, query, reason) => {
    const p = await expectProblem(app, `${ITEMS}?${query}`, 400);
    expect(p.param).toBe(param);
    const named = p['invalid-params']!.find((x) => x.name === param)!;
    expect(named).toBeDefined();
    if (reason) expect(named.reason).toMatch(reason);
    expect(p.detail).toContain(param);
  });

  it('reports every bad parameter at once', async () => {
    const p = await expectProblem(app, `${ITEMS}?limit=0&bbox=1,2,3&colour=red`, 400);
    expect(p['invalid-params']!.map((x) => x.name).sort()).toEqual(['bbox', 'colour', 'limit']);
  });

  it('parameters a collection does not have are unknown there', async () => {
    // no searchable columns, no such filter
    expect((await expectProblem(app, '/ogc/collections/population/items?q=x', 400)).param).toBe('q');
    expect((await expectProblem(app, '/ogc/collections/shelters/items?level=red', 400)).param).toBe('level');
    expect((await expectProblem(app, '/ogc/collections/districts/items?district=huadu', 400)).param).toBe('district');
  });

  it('filter values are checked against the property type', async () => {
    expect((await expectProblem(app, '/ogc/collections/geohazard_sites/items?monitored=yes', 400)).param).toBe('monitored');
    expect((await expectProblem(app, '/ogc/collections/geohazard_sites/items?monitored=true,false', 400)).param).toBe('monitored');
  });
});

describe('other resources refuse unknown parameters and bad f', () => {
  it.each([
    ['/ogc', 'foo'],
    ['/ogc/conformance', 'foo'],
    ['/ogc/api', 'foo'],
    ['/ogc/collections', 'limit'],
    ['/ogc/collections/risk_points', 'bbox'],
    ['/ogc/collections/risk_points/queryables', 'x'],
    ['/ogc/collections/risk_points/items/1', 'limit'],
  ])('%s?%s=1', async (path, name) => {
    const p = await expectProblem(app, `${path}?${name}=1`, 400);
    expect(p.param).toBe(name);
  });

  it.each([
    ['/ogc', 'f=xml'],
    ['/ogc', 'lang=fr'],
    ['/ogc/conformance', 'f=csv'],
    ['/ogc/collections', 'f=csv'],
    ['/ogc/api', 'f=yaml'],
    ['/ogc/collections/risk_points/items/1', 'f=csv'],
    ['/ogc/collections/risk_points/items/1', 'crs=EPSG:2000'],
    ['/ogc/collections/risk_points/items/1', 'properties=nope'],
  ])('%s?%s', async (path, query) => {
    const p = await expectProblem(app, `${path}?${query}`, 400);
    expect(p.param).toBe(query.split('=')[0]);
  });
});
