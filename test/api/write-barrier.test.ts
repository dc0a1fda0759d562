/**
 * The write barrier (server/cluster/write-barrier.ts) in one process: an edit is
 * answered once this process has applied the change it committed, and nothing
 * else is held, even when the database's data version is one no notification
 * will ever announce (moved by hand, as some tools do, or by plain SQL before
 * migration 017).
 *
 * Notifications reach the app 300 ms late here (FAULT_NOTIFY_DELAY_MS), so an
 * edit answered before its own change arrived would be seen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { testApp } from '../helpers/test-app.ts';
import { TEST_ENV } from '../helpers/test-env.ts';
import { buildApp } from '../../server/app.ts';
import { loadConfig } from '../../server/config.ts';
import { createLogger } from '../../server/log.ts';
import { ChangeBus, type FeatureChange } from '../../server/changes.ts';
import type { Db } from '../../server/db/types.ts';

let db: Db;
let app: Express;
let editor: string;
const warnings: string[] = [];
const heard: FeatureChange[] = [];
const BARRIER_WARNING = /a write was answered before every server process applied/;

beforeAll(async () => {
  ({ db, bearer: { editor } } = await testApp({ keys: { editor: 'editor' }, noApp: true }));
  const changes = new ChangeBus();
  changes.on((c) => heard.push(c));
  const log = createLogger('warn', (line) => warnings.push(line));
  app = buildApp({ db, config: loadConfig({ ...TEST_ENV, FAULT_NOTIFY_DELAY_MS: '300' }), log, changes });
  await app.locals.ready;
});
afterAll(async () => db?.close());

const floodPoint = async () => (await db.query<{ id: number }>("SELECT id::int8 AS id FROM flood_points WHERE district_id = 'huadu' AND deleted_at IS NULL ORDER BY id LIMIT 1")).rows[0].id;

/** Renames a flood point through the API (OGC Part 4 PATCH with If-Match). */
async function rename(id: number, name: string) {
  const read = await request(app).get(`/ogc/collections/flood_points/items/${id}`).expect(200);
  return request(app).patch(`/ogc/collections/flood_points/items/${id}`).set('authorization', editor).set('if-match', read.headers.etag).send({ type: 'Feature', properties: { name_zh: name } }).expect(200);
}

const huaduBox = { type: 'Polygon', coordinates: [[[113.15, 23.35], [113.3, 23.35], [113.3, 23.45], [113.15, 23.45], [113.15, 23.35]]] };

describe('write barrier', () => {
  it('answers an edit only once this process has heard the change it committed', async () => {
    const id = await floodPoint();
    const before = heard.length;
    await rename(id, '积水点（已核实）');
    // the notification was 300 ms late, and the answer waited for it
    expect(heard.slice(before).some((c) => c.layer === 'flood_points' && c.id === id)).toBe(true);
  });

  it('holds no answer for a version nobody announces', async () => {
    const id = await floodPoint();
    // data_version is no feature table: moving it by hand announces nothing
    await db.query('UPDATE data_version SET version = version + 1');

    // an analysis sent by POST writes nothing, and a recomputation that finds nothing to change neither
    await request(app).post('/analysis/area-summary').send(huaduBox).expect(200);
    await request(app).post('/shelters/usability/hazard-zones').set('authorization', editor).send({ district: 'huadu' }).expect(200);
    // an edit waits for its own change only
    const before = heard.length;
    await rename(id, '积水点（复核）');
    expect(heard.slice(before).some((c) => c.layer === 'flood_points' && c.id === id)).toBe(true);

    expect(warnings.filter((w) => BARRIER_WARNING.test(w))).toEqual([]);
  });
});
