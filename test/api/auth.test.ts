import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { testApp } from '../helpers/test-app.ts';
import { createKey, revokeKey, verifyKey } from '../../server/auth/keys.ts';
import type { Db } from '../../server/db/types.ts';

let db: Db;
let app: Express;
let viewerKey: string;
let revokedKey: string;
beforeAll(async () => {
  ({ db, app, keys: { viewerKey } } = await testApp({ keys: { viewerKey: { role: 'viewer', name: 'duty desk' } } }));
  const revoked = await createKey(db, { name: 'old laptop', role: 'editor' });
  revokedKey = revoked.key;
  await revokeKey(db, revoked.record.id);
});
afterAll(async () => db?.close());

describe('API keys', () => {
  it('stores only a slow hash: the secret is not in the table', async () => {
    const { key, record } = await createKey(db, { name: 'check', role: 'admin', districts: ['huadu'] });
    const row = await db.query<Record<string, unknown>>('SELECT * FROM api_keys WHERE id = $1', [record.id]);
    expect(JSON.stringify(row.rows[0])).not.toContain(key.slice(`om_${record.id}_`.length)); // the secret may hold '_'
    expect(record.districts).toEqual(['huadu']);
    expect((await verifyKey(db, key))?.role).toBe('admin');
    expect(await verifyKey(db, key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A'))).toBeNull();
  });

  it('a valid key sees restricted layers and fields; anonymous does not', async () => {
    const anon = await request(app).get('/layers').expect(200);
    expect(anon.body.layers.map((l: { id: string }) => l.id)).not.toContain('hazard_sources');
    const authed = await request(app).get('/layers').set('authorization', `Bearer ${viewerKey}`).expect(200);
    expect(authed.body.layers.map((l: { id: string }) => l.id)).toContain('hazard_sources');
    const shelters = authed.body.layers.find((l: { id: string }) => l.id === 'shelters');
    expect(shelters.properties.map((p: { name: string }) => p.name)).toContain('contact_phone');
  });

  it.each([
    ['a revoked key', () => `Bearer ${revokedKey}`],
    ['an unknown key', () => `Bearer om_aaaaaaaaaaaa_${'x'.repeat(43)}`],
    ['a malformed key', () => 'Bearer hunter2'],
    ['a non-bearer scheme', () => 'Basic dXNlcjpwYXNz'],
  ])('%s is refused with 401 problem+json', async (_name, header) => {
    const r = await request(app).get('/layers').set('authorization', header()).expect(401);
    expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(JSON.parse(r.text)).toMatchObject({ status: 401, param: 'Authorization' });
  });

  it('a key revoked elsewhere (the CLI, another process) stops working within a second, although verified keys are remembered', async () => {
    const { key, record } = await createKey(db, { name: 'lost phone', role: 'viewer' });
    await request(app).get('/layers').set('authorization', `Bearer ${key}`).expect(200);
    await request(app).get('/layers').set('authorization', `Bearer ${key}`).expect(200); // remembered: no hash
    // Straight in the database, as `npm run keys -- revoke` does from its own process.
    await revokeKey(db, record.id);
    await new Promise((r) => setTimeout(r, 1100));
    await request(app).get('/layers').set('authorization', `Bearer ${key}`).expect(401);
  });
});
