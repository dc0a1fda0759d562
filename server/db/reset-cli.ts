/**
 * `npm run data:reset`: brings the configured database (DATABASE_URL, or the
 * embedded one in DATA_DIR) to the current schema, then empties the demo tables
 * and loads the synthetic demo data again, all in one transaction, and prints
 * what it loaded. Anything else that references the demo tables (inspections,
 * edit history …) is emptied too: a reset starts over.
 */
import { ConfigError, loadConfig } from '../config.ts';
import { openDb } from './open.ts';
import { migrate } from './migrate.ts';
import { loadDataset } from './load-data.ts';
import type { Db } from './types.ts';
import { generateDemoData } from '../../data/generate.ts';
import { clearData } from '../../data/load.ts';

const log = (m: string) => console.log(m);

/** Rows per district in every demo table, for the summary. */
async function counts(db: Db): Promise<{ table: string; district_id: string; n: number }[]> {
  const r = await db.query<{ table: string; district_id: string; n: number }>(
    `SELECT 'streets' AS table, district_id, count(*)::int AS n FROM streets GROUP BY 2
     UNION ALL SELECT 'communities', district_id, count(*)::int FROM communities GROUP BY 2
     UNION ALL SELECT 'population_cells', district_id, count(*)::int FROM population_cells GROUP BY 2
     UNION ALL SELECT 'risk_points', district_id, count(*)::int FROM risk_points GROUP BY 2
     UNION ALL SELECT 'flood_points', district_id, count(*)::int FROM flood_points GROUP BY 2
     UNION ALL SELECT 'geohazard_sites', district_id, count(*)::int FROM geohazard_sites GROUP BY 2
     UNION ALL SELECT 'shelters', district_id, count(*)::int FROM shelters GROUP BY 2
     UNION ALL SELECT 'hazard_sources', district_id, count(*)::int FROM hazard_sources GROUP BY 2
     UNION ALL SELECT 'resources', district_id, count(*)::int FROM resources GROUP BY 2
     UNION ALL SELECT 'candidate_sites', district_id, count(*)::int FROM candidate_sites GROUP BY 2
     UNION ALL SELECT 'networks', district_id, count(*)::int FROM networks GROUP BY 2
     ORDER BY 1, 2`,
  );
  return r.rows;
}

async function main(): Promise<void> {
  const config = loadConfig();
  const db = await openDb(config, log);
  try {
    await migrate(db, log);
    const started = Date.now();
    const data = generateDemoData();
    log(`generated the demo data in ${Date.now() - started} ms (seed ${data.seed})`);
    const loading = Date.now();
    await db.tx(async (q) => {
      await clearData(q);
      await loadDataset(q, data, log);
    });
    log(`replaced the demo data in one transaction in ${Date.now() - loading} ms`);

    const rows = await counts(db);
    const districts = data.districts.map((d) => d.id);
    const tables = [...new Set(rows.map((r) => r.table))];
    const table: Record<string, Record<string, number>> = {};
    for (const t of tables) {
      table[t] = Object.fromEntries(districts.map((d) => [d, rows.find((r) => r.table === t && r.district_id === d)?.n ?? 0]));
    }
    console.table(table);
    const pop = await db.query<{ id: string; population: number; residents: number }>(
      `SELECT d.id, d.population, coalesce(sum(c.residents), 0)::int AS residents
         FROM districts d LEFT JOIN population_cells c ON c.district_id = d.id
        GROUP BY d.id, d.population ORDER BY d.id`,
    );
    for (const p of pop.rows) log(`${p.id}: population ${p.population}, residents in cells ${p.residents}`);
  } finally {
    await db.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exitCode = 1;
});
