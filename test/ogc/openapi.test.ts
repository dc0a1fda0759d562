import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import type { Db } from '../../server/db/types.ts';
import { createKey } from '../../server/auth/keys.ts';
import { LAYERS } from '../../catalog/layers.ts';
import { ANONYMOUS, type Principal } from '../../catalog/access.ts';
import { itemParams, itemsParams } from '../../server/ogc/params.ts';
import { body, openOgcApp } from './helpers.ts';
import { checkOpenApi30 } from './openapi-check.ts';

let db: Db;
let app: Express;
let key: string;
beforeAll(async () => {
  ({ db, app } = await openOgcApp({ riskPoints: 20 }));
  key = (await createKey(db, { name: 'openapi test', role: 'viewer' })).key;
});
afterAll(async () => db?.close());

const KEYED: Principal = { canSeeRestricted: true, role: 'viewer', actor: 'test', districts: null };

type Param = { name: string; in: string; schema: Record<string, unknown>; description: string };
type Doc = { paths: Record<string, { get: { parameters?: Param[] } }>; servers: { url: string }[] };

async function fetchDoc(headers: Record<string, string> = {}): Promise<Doc> {
  let req = request(app).get('/ogc/api');
  for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
  const r = await req.expect(200);
  expect(r.headers['content-type']).toMatch(/^application\/vnd\.oai\.openapi\+json;\s*version=3\.0/);
  return body(r);
}

describe('OpenAPI document', () => {
  it('follows the rules of OpenAPI 3.0 (structure, schema keywords, references, path parameters)', async () => {
    for (const doc of [await fetchDoc(), await fetchDoc({ authorization: `Bearer ${key}` })]) {
      expect(checkOpenApi30(doc)).toEqual([]);
    }
  });

  it('the checker catches what a generator gets wrong', () => {
    const broken = {
      openapi: '3.1.0',
      info: { title: 't' },
      paths: {
        '/a/{id}': {
          get: {
            operationId: 'x',
            parameters: [
              { name: 'q', in: 'query', schema: { type: ['string', 'null'] } },
              { name: 'c', in: 'query', schema: { const: 1 } },
              { name: 'r', in: 'query', schema: { $ref: '#/components/schemas/Missing' } },
            ],
            responses: { '200': {} },
          },
        },
        '/b': { get: { operationId: 'x', responses: {} } },
      },
    };
    const errors = checkOpenApi30(broken).join('\n');
    for (const expected of ['openapi', 'info.version', 'type', 'const', 'Missing', 'description', 'operationId x', 'responses', '{id}']) {
      expect(errors).toContain(expected);
    }
  });

  it('server URL is absolute; one path per collection with every parameter the server accepts, and no other', async () => {
    for (const [who, headers] of [
      [ANONYMOUS, {}],
      [KEYED, { authorization: `Bearer ${key}` }],
    ] as const) {
      const doc = await fetchDoc(headers);
      expect(doc.servers[0].url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/ogc$/);
      for (const layer of LAYERS.filter((l) => l.access === 'public' || who.canSeeRestricted)) {
        const items = doc.paths[`/collections/${layer.id}/items`];
        expect(items, layer.id).toBeDefined();
        const names = items.get.parameters!.map((p) => p.name).sort();
        expect(names).toEqual(itemsParams(layer, who).map((p) => p.name).sort());
        const item = doc.paths[`/collections/${layer.id}/items/{featureId}`];
        expect(item.get.parameters!.filter((p) => p.in === 'query').map((p) => p.name).sort()).toEqual(itemParams(layer, who).map((p) => p.name).sort());
      }
    }
  });

  it('documents limit (default 100, maximum 10000), bbox, crs, bbox-crs, datetime, sortby, q, properties, f and the filters', async () => {
    const doc = await fetchDoc();
    const params = Object.fromEntries(doc.paths['/collections/risk_points/items'].get.parameters!.map((p) => [p.name, p]));
    expect(params.limit.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 10000, default: 100 });
    expect(params.limit.description).toMatch(/clamped/);
    expect(params.offset.schema).toMatchObject({ type: 'integer', minimum: 0 });
    expect(params.bbox.schema).toMatchObject({ type: 'array', minItems: 4, maxItems: 6, items: { type: 'number' } });
    expect(params.bbox).toMatchObject({ style: 'form', explode: false });
    expect(params.crs.schema.enum).toEqual(expect.arrayContaining(['http://www.opengis.net/def/crs/OGC/1.3/CRS84', 'http://www.opengis.net/def/crs/EPSG/0/4490', 'gcj02']));
    expect(params.crs.description).toMatch(/non-standard/);
    expect(params['bbox-crs']).toBeDefined();
    expect(params.datetime.description).toMatch(/last_inspection/);
    expect(params.level.schema).toMatchObject({ type: 'array', items: { enum: ['red', 'orange', 'yellow', 'blue'] } });
    expect(params.district.schema).toEqual(params.district_id.schema);
    expect(params.f.schema.enum).toEqual(['json', 'geojson', 'csv', 'html']);
    for (const name of ['sortby', 'q', 'properties', 'category', 'street_id']) expect(params[name], name).toBeDefined();
  });

  it('every documented parameter is accepted by the server with a value its schema allows', async () => {
    const doc = await fetchDoc();
    for (const [path, op] of Object.entries(doc.paths)) {
      if (!path.endsWith('/items')) continue;
      for (const p of op.get.parameters!) {
        const value = sampleValue(p);
        if (value === undefined) continue;
        // One feature a page (unless the parameter is the page size): what is checked is that the value is accepted.
        const url = `/ogc${path}?${p.name}=${encodeURIComponent(value)}${p.name === 'limit' ? '' : '&limit=1'}`;
        const r = await request(app).get(url);
        expect(r.status, `${url}: ${r.text.slice(0, 200)}`).toBe(200);
      }
    }
    // One request per parameter of every collection: minutes on the embedded backend of a loaded machine.
  }, 300_000);

  it('service-doc renders the same document as HTML', async () => {
    const r = await request(app).get('/ogc/api?f=html').expect(200).expect('content-type', /^text\/html/);
    expect(r.text).toContain('<code>bbox-crs</code>');
    expect(r.text).toContain('风险点与危险源');
    expect(r.text).not.toContain('hazard_sources');
  });
});

/** A value the parameter's schema allows (first enum value, minimum, or the documented example). */
function sampleValue(p: Param): string | undefined {
  const s = p.schema;
  const items = (s.items ?? {}) as Record<string, unknown>;
  if (Array.isArray(s.enum)) return String(s.enum[0]);
  if (s.type === 'array' && Array.isArray(items.enum)) return String(items.enum[0]);
  if (s.type === 'integer') return String(s.default ?? s.minimum ?? 1);
  if (s.type === 'boolean') return 'true';
  const example = /Example: `[^=]+=([^`]*)`/.exec(p.description)?.[1];
  return example;
}
