import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import type { Db } from '../../server/db/types.ts';
import { body, openOgcApp } from './helpers.ts';

/**
 * The OpenAPI document declares the HTML pages the server answers (Part 1 HTML):
 * a client reading /ogc/api learns that landing, conformance, collections, a
 * collection, its items and one item also come as text/html — and each declared
 * page really is served as text/html.
 */
let db: Db;
let app: Express;
beforeAll(async () => {
  ({ db, app } = await openOgcApp({ riskPoints: 5 }));
}, 300_000);
afterAll(async () => db?.close());

type Operation = { responses: Record<string, { content?: Record<string, unknown> }> };
type Doc = { paths: Record<string, { get: Operation }> };

describe('OpenAPI declares text/html', () => {
  it('for landing, conformance, collections, each collection, its items and one item — and the server answers each as HTML', async () => {
    const doc = body(await request(app).get('/ogc/api').expect(200)) as Doc;
    const collections = body(await request(app).get('/ogc/collections').expect(200)).collections as { id: string }[];
    expect(collections.length).toBeGreaterThan(0);
    const html = ['/', '/conformance', '/collections'];
    for (const c of collections) html.push(`/collections/${c.id}`, `/collections/${c.id}/items`, `/collections/${c.id}/items/{featureId}`);
    for (const path of html) {
      const op = doc.paths[path]?.get;
      expect(op, path).toBeDefined();
      const types = Object.keys(op.responses['200'].content ?? {});
      expect(types, path).toContain('text/html');
      // the JSON form is still declared beside it
      expect(types.some((t) => /json/.test(t)), path).toBe(true);
    }

    const id = body(await request(app).get('/ogc/collections/risk_points/items?limit=1').expect(200)).features[0].id;
    for (const path of ['/', '/conformance', '/collections', '/collections/risk_points', '/collections/risk_points/items', `/collections/risk_points/items/${id}`]) {
      const r = await request(app).get(`/ogc${path === '/' ? '' : path}?f=html`).expect(200);
      expect(r.headers['content-type'], path).toMatch(/^text\/html/);
    }
  });

  it('queryables stay JSON Schema only (no HTML page is served for them)', async () => {
    const doc = body(await request(app).get('/ogc/api').expect(200)) as Doc;
    const types = Object.keys(doc.paths['/collections/risk_points/queryables'].get.responses['200'].content ?? {});
    expect(types).not.toContain('text/html');
  });
});
