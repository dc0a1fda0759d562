import type { Db } from '../../server/db/types.ts';

/**
 * Rows for the OGC tests, added to whatever the seeded test database holds
 * (the demo data, or nothing). Tests compare the API with SQL over the whole
 * table, so they hold with or without the demo data. Every row is synthetic.
 */

/** Squares inside the two districts the seed uses (lon/lat), for bbox tests. */
export const YUEXIU_BOX = [113.25, 23.11, 113.31, 23.16] as const;
export const HUADU_BOX = [113.1, 23.35, 113.3, 23.55] as const;

const square = (b: readonly number[]) =>
  `MULTIPOLYGON(((${b[0]} ${b[1]}, ${b[2]} ${b[1]}, ${b[2]} ${b[3]}, ${b[0]} ${b[3]}, ${b[0]} ${b[1]})))`;

export interface SeedOptions {
  /** Risk points to add (spread over two districts, every level and category). */
  riskPoints?: number;
}

export async function seedOgcData(db: Db, options: SeedOptions = {}): Promise<void> {
  const riskPoints = options.riskPoints ?? 240;
  // Districts and admin units: inserted only when absent (the demo data may have them).
  await db.query(
    `INSERT INTO districts (id, adcode, name_zh, name_en, city_zh, city_en, population, population_source,
                            shelter_target_m2, target_source, synthetic, source, geom)
     VALUES ('yuexiu', 440104, '越秀区', 'Yuexiu', '广州市', 'Guangzhou', 1000000, 'test', 1.5, 'test', true, 'test', ST_GeomFromText($1, 4326)),
            ('huadu', 440114, '花都区', 'Huadu', '广州市', 'Guangzhou', 1600000, 'test', 1.0, 'test', true, 'test', ST_GeomFromText($2, 4326))
     ON CONFLICT DO NOTHING`,
    [square(YUEXIU_BOX), square(HUADU_BOX)],
  );
  await db.query(
    `INSERT INTO streets (id, district_id, name_zh, name_en, kind, population, synthetic, geom)
     VALUES ('ogct_yx', 'yuexiu', '测试街道', 'Test street', 'street', 50000, true, ST_GeomFromText($1, 4326)),
            ('ogct_hd', 'huadu', '测试镇', 'Test town', 'town', 80000, true, ST_GeomFromText($2, 4326))
     ON CONFLICT DO NOTHING`,
    [square([113.26, 23.12, 113.27, 23.13]), square([113.15, 23.4, 113.2, 23.45])],
  );
  await db.query(
    `INSERT INTO communities (id, district_id, street_id, name_zh, name_en, kind, population, synthetic, geom)
     VALUES ('ogct_yx_c1', 'yuexiu', 'ogct_yx', '测试社区', 'Test community', 'community', 8000, true, ST_GeomFromText($1, 4326))
     ON CONFLICT DO NOTHING`,
    [square([113.262, 23.122, 113.265, 23.125])],
  );

  // Risk points: deterministic spread; every 5th has no inspection date.
  await db.query(
    `INSERT INTO risk_points (district_id, street_id, name_zh, name_en, category, level, responsible_unit, last_inspection, address, synthetic, geom)
     SELECT CASE WHEN i % 3 = 0 THEN 'huadu' ELSE 'yuexiu' END,
            CASE WHEN i % 3 = 0 THEN 'ogct_hd' ELSE 'ogct_yx' END,
            '测试风险点' || i, 'Test risk point ' || i,
            (ARRAY['production_safety','fire','hazardous_chemicals','construction','gas','crowded_place','traffic','flood','geohazard','other'])[1 + i % 10],
            (ARRAY['red','orange','yellow','blue'])[1 + (i * 7) % 4],
            '测试责任单位' || (i % 4),
            CASE WHEN i % 5 = 0 THEN NULL ELSE date '2024-01-01' + (i % 300) END,
            '越秀区测试路' || i || '号', true,
            CASE WHEN i % 3 = 0
              THEN ST_SetSRID(ST_MakePoint(113.1 + ((i * 7919) % 2000) / 10000.0, 23.35 + ((i * 104729) % 2000) / 10000.0), 4326)
              ELSE ST_SetSRID(ST_MakePoint(113.25 + ((i * 7919) % 600) / 10000.0, 23.11 + ((i * 104729) % 500) / 10000.0), 4326) END
       FROM generate_series(1, $1::int) AS i`,
    [riskPoints],
  );
  // Names with LIKE wildcards and a formula-looking name (CSV must defuse it); one deleted row.
  await db.query(
    `INSERT INTO risk_points (district_id, name_zh, name_en, category, level, responsible_unit, address, synthetic, geom, deleted_at)
     VALUES ('yuexiu', '化工仓库_100%', 'Chemical store 100%', 'hazardous_chemicals', 'red', '测试责任单位', '越秀区化工路1号', true, ST_SetSRID(ST_MakePoint(113.27, 23.13), 4326), NULL),
            ('yuexiu', '化工仓库A100X', 'Chemical store A100X', 'hazardous_chemicals', 'orange', '测试责任单位', '越秀区化工路2号', true, ST_SetSRID(ST_MakePoint(113.271, 23.131), 4326), NULL),
            ('yuexiu', '=HYPERLINK("x")', 'Formula, "quoted"', 'other', 'blue', '测试责任单位', NULL, true, ST_SetSRID(ST_MakePoint(113.272, 23.132), 4326), NULL),
            ('yuexiu', '已删除风险点', 'Deleted risk point', 'fire', 'red', '测试责任单位', NULL, true, ST_SetSRID(ST_MakePoint(113.273, 23.133), 4326), now())`,
  );

  await db.query(
    `INSERT INTO flood_points (district_id, name_zh, name_en, kind, max_depth_cm, threshold_mm_h, status, synthetic, geom)
     SELECT 'yuexiu', '测试内涝点' || i, 'Test flood spot ' || i, (ARRAY['black_spot','drainage_hazard','waterlogging'])[1 + i % 3],
            10 * i, 30 + i, CASE WHEN i % 2 = 0 THEN 'active' ELSE 'treated' END, true,
            ST_SetSRID(ST_MakePoint(113.26 + i / 1000.0, 23.12 + i / 1000.0), 4326)
       FROM generate_series(1, 7) AS i`,
  );
  await db.query(
    `INSERT INTO geohazard_sites (district_id, name_zh, name_en, kind, scale, people_threatened, potential_loss_cny, monitored, synthetic, geom)
     SELECT 'huadu', '测试地灾点' || i, 'Test geohazard ' || i, (ARRAY['rockfall','landslide','collapse','subsidence','dangerous_slope'])[1 + i % 5],
            (ARRAY['small','medium','large','huge'])[1 + i % 4], 10 * i, 10000.5 * i, i % 2 = 0, true,
            ST_SetSRID(ST_MakePoint(113.15 + i / 1000.0, 23.4 + i / 1000.0), 4326)
       FROM generate_series(1, 6) AS i`,
  );
  await db.query(
    `INSERT INTO shelters (district_id, name_zh, name_en, setting, shelter_class, stay_class, effective_area_m2, capacity, status, address, contact_phone, synthetic, geom)
     SELECT CASE WHEN i % 2 = 0 THEN 'huadu' ELSE 'yuexiu' END, '测试避难场所' || i, 'Test shelter ' || i,
            CASE WHEN i % 2 = 0 THEN 'indoor' ELSE 'outdoor' END, (ARRAY['emergency','fixed','central'])[1 + i % 3], 'II',
            1000 * i, 500 * i, (ARRAY['open','standby','closed','full'])[1 + i % 4], '测试地址' || i, '020-8888' || lpad(i::text, 4, '0'), true,
            CASE WHEN i % 2 = 0 THEN ST_SetSRID(ST_MakePoint(113.2 + i / 1000.0, 23.45), 4326)
                 ELSE ST_SetSRID(ST_MakePoint(113.28, 23.13 + i / 1000.0), 4326) END
       FROM generate_series(1, 8) AS i`,
  );
  await db.query(
    `INSERT INTO hazard_sources (district_id, name_zh, name_en, kind, major_hazard, r_value, level, address, contact_phone, synthetic, geom)
     SELECT 'huadu', '测试危化企业' || i, 'Test chemical works ' || i, (ARRAY['production','storage','gas_station','trading'])[1 + i % 4],
            i % 2 = 0, 20 * i, (ARRAY['red','orange','yellow','blue'])[1 + i % 4], '花都区化工园' || i, '020-3666' || lpad(i::text, 4, '0'), true,
            ST_SetSRID(ST_MakePoint(113.22 + i / 1000.0, 23.42), 4326)
       FROM generate_series(1, 5) AS i`,
  );
  await db.query(
    `INSERT INTO resources (district_id, name_zh, name_en, kind, personnel, address, contact_phone, synthetic, geom)
     SELECT 'yuexiu', '测试应急资源' || i, 'Test resource ' || i, (ARRAY['rescue_team','fire_station','material_depot','petrol_station','reservoir'])[1 + i % 5],
            5 * i, '测试资源路' || i, '020-1190' || lpad(i::text, 4, '0'), true,
            ST_SetSRID(ST_MakePoint(113.29, 23.14 + i / 1000.0), 4326)
       FROM generate_series(1, 6) AS i`,
  );
  await db.query(
    `INSERT INTO networks (district_id, name_zh, name_en, kind, diameter_mm, synthetic, geom)
     SELECT 'huadu', '测试管线' || i, 'Test pipeline ' || i, (ARRAY['gas_pipeline','oil_pipeline','drainage'])[1 + i % 3], 100 * i, true,
            ST_Multi(ST_MakeLine(ST_SetSRID(ST_MakePoint(113.15, 23.4 + i / 100.0), 4326), ST_SetSRID(ST_MakePoint(113.25, 23.41 + i / 100.0), 4326)))
       FROM generate_series(1, 4) AS i`,
  );
  await db.query(
    `INSERT INTO population_cells (district_id, street_id, community_id, residents, synthetic, geom)
     SELECT 'yuexiu', 'ogct_yx', 'ogct_yx_c1', 100 * i, true,
            ST_Multi(ST_MakeEnvelope(113.262 + (i % 3) / 1000.0, 23.122 + (i / 3) / 1000.0, 113.263 + (i % 3) / 1000.0, 23.123 + (i / 3) / 1000.0, 4326))
       FROM generate_series(0, 8) AS i`,
  );
}
