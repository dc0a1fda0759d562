import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb } from '../setup/db.ts';
import type { Db } from '../../server/db/types.ts';

// The database itself refuses bad rows, even if an API layer had a bug.
let db: Db;
beforeAll(async () => {
  db = await testDb();
});
afterAll(async () => db?.close());

const point = 'ST_SetSRID(ST_MakePoint(113.27, 23.14), 4326)';
const insertRisk = (level: string, geom = point) =>
  db.query(
    `INSERT INTO risk_points (district_id, name_zh, category, level, responsible_unit, geom)
     VALUES ('yuexiu', '测试点', 'fire', $1, '测试单位', ${geom})`,
    [level],
  );

describe('database constraints', () => {
  it('accepts a well-formed risk point', async () => {
    const r = await insertRisk('red');
    expect(r.rowCount).toBe(1);
  });

  it("refuses level 'purple'", async () => {
    await expect(insertRisk('purple')).rejects.toThrow(/check constraint/i);
  });

  it('refuses a point in SRID 3857', async () => {
    await expect(insertRisk('red', 'ST_SetSRID(ST_MakePoint(12609000, 2646000), 3857)')).rejects.toThrow(/SRID/i);
  });

  it('refuses a line where a point belongs', async () => {
    await expect(insertRisk('red', "ST_GeomFromText('LINESTRING(113 23, 113.1 23.1)', 4326)")).rejects.toThrow(/geometry type|Geometry type/i);
  });

  it('refuses an invalid (self-intersecting) polygon as a street outline', async () => {
    const bowtie = "ST_GeomFromText('MULTIPOLYGON(((113 23, 113.1 23.1, 113.1 23, 113 23.1, 113 23)))', 4326)";
    await expect(
      db.query(`INSERT INTO streets (id, district_id, name_zh, name_en, kind, geom) VALUES ('bad-bowtie', 'yuexiu', '坏', 'Bad', 'street', ${bowtie})`),
    ).rejects.toThrow(/check constraint/i);
  });

  it('refuses a shelter with zero effective area and a negative occupancy', async () => {
    const sql = (area: number, occupancy: number) =>
      db.query(
        `INSERT INTO shelters (district_id, name_zh, setting, shelter_class, effective_area_m2, capacity, occupancy, geom)
         VALUES ('yuexiu', '测试场所', 'outdoor', 'emergency', $1, 100, $2, ${point})`,
        [area, occupancy],
      );
    await expect(sql(0, 0)).rejects.toThrow(/check constraint/i);
    await expect(sql(100, -1)).rejects.toThrow(/check constraint/i);
  });

  it('refuses a feature in a district that does not exist', async () => {
    await expect(
      db.query(
        `INSERT INTO flood_points (district_id, name_zh, kind, geom) VALUES ('atlantis', '测试', 'black_spot', ${point})`,
      ),
    ).rejects.toThrow(/foreign key/i);
  });

  it('keeps nothing of a transaction that failed half-way', async () => {
    const before = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM risk_points')).rows[0].n;
    await expect(
      db.tx(async (q) => {
        await q.query(
          `INSERT INTO risk_points (district_id, name_zh, category, level, responsible_unit, geom) VALUES ('yuexiu', '甲', 'fire', 'red', '单位', ${point})`,
        );
        await q.query(
          `INSERT INTO risk_points (district_id, name_zh, category, level, responsible_unit, geom) VALUES ('yuexiu', '乙', 'fire', 'purple', '单位', ${point})`,
        );
      }),
    ).rejects.toThrow();
    const after = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM risk_points')).rows[0].n;
    expect(after).toBe(before);
  });
});
