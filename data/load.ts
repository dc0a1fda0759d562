/**
 * Loads the synthetic demo dataset (data/generate.ts) into the database in one
 * transaction. Each table is filled by a few batched statements — the rows go
 * in as one JSON parameter and PostGIS parses the GeoJSON — because on the
 * embedded backend every statement costs milliseconds. Identity columns assign
 * the ids in the dataset's order, so ids are the same on every load.
 */
import type { Db, Queryable } from '../catalog/ports.ts';
import type { DemoDataset } from './generate.ts';

/** Rows per INSERT; keeps each JSON parameter to a few MB. */
const BATCH_ROWS = 2_000;

type GeometryKind = 'point' | 'multipolygon' | 'multilinestring';

interface TableSpec<K extends keyof DemoDataset = keyof DemoDataset> {
  table: string;
  key: K;
  /** Column name → PostgreSQL type, as they appear in the row objects. */
  columns: [string, string][];
  geometry: GeometryKind;
}

const FEATURE_COLUMNS: [string, string][] = [
  ['district_id', 'text'],
  ['street_id', 'text'],
  ['name_zh', 'text'],
  ['name_en', 'text'],
  ['address', 'text'],
  ['synthetic', 'boolean'],
];

// Table and column names are constants of this module, never input: only the rows travel as parameters.
const TABLES: TableSpec<keyof DemoDataset>[] = [
  {
    table: 'districts',
    key: 'districts',
    geometry: 'multipolygon',
    columns: [
      ['id', 'text'],
      ['adcode', 'integer'],
      ['name_zh', 'text'],
      ['name_en', 'text'],
      ['city_zh', 'text'],
      ['city_en', 'text'],
      ['population', 'integer'],
      ['population_source', 'text'],
      ['shelter_target_m2', 'numeric'],
      ['target_source', 'text'],
      ['synthetic', 'boolean'],
      ['source', 'text'],
    ],
  },
  {
    table: 'streets',
    key: 'streets',
    geometry: 'multipolygon',
    columns: [
      ['id', 'text'],
      ['district_id', 'text'],
      ['name_zh', 'text'],
      ['name_en', 'text'],
      ['kind', 'text'],
      ['synthetic', 'boolean'],
    ],
  },
  {
    table: 'communities',
    key: 'communities',
    geometry: 'multipolygon',
    columns: [
      ['id', 'text'],
      ['district_id', 'text'],
      ['street_id', 'text'],
      ['name_zh', 'text'],
      ['name_en', 'text'],
      ['kind', 'text'],
      ['synthetic', 'boolean'],
    ],
  },
  {
    table: 'population_cells',
    key: 'populationCells',
    geometry: 'multipolygon',
    columns: [
      ['district_id', 'text'],
      ['street_id', 'text'],
      ['community_id', 'text'],
      ['residents', 'integer'],
      ['synthetic', 'boolean'],
    ],
  },
  {
    table: 'risk_points',
    key: 'riskPoints',
    geometry: 'point',
    columns: [
      ...FEATURE_COLUMNS,
      ['category', 'text'],
      ['level', 'text'],
      ['level_source', 'text'],
      ['level_reason', 'text'],
      ['lec_l', 'numeric'],
      ['lec_e', 'numeric'],
      ['lec_c', 'numeric'],
      ['responsible_unit', 'text'],
      ['last_inspection', 'date'],
    ],
  },
  {
    table: 'flood_points',
    key: 'floodPoints',
    geometry: 'point',
    columns: [...FEATURE_COLUMNS, ['kind', 'text'], ['max_depth_cm', 'numeric'], ['threshold_mm_h', 'numeric'], ['status', 'text']],
  },
  {
    table: 'geohazard_sites',
    key: 'geohazardSites',
    geometry: 'point',
    columns: [
      ...FEATURE_COLUMNS,
      ['kind', 'text'],
      ['scale', 'text'],
      ['people_threatened', 'integer'],
      ['potential_loss_cny', 'numeric'],
      ['monitored', 'boolean'],
      ['status', 'text'],
    ],
  },
  {
    table: 'shelters',
    key: 'shelters',
    geometry: 'point',
    columns: [
      ...FEATURE_COLUMNS,
      ['setting', 'text'],
      ['shelter_class', 'text'],
      ['stay_class', 'text'],
      ['effective_area_m2', 'numeric'],
      ['capacity', 'integer'],
      ['occupancy', 'integer'],
      ['status', 'text'],
      ['contact_phone', 'text'],
    ],
  },
  {
    table: 'hazard_sources',
    key: 'hazardSources',
    geometry: 'point',
    columns: [
      ...FEATURE_COLUMNS,
      ['kind', 'text'],
      ['major_hazard', 'boolean'],
      ['r_value', 'numeric'],
      ['level', 'text'],
      ['contact_phone', 'text'],
    ],
  },
  {
    table: 'resources',
    key: 'resources',
    geometry: 'point',
    columns: [...FEATURE_COLUMNS, ['kind', 'text'], ['personnel', 'integer'], ['contact_phone', 'text']],
  },
  {
    table: 'candidate_sites',
    key: 'candidateSites',
    geometry: 'point',
    columns: [...FEATURE_COLUMNS, ['kind', 'text'], ['area_m2', 'numeric'], ['ownership', 'text']],
  },
  {
    table: 'networks',
    key: 'networks',
    geometry: 'multilinestring',
    columns: [
      ['district_id', 'text'],
      ['name_zh', 'text'],
      ['name_en', 'text'],
      ['kind', 'text'],
      ['diameter_mm', 'integer'],
      ['synthetic', 'boolean'],
    ],
  },
];

