import { afterAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { openTestDb, reopenTestDb } from '../setup/db.ts';
import { prepareDatabase } from '../../server/db/prepare.ts';
import type { Db } from '../../server/db/types.ts';
import { appOn } from '../helpers/test-app.ts';

// Edits survive a restart: the embedded database lives on disk under DATA_DIR.
const open: Db[] = [];
afterAll(async () => {
  for (const db of open) await db.close().catch(() => {});
});

describe('persistence', () => {
  it('a write is still there after the database is closed and reopened', async () => {
    const { db, location } = await openTestDb();
    const inserted = await db.query<{ id: number }>(
      `INSERT INTO shelters (district_id, name_zh, setting, shelter_class, effective_area_m2, capacity, geom)
       VALUES ('huadu', '持久化测试场所', 'outdoor', 'fixed', 12000, 8000, ST_SetSRID(ST_MakePoint(113.22, 23.40), 4326))
       RETURNING id`,
    );
    const id = inserted.rows[0].id;
    await db.close();

    const again = await reopenTestDb(location);
    open.push(again);
    // A restart runs the same preparation as start-up: it must neither fail nor reload the demo data.
    const prepared = await prepareDatabase(again, { demoData: true });
    expect(prepared.loadedDemo).toBe(false);
    const app = appOn(again);
    const counted = await request(app).get('/health/counts').expect(200);
    expect(counted.body.counts.shelters).toBeGreaterThan(0);
    const row = await again.query<{ name_zh: string; capacity: number; lon: number }>(
      'SELECT name_zh, capacity, ST_X(geom) AS lon FROM shelters WHERE id = $1',
      [id],
    );
    expect(row.rows).toEqual([{ name_zh: '持久化测试场所', capacity: 8000, lon: 113.22 }]);
  });
});
