import type { Queryable } from '../../../server/db/types.ts';

/**
 * Test rows in a corner of the map the demo data leaves empty (around 110°E 20°N),
 * so a test knows exactly what its tiles must hold.
 */
export const QUIET = { lon: 110.0, lat: 20.0 };

export async function insertRiskPoint(db: Queryable, lon: number, lat: number, level: string, extra: { district?: string; name?: string } = {}): Promise<number> {
  const r = await db.query<{ id: number }>(
    `INSERT INTO risk_points (district_id, name_zh, category, level, responsible_unit, synthetic, geom)
     VALUES ($1, $2, 'fire', $3, '测试单位', true, ST_SetSRID(ST_MakePoint($4, $5), 4326)) RETURNING id`,
    [extra.district ?? 'huadu', extra.name ?? `测试点 ${level}`, level, lon, lat],
  );
  return Number(r.rows[0].id);
}

export async function insertShelter(db: Queryable, lon: number, lat: number, phone = '020-12345678'): Promise<number> {
  const r = await db.query<{ id: number }>(
    `INSERT INTO shelters (district_id, name_zh, setting, shelter_class, effective_area_m2, capacity, contact_phone, synthetic, geom)
     VALUES ('huadu', '测试避难场所', 'outdoor', 'fixed', 1200.5, 800, $1, true, ST_SetSRID(ST_MakePoint($2, $3), 4326)) RETURNING id`,
    [phone, lon, lat],
  );
  return Number(r.rows[0].id);
}