/** Every table the demo data fills, children before parents (the order to empty them in). */
export const DEMO_TABLES: readonly string[] = [...TABLES].reverse().map((t) => t.table);

function insertSql(spec: TableSpec<keyof DemoDataset>): string {
  const names = spec.columns.map(([c]) => c);
  const defs = spec.columns.map(([c, t]) => `${c} ${t}`).join(', ');
  const parsed = 'ST_SetSRID(ST_GeomFromGeoJSON(r.geometry), 4326)';
  // ST_Multi: a clip can yield a single Polygon; the columns want Multi*.
  const geom = spec.geometry === 'point' ? parsed : `ST_Multi(${parsed})`;
  return (
    `INSERT INTO ${spec.table} (${names.join(', ')}, geom) ` +
    `SELECT ${names.map((c) => `r.${c}`).join(', ')}, ${geom} ` +
    `FROM ROWS FROM (json_to_recordset($1::json) AS (${defs}, geometry text)) WITH ORDINALITY AS r(${names.join(', ')}, geometry, ord) ` +
    `ORDER BY r.ord`
  );
}

export async function isEmpty(db: Db): Promise<boolean> {
  const r = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM districts');
  return r.rows[0].n === 0;
}

/**
 * Empties every demo table and restarts their ids. CASCADE also empties any
 * table with a foreign key to them (shelter check-ins, inspections …): a reset
 * starts over. Tables without such a key (the audit log) are left alone.
 */
export async function clearData(q: Queryable): Promise<void> {
  await q.query(`TRUNCATE ${DEMO_TABLES.join(', ')} RESTART IDENTITY CASCADE`);
}

/** Inserts a generated dataset through an open transaction (or connection). */
export async function insertDemoData(q: Queryable, data: DemoDataset, log: (m: string) => void = () => {}): Promise<void> {
  for (const spec of TABLES) {
    const rows = data[spec.key] as readonly object[];
    const started = Date.now();
    const sql = insertSql(spec);
    for (let i = 0; i < rows.length; i += BATCH_ROWS) {
      await q.query(sql, [JSON.stringify(rows.slice(i, i + BATCH_ROWS))]);
    }
    log(`  ${spec.table}: ${rows.length} rows (${Date.now() - started} ms)`);
  }
  // Streets and communities count the residents of the cells assigned to them.
  await q.query(
    `UPDATE streets s SET population = c.residents
       FROM (SELECT street_id, sum(residents)::int AS residents FROM population_cells GROUP BY street_id) c
      WHERE c.street_id = s.id`,
  );
  await q.query(
    `UPDATE communities m SET population = c.residents
       FROM (SELECT community_id, sum(residents)::int AS residents FROM population_cells GROUP BY community_id) c
      WHERE c.community_id = m.id`,
  );
}
