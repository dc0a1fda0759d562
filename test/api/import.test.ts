import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import ExcelJS from 'exceljs';
import type { Express } from 'express';
import { appOn, testApp } from '../helpers/test-app.ts';
import { transformPosition } from '../../server/geo/gcoord.ts';
import type { Db } from '../../server/db/types.ts';

let db: Db;
let app: Express;
let editor: string;
let viewer: string;
let inside: [number, number][];
beforeAll(async () => {
  ({ db, app, bearer: { editor, viewer } } = await testApp({ keys: { editor: { role: 'editor', name: 'import desk' }, viewer: 'viewer' } }));
  // Known WGS84 positions inside Huadu: existing demo risk points.
  const r = await db.query<{ x: number; y: number }>("SELECT ST_X(geom) AS x, ST_Y(geom) AS y FROM risk_points WHERE district_id = 'huadu' ORDER BY id LIMIT 20");
  inside = r.rows.map((p) => [p.x, p.y]);
});
afterAll(async () => db?.close());

const count = async (table = 'risk_points') => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n;

function csv(rows: (string | number)[][]): string {
  return '\uFEFF' + rows.map((r) => r.map((c) => (/[",\n]/.test(String(c)) ? `"${String(c).replace(/"/g, '""')}"` : c)).join(',')).join('\r\n');
}
const HEADER = ['名称', '所属区', '风险等级', '类别', '责任单位', '经度', '纬度'];

describe('POST /import/{layer}', () => {
  it('imports a CSV with Chinese headers and values, converting GCJ-02 to WGS84', async () => {
    const before = await count();
    const gcj = inside.slice(0, 3).map((p) => transformPosition(p, 'WGS84', 'GCJ02'));
    const body = csv([HEADER, ...gcj.map((p, i) => [`导入风险点${i}`, '花都区', '橙色', 'gas', '花都区住建局, 燃气科', p[0], p[1]])]);
    const r = await request(app).post('/import/risk_points?crs=gcj02').set('authorization', editor).set('content-type', 'text/csv').send(body).expect(201);
    expect(r.body).toMatchObject({ status: 'imported', rows: 3, imported: 3, errors: [] });
    expect(await count()).toBe(before + 3);
    const stored = await db.query<{ x: number; y: number; level: string; responsible_unit: string; district_id: string }>(
      'SELECT ST_X(geom) AS x, ST_Y(geom) AS y, level, responsible_unit, district_id FROM risk_points WHERE id = ANY($1) ORDER BY id',
      [r.body.ids],
    );
    stored.rows.forEach((row, i) => {
      expect(row).toMatchObject({ level: 'orange', responsible_unit: '花都区住建局, 燃气科', district_id: 'huadu' });
      // Back within a metre of the original WGS84 position (1e-5° ≈ 1 m).
      expect(Math.abs(row.x - inside[i][0])).toBeLessThan(1e-5);
      expect(Math.abs(row.y - inside[i][1])).toBeLessThan(1e-5);
    });
    const audit = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE operation = 'import' AND feature_id = ANY($1)", [r.body.ids.map(String)]);
    expect(audit.rows[0].n).toBe(3);
  });

  it('one bad row → nothing written, and the report lists every bad row with field and reason', async () => {
    const before = await count();
    const good = (i: number) => [`好点${i}`, 'huadu', 'blue', 'fire', '单位', inside[i][0], inside[i][1]];
    const body = csv([
      HEADER,
      good(0),
      ['坏等级', 'huadu', 'purple', 'fire', '单位', inside[1][0], inside[1][1]],
      good(2),
      ['远处', 'huadu', 'red', 'fire', '单位', 100.0, 40.0],
      ['', 'huadu', 'red', 'fire', '单位', 'abc', inside[3][1]],
      good(4),
    ]);
    const r = await request(app).post('/import/risk_points').set('authorization', editor).set('content-type', 'text/csv').send(body).expect(422);
    expect(r.headers['content-type']).toMatch(/problem\+json/);
    const report = JSON.parse(r.text).report;
    expect(report.status).toBe('rejected');
    const byRow = (row: number) => report.errors.filter((e: { row: number }) => e.row === row).map((e: { field: string }) => e.field);
    expect(byRow(3)).toEqual(['level']);
    expect(byRow(5)).toEqual(['geometry']);
    expect(byRow(6)).toEqual(['name_zh', 'geometry.coordinates']);
    expect(new Set(report.errors.map((e: { row: number }) => e.row))).toEqual(new Set([3, 5, 6]));
    expect(JSON.parse(r.text).detail).toBe(`3 of ${report.rows} rows are invalid; nothing was imported`);
    expect(await count()).toBe(before);
  });

  it('says how many rows are invalid in words that agree with the counts', async () => {
    const one = csv([HEADER, ['坏等级', 'huadu', 'purple', 'fire', '单位', inside[1][0], inside[1][1]]]);
    const r = await request(app).post('/import/risk_points').set('authorization', editor).set('content-type', 'text/csv').send(one).expect(422);
    expect(JSON.parse(r.text).detail).toBe('1 of 1 row is invalid; nothing was imported');
    const two = csv([HEADER, ['好点', 'huadu', 'blue', 'fire', '单位', inside[0][0], inside[0][1]], ['坏等级', 'huadu', 'purple', 'fire', '单位', inside[1][0], inside[1][1]]]);
    const r2 = await request(app).post('/import/risk_points').set('authorization', editor).set('content-type', 'text/csv').send(two).expect(422);
    expect(JSON.parse(r2.text).detail).toBe('1 of 2 rows is invalid; nothing was imported');
  });

  it('dryRun validates and reports without writing', async () => {
    const before = await count();
    const body = csv([HEADER, ['试算', 'huadu', 'yellow', 'traffic', '单位', inside[5][0], inside[5][1]]]);
    const r = await request(app).post('/import/risk_points?dryRun=true').set('authorization', editor).set('content-type', 'text/csv').send(body).expect(200);
    expect(r.body).toMatchObject({ status: 'valid', dryRun: true, rows: 1, imported: 0 });
    expect(await count()).toBe(before);
  });

  it('imports GeoJSON and XLSX', async () => {
    const before = await count('shelters');
    const fc = {
      type: 'FeatureCollection',
      features: [
        {
          type: 'Feature',
          geometry: { type: 'Point', coordinates: inside[6] },
          properties: { name_zh: '新建避难场所', district_id: 'huadu', setting: 'outdoor', shelter_class: 'fixed', effective_area_m2: 20000, capacity: 13000 },
        },
      ],
    };
    await request(app).post('/import/shelters').set('authorization', editor).set('content-type', 'application/geo+json').send(JSON.stringify(fc)).expect(201);

    const wb = new ExcelJS.Workbook();
    const sheet = wb.addWorksheet('避难场所');
    sheet.addRow(['名称', '所属区', '室内/室外', '场所类别', '有效避难面积', '可容纳人数', '经度', '纬度']);
    sheet.addRow(['表格场所一', '花都区', '室内', 'emergency', 800, 500, inside[7][0], inside[7][1]]);
    sheet.addRow(['表格场所二', '花都区', '室外', 'emergency', 3000, 2000, inside[8][0], inside[8][1]]);
    const xlsx = Buffer.from(await wb.xlsx.writeBuffer());
    const r = await request(app)
      .post('/import/shelters')
      .set('authorization', editor)
      .set('content-type', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
      .send(xlsx)
      .expect(201);
    expect(r.body.imported).toBe(2);
    expect(await count('shelters')).toBe(before + 3);
    const status = await db.query<{ status: string }>('SELECT status FROM shelters WHERE id = $1', [r.body.ids[0]]);
    expect(status.rows[0].status).toBe('open'); // the column default, not NULL
  });

  it('async=true answers 202 with a job whose progress can be polled', async () => {
    const body = csv([HEADER, ...inside.slice(10, 20).map((p, i) => [`批量${i}`, 'huadu', 'blue', 'other', '单位', p[0], p[1]])]);
    const r = await request(app).post('/import/risk_points?async=true').set('authorization', editor).set('content-type', 'text/csv').send(body).expect(202);
    const path = new URL(r.headers.location).pathname;
    let job = r.body;
    for (let i = 0; i < 100 && job.phase !== 'done'; i++) {
      await new Promise((res) => setTimeout(res, 50));
      job = (await request(app).get(path).set('authorization', editor).expect(200)).body;
    }
    expect(job).toMatchObject({ status: 'imported', imported: 10, phase: 'done' });
  });

  it('a job is answered by every server process, from the report saved in the database; one whose process stopped is failed', async () => {
    // Another process of the same server (WORKERS>1, or another host): its own app over the same database.
    const other = appOn(db);
    const body = csv([HEADER, ...inside.slice(0, 4).map((p, i) => [`别处查询${i}`, 'huadu', 'blue', 'other', '单位', p[0], p[1]])]);
    const r = await request(app).post('/import/risk_points?async=true').set('authorization', editor).set('content-type', 'text/csv').send(body).expect(202);
    const path = new URL(r.headers.location).pathname;
    // Found at once by the other process: the job's first report is saved before its 202.
    let job = (await request(other).get(path).set('authorization', editor).expect(200)).body;
    expect(job.job).toBe(r.body.job);
    for (let i = 0; i < 100 && job.phase !== 'done'; i++) {
      await new Promise((res) => setTimeout(res, 50));
      job = (await request(other).get(path).set('authorization', editor).expect(200)).body;
    }
    expect(job).toMatchObject({ status: 'imported', imported: 4, phase: 'done' });
    expect(job.ids).toEqual((await request(app).get(path).set('authorization', editor).expect(200)).body.ids);
    await request(other).get('/import/jobs/no-such-job').set('authorization', editor).expect(404);

    // A report left "running" and not refreshed for a minute: the process running it stopped before its transaction committed.
    await db.query(`UPDATE import_jobs SET report = jsonb_set(report, '{status}', '"running"'), updated_at = now() - interval '1 minute' WHERE id = $1`, [job.job]);
    const stopped = (await request(other).get(path).set('authorization', editor).expect(200)).body;
    expect(stopped).toMatchObject({ status: 'failed', phase: 'done', imported: 0, ids: [] });
    expect(stopped.errors.at(-1).reason).toMatch(/process running the import stopped before it finished; nothing was written/);
  });

  it('refuses viewers, unknown layers, bad parameters and unknown content types', async () => {
    const body = csv([HEADER]);
    await request(app).post('/import/risk_points').set('content-type', 'text/csv').send(body).expect(401);
    await request(app).post('/import/risk_points').set('authorization', viewer).set('content-type', 'text/csv').send(body).expect(403);
    await request(app).post('/import/nope').set('authorization', editor).set('content-type', 'text/csv').send(body).expect(404);
    const crs = await request(app).post('/import/risk_points?crs=utm').set('authorization', editor).set('content-type', 'text/csv').send(body).expect(400);
    expect(JSON.parse(crs.text).param).toBe('crs');
    const ct = await request(app).post('/import/risk_points').set('authorization', editor).set('content-type', 'text/plain').send('x').expect(400);
    expect(JSON.parse(ct.text).param).toBe('Content-Type');
  });
});
