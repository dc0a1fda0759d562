import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb } from '../setup/db.ts';
import { loadDistrictSnapshot, readDataVersion } from '../../server/analysis/snapshot.ts';
import { packCells } from '../../server/analysis/packed-cells.ts';
import { workerPool } from '../../server/work/shared.ts';
import { withFullWorkerPool } from '../helpers/full-pool.ts';
import type { PopulationCell } from '../../server/analysis/model.ts';
import type { Db } from '../../server/db/types.ts';

/**
 * A district snapshot's population cells are parsed on a worker thread (the
 * main thread receives one JSON text and typed arrays), and come out exactly
 * as reading them row by row gave them.
 */
let db: Db;
beforeAll(async () => {
  db = await testDb();
  await workerPool().warm();
});
afterAll(async () => db?.close());

/** The cells read row by row and mapped on the main thread, as before. */
async function cellsRowByRow(districtId: string): Promise<PopulationCell[]> {
  const r = await db.query<{ id: number; residents: number; lon: number; lat: number; street_id: string | null; community_id: string | null }>(
    `WITH c AS (
       SELECT id, residents, street_id, community_id, ST_PointOnSurface(geom) AS pt
       FROM population_cells WHERE district_id = $1
     )
     SELECT c.id::int8 AS id, c.residents::int AS residents, ST_X(c.pt) AS lon, ST_Y(c.pt) AS lat,
       COALESCE(c.street_id, (SELECT s.id FROM streets s WHERE s.district_id = $1 AND ST_Covers(s.geom, c.pt) ORDER BY s.id LIMIT 1)) AS street_id,
       COALESCE(c.community_id, (SELECT m.id FROM communities m WHERE m.district_id = $1 AND ST_Covers(m.geom, c.pt) ORDER BY m.id LIMIT 1)) AS community_id
     FROM c ORDER BY c.id`,
    [districtId],
  );
  return r.rows.map((row) => ({
    id: Number(row.id),
    lon: Number(row.lon),
    lat: Number(row.lat),
    residents: Number(row.residents),
    streetId: row.street_id,
    communityId: row.community_id,
  }));
}

describe('district snapshot', () => {
  it('parses the cells on a worker, and they equal the cells read row by row, value for value', async () => {
    const version = await readDataVersion(db);
    const before = workerPool().stats().completed;
    const snapshot = await loadDistrictSnapshot(db, 'huadu', version);
    expect(workerPool().stats().completed).toBe(before + 1);
    const expected = await cellsRowByRow('huadu');
    expect(expected.length).toBeGreaterThan(1000);
    // toStrictEqual: same keys, same order of cells, numbers equal to the last bit (Object.is)
    expect(snapshot.cells).toStrictEqual(expected);
    for (let i = 0; i < expected.length; i++) {
      const [a, b] = [snapshot.cells[i], expected[i]];
      if (!Object.is(a.lon, b.lon) || !Object.is(a.lat, b.lat)) throw new Error(`cell ${b.id}: ${a.lon},${a.lat} ≠ ${b.lon},${b.lat}`);
    }
    // the packed form the worker made is the one sent on to analyses: not packed again
    const packed = packCells(snapshot.cells);
    expect(packCells(snapshot.cells)).toBe(packed);
    expect(Array.from(packed.lon)).toEqual(expected.map((c) => c.lon));
  });

  it('parses the cells inline when every worker is busy and none may wait: the snapshot is never refused', async () => {
    const version = await readDataVersion(db);
    const expected = await cellsRowByRow('huadu');
    await withFullWorkerPool(async (pool) => {
      const { completed, rejectedFull } = pool.stats();
      const snapshot = await loadDistrictSnapshot(db, 'huadu', version);
      // refused by the pool (its 503) and parsed here instead
      expect(pool.stats()).toMatchObject({ completed, rejectedFull: rejectedFull + 1 });
      expect(snapshot.cells).toStrictEqual(expected);
    });
  });

  it('a district without cells has none', async () => {
    // The demo districts all have cells: add one without (own database per file).
    await db.query(
      `INSERT INTO districts (id, adcode, name_zh, name_en, city_zh, city_en, population, population_source, shelter_target_m2, target_source, source, geom)
       VALUES ('nocells', 999998, '无网格区', 'No cells', '广州市', 'Guangzhou', 0, 'test', 1, 'test', 'test',
               ST_Multi(ST_MakeEnvelope(113.90, 23.90, 113.91, 23.91, 4326)))`,
    );
    try {
      const snapshot = await loadDistrictSnapshot(db, 'nocells', await readDataVersion(db));
      expect(snapshot.district.id).toBe('nocells');
      expect(snapshot.cells).toEqual([]);
    } finally {
      await db.query(`DELETE FROM districts WHERE id = 'nocells'`);
    }
  });
});
