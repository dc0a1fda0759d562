import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { testApp } from '../helpers/test-app.ts';
import type { Db } from '../../server/db/types.ts';

/**
 * Idempotency-Key on imports: a client that lost the answer sends the import again with
 * the same key and gets the first outcome; the rows are written once.
 */
let db: Db;
let app: Express;
let desk: string;
let second: string;
let inside: [number, number][];
beforeAll(async () => {
  ({ db, app, bearer: { desk, second } } = await testApp({ keys: { desk: { role: 'editor', name: 'import desk' }, second: { role: 'editor', name: 'second desk' } } }));
  const r = await db.query<{ x: number; y: number }>("SELECT ST_X(geom) AS x, ST_Y(geom) AS y FROM risk_points WHERE district_id = 'huadu' ORDER BY id LIMIT 20");
  inside = r.rows.map((p) => [p.x, p.y]);
});
afterAll(async () => db?.close());

/** A CSV of risk points named `prefix0`, `prefix1`, … at demo positions `from`..`to`. */
function csv(prefix: string, from: number, to: number): string {
  const rows = inside.slice(from, to).map((p, i) => [`${prefix}${i}`, 'huadu', 'blue', 'other', '单位', p[0], p[1]].join(','));
  return ['名称,所属区,风险等级,类别,责任单位,经度,纬度', ...rows].join('\r\n');
}
const named = async (prefix: string) =>
  (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM risk_points WHERE name_zh LIKE $1', [`${prefix}%`])).rows[0].n;

function post(body: string, key: string | undefined, query = '', auth = desk): request.Test {
  const r = request(app).post(`/import/risk_points${query}`).set('authorization', auth).set('content-type', 'text/csv');
  return key === undefined ? r.send(body) : r.set('idempotency-key', key).send(body);
}

describe('POST /import/{layer} with Idempotency-Key', () => {
  it('the same import sent again with its key: the first outcome, the rows written once', async () => {
    const body = csv('同键导入', 0, 3);
    const first = await post(body, '"desk-2026-12-07-a"').expect(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await post(body, '"desk-2026-12-07-a"').expect(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await named('同键导入')).toBe(3);
    const audit = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE operation = 'import' AND feature_id = ANY($1)", [first.body.ids.map(String)]);
    expect(audit.rows[0].n).toBe(3);
    // Without a key, the same file is another import, as before.
    await post(body, undefined).expect(201);
    expect(await named('同键导入')).toBe(6);
  });

  it('the key sent with another file or other options: 422 naming Idempotency-Key, nothing written', async () => {
    await post(csv('换文件', 3, 5), 'desk-reused.1').expect(201);
    for (const [body, query] of [
      [csv('换文件另', 5, 7), ''],
      [csv('换文件', 3, 5), '?crs=gcj02'],
      [csv('换文件', 3, 5), '?dryRun=true'],
    ]) {
      const r = await post(body, 'desk-reused.1', query).expect(422);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(r.text).param).toBe('Idempotency-Key');
    }
    expect(await named('换文件另')).toBe(0);
    expect(await named('换文件')).toBe(2);
  });

  it('keys belong to the API key that sent them: another desk may use the same key for its own import', async () => {
    const body = csv('两个桌', 7, 9);
    await post(body, '"shared-looking-key"').expect(201);
    const other = await post(body, '"shared-looking-key"', '', second).expect(201);
    expect(other.headers['idempotent-replayed']).toBeUndefined();
    expect(await named('两个桌')).toBe(4);
  });

  it('a malformed key is a 400 naming Idempotency-Key, and nothing is written', async () => {
    for (const bad of ['"unterminated', '""', 'has space', 'x'.repeat(256), `"${'y'.repeat(256)}"`, '"a"b"', 'semi;colon']) {
      const r = await post(csv('坏键', 9, 10), bad).expect(400);
      expect(JSON.parse(r.text).param).toBe('Idempotency-Key');
    }
    expect(await named('坏键')).toBe(0);
    // An escaped quote inside the string is one key, and works.
    await post(csv('坏键', 9, 10), '"with \\"quotes\\""').expect(201);
    expect(await named('坏键')).toBe(1);
  });

  it('async=true: the same key answers the same job (202, same Location), and the rows are written once', async () => {
    const body = csv('异步同键', 10, 13);
    const a = await post(body, '"async-1"', '?async=true').expect(202);
    const b = await post(body, '"async-1"', '?async=true').expect(202);
    expect(b.headers['idempotent-replayed']).toBe('true');
    expect(new URL(b.headers.location).pathname).toBe(new URL(a.headers.location).pathname);
    expect(b.body.job).toBe(a.body.job);
    const path = new URL(a.headers.location).pathname;
    let job = b.body;
    for (let i = 0; i < 100 && job.phase !== 'done'; i++) {
      await new Promise((res) => setTimeout(res, 50));
      job = (await request(app).get(path).set('authorization', desk).expect(200)).body;
    }
    expect(job).toMatchObject({ status: 'imported', imported: 3 });
    expect(await named('异步同键')).toBe(3);
  });

  it('while the first is still running: 409 with Retry-After; once it failed with nothing written, the request runs again', async () => {
    const body = csv('试算', 13, 15);
    const first = await post(body, '"dry-1"', '?dryRun=true').expect(200);
    expect(first.body.status).toBe('valid');
    // As if another server process were running it now (its report refreshed a moment ago).
    await db.query(`UPDATE import_jobs SET report = jsonb_set(report, '{status}', '"running"'), updated_at = now() WHERE id = $1`, [first.body.job]);
    const busy = await post(body, '"dry-1"', '?dryRun=true').expect(409);
    expect(busy.headers['retry-after']).toMatch(/^\d+$/);
    expect(JSON.parse(busy.text).param).toBe('Idempotency-Key');
    // That process stopped before it finished (no report for a minute): failed, nothing written; the key is free again.
    await db.query(`UPDATE import_jobs SET updated_at = now() - interval '1 minute' WHERE id = $1`, [first.body.job]);
    const rerun = await post(body, '"dry-1"', '?dryRun=true').expect(200);
    expect(rerun.headers['idempotent-replayed']).toBeUndefined();
    expect(rerun.body).toMatchObject({ status: 'valid', rows: 2 });
    expect(rerun.body.job).not.toBe(first.body.job);
    // The failed job's report is still there to read.
    const old = await request(app).get(`/import/jobs/${first.body.job}`).set('authorization', desk).expect(200);
    expect(old.body.status).toBe('failed');
    // And the key now answers the rerun.
    const replay = await post(body, '"dry-1"', '?dryRun=true').expect(200);
    expect(replay.body.job).toBe(rerun.body.job);
  });
});
