import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { backend } from '../setup/db.ts';
import { testApp } from '../helpers/test-app.ts';
import { LAYERS } from '../../catalog/layers.ts';
import type { Db } from '../../server/db/types.ts';

let db: Db;
let app: Express;
let bearer: { editor: string };
beforeAll(async () => {
  ({ db, app, bearer } = await testApp({ keys: { editor: 'editor' } }));
});
afterAll(async () => db?.close());

describe('GET /health', () => {
  it('names the backend, PostGIS version, migration level and data version, and counts nothing', async () => {
    const r = await request(app).get('/health').expect(200).expect('content-type', /json/);
    expect(r.body.status).toBe('ok');
    expect(r.body.backend).toBe(backend);
    expect(r.body.postgis).toMatch(/^3\.\d+/);
    expect(r.body.migrationLevel).toBeGreaterThanOrEqual(4);
    expect(Object.keys(r.body).sort()).toEqual(['backend', 'dataVersion', 'migrationLevel', 'postgis', 'status']);
  });

  // (PostgreSQL only: the embedded database runs one statement at a time, so any query would wait.)
  it.runIf(backend === 'postgres')('reads no feature table: a liveness probe stays cheap however large the data grows', async () => {
    const tables = [...new Set(LAYERS.map((l) => l.table).filter((t): t is string => t !== null))];
    // Lock every feature table against readers; a probe that read one would wait for the lock.
    await db.tx(async (tx) => {
      await tx.query(`LOCK TABLE ${tables.join(', ')} IN ACCESS EXCLUSIVE MODE`);
      const answered = await Promise.race([
        request(app).get('/health').then((r) => r.status),
        new Promise((resolve) => setTimeout(() => resolve('waited for a feature table'), 3000)),
      ]);
      expect(answered).toBe(200);
    });
  });
});

describe('GET /health/counts', () => {
  it('counts the rows of the tables the caller may see and names the others', async () => {
    const r = await request(app).get('/health/counts').expect(200).expect('content-type', /json/);
    expect(r.body.counts.districts).toBe(5);
    expect(r.body.counts.risk_points).toBeGreaterThan(0);
    expect(r.body.counts.hazard_sources).toBeUndefined();
    expect(r.body.restricted).toContain('hazard_sources');
  });

  it('counts restricted tables for a key that may see them', async () => {
    const r = await request(app).get('/health/counts').set('authorization', bearer.editor).expect(200);
    expect(r.body.counts.hazard_sources).toBeGreaterThanOrEqual(0);
    expect(r.body.restricted).toEqual([]);
  });
});

describe('GET /layers', () => {
  it('lists every public layer of the registry with properties, style, legend and absolute links', async () => {
    const r = await request(app).get('/layers').expect(200);
    const ids = r.body.layers.map((l: { id: string }) => l.id);
    expect(ids).toEqual(LAYERS.filter((l) => l.access === 'public').map((l) => l.id));
    const risk = r.body.layers.find((l: { id: string }) => l.id === 'risk_points');
    expect(risk.title).toEqual({ zh: '风险点与危险源', en: 'Risk points and hazard sources' });
    expect(risk.legend.map((e: { value: string }) => e.value)).toEqual(['red', 'orange', 'yellow', 'blue']);
    expect(risk.properties.find((p: { name: string }) => p.name === 'level').enumTitles.red.zh).toBe('重大风险');
    expect(risk.synthetic).toBe(true);
    for (const link of risk.links) expect(link.href).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
  });

  it('hides restricted layers and restricted fields from anonymous callers', async () => {
    const r = await request(app).get('/layers').expect(200);
    expect(r.body.layers.map((l: { id: string }) => l.id)).not.toContain('hazard_sources');
    const shelters = r.body.layers.find((l: { id: string }) => l.id === 'shelters');
    expect(shelters.properties.map((p: { name: string }) => p.name)).not.toContain('contact_phone');
  });
});

describe('the registry matches the schema', () => {
  it.each(LAYERS.filter((l) => l.table).map((l) => [l.id, l] as const))('%s: every exposed property is a column', async (_id, layer) => {
    const cols = await db.query<{ column_name: string }>(
      'SELECT column_name FROM information_schema.columns WHERE table_name = $1',
      [layer.table],
    );
    const names = new Set(cols.rows.map((c) => c.column_name));
    expect(names.has('geom')).toBe(true);
    expect(names.has('id')).toBe(true);
    for (const prop of layer.properties) expect(names, `${layer.table}.${prop.name}`).toContain(prop.name);
  });
});

describe('errors', () => {
  it('unknown routes are 404 problem+json', async () => {
    const r = await request(app).get('/no/such/thing').expect(404).expect('content-type', /application\/problem\+json/);
    const body = JSON.parse(r.text);
    expect(body).toMatchObject({ status: 404, title: 'Not found' });
    expect(body.detail).toContain('/no/such/thing');
  });

  it('malformed JSON bodies are 400 problem+json naming the body', async () => {
    const r = await request(app).post('/layers').set('content-type', 'application/json').send('{"broken"').expect(400);
    expect(JSON.parse(r.text)).toMatchObject({ status: 400, param: 'body' });
  });
});
