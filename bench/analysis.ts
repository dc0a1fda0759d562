/**
 * Shelter-analysis benchmark: times and ratios measured in one run.
 *
 *   npx tsx bench/analysis.ts                          # embedded database (in memory) + synthetic data
 *   BENCH_DATA_DIR=.bench-db npx tsx bench/analysis.ts # keep the embedded database between runs
 *   DATABASE_URL=postgres://… npx tsx bench/analysis.ts
 *   BENCH_CITY=0 npx tsx bench/analysis.ts             # skip the 20M-resident city
 *
 * Budgets (shelter coverage issue): one district with ~1M residents and ~200
 * shelters < 1 s uncached; all five demo districts < 3 s; a synthetic city of
 * 20M residents / 3,000 shelters < 10 s with bounded memory; 1M nearest-shelter
 * lookups < 5 s. Ratios: the service against PostGIS computing the same radius
 * coverage in one ST_DWithin statement, cached against uncached, the grid index
 * against a brute-force scan.
 */
import { mulberry32 } from '../data/random.ts';
import { openEmbedded } from '../server/db/embedded.ts';
import { openPostgres } from '../server/db/postgres.ts';
import { prepareDatabase } from '../server/db/prepare.ts';
import type { Db } from '../server/db/types.ts';
import { analysisServices } from '../server/analysis/service.ts';
import { coverageQuery } from '../server/analysis/params.ts';
import { analyseCoverage, coverageTable } from '../server/analysis/coverage.ts';
import { cellGrid } from '../server/analysis/reach.ts';
import { resolveShelterSettings } from '../server/analysis/params.ts';
import { analysisOptions, type ShelterClass } from '../server/analysis/options.ts';
import { metresPerDegree } from '../server/analysis/geodesy.ts';
import { PointGrid } from '../server/analysis/point-grid.ts';
import type { AdminUnit, PopulationCell, Shelter } from '../server/analysis/model.ts';
import { record } from './results.ts';

const DISTRICTS = ['yuexiu', 'huadu', 'wujiang', 'pingshan', 'jianghai'];
const ms = (n: number) => `${n >= 100 ? n.toFixed(0) : n.toFixed(1)} ms`;
const mb = (n: number) => `${(n / 2 ** 20).toFixed(0)} MB`;
const verdict = (t: number, budget: number) => (t < budget ? `OK (< ${budget} ms)` : `OVER BUDGET (${budget} ms)`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];


/** A square synthetic district: `side` km, 100 m cells, residents around a few centres, shelters scattered. */
function syntheticDistrict(seed: number, sideKm: number, residents: number, shelters: number) {
  const rand = mulberry32(seed);
  const lon0 = 113.2, lat0 = 23.1;
  const { kx, ky } = metresPerDegree(lat0);
  const n = Math.round((sideKm * 1000) / 100);
  const centres = Array.from({ length: 6 }, () => [rand() * n, rand() * n, 0.1 + rand() * 0.25]);
  const weights: number[] = [];
  for (let r = 0; r < n; r++)
    for (let c = 0; c < n; c++) weights.push(0.05 + centres.reduce((s, [x, y, w]) => s + Math.exp(-((c - x) ** 2 + (r - y) ** 2) / (2 * (w * n) ** 2)), 0));
  const scale = residents / weights.reduce((s, w) => s + w, 0);
  const streets: AdminUnit[] = Array.from({ length: 10 }, (_, i) => ({ id: `s${i}`, name_zh: `街道${i}`, name_en: `Street ${i}` }));
  const cells: PopulationCell[] = weights.map((w, k) => ({
    id: k + 1,
    lon: lon0 + (((k % n) + 0.5) * 100) / kx,
    lat: lat0 + ((Math.floor(k / n) + 0.5) * 100) / ky,
    residents: Math.round(w * scale),
    streetId: `s${Math.floor(((k % n) * 10) / n)}`,
    communityId: null,
  }));
  const classes: ShelterClass[] = ['emergency', 'fixed', 'central'];
  const list: Shelter[] = Array.from({ length: shelters }, (_, j) => {
    const cls = classes[rand() < 0.7 ? 0 : rand() < 0.93 ? 1 : 2];
    const area = cls === 'emergency' ? 1000 + rand() * 4000 : cls === 'fixed' ? 10_000 + rand() * 40_000 : 100_000 + rand() * 300_000;
    return {
      id: j + 1,
      name_zh: `场所${j}`,
      name_en: null,
      lon: lon0 + (rand() * sideKm * 1000) / kx,
      lat: lat0 + (rand() * sideKm * 1000) / ky,
      shelterClass: cls,
      setting: 'outdoor',
      status: 'open',
      effectiveAreaM2: Math.round(area),
      capacity: Math.round(area / 2),
      occupancy: 0,
      streetId: `s${Math.floor(rand() * 10)}`,
      communityId: null,
    };
  });
  return { cells, shelters: list, streets };
}

function timeSynthetic(label: string, seed: number, sideKm: number, residents: number, shelters: number, budget: number) {
  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const d = syntheticDistrict(seed, sideKm, residents, shelters);
  const tGen = performance.now() - t0;
  const settings = resolveShelterSettings({}, { id: 'bench', name_zh: '基准', name_en: 'Bench', targetM2: 1.5, targetSource: 'bench' }, analysisOptions());
  const t1 = performance.now();
  const grid = cellGrid(d.cells);
  const analysis = analyseCoverage(d.cells, grid, d.shelters, settings, 'none');
  const table = coverageTable({ cells: d.cells, streets: d.streets, communities: [] }, analysis, 'street', 1.5);
  const t = performance.now() - t1;
  const heap = process.memoryUsage().heapUsed - heap0;
  console.log(
    `${label}: ${d.cells.length.toLocaleString()} cells, ${table.total.residents.toLocaleString()} residents, ${shelters} shelters, ${analysis.model.reach.cellOf.length.toLocaleString()} cell–shelter pairs`,
  );
  console.log(
    `  coverage + 2SFCA + allocation + table: ${ms(t)} ${verdict(t, budget)}  (data generation ${ms(tGen)}, heap +${mb(heap)}); covered ${table.total.covered_pct} %, unsheltered ${table.total.unsheltered_residents.toLocaleString()}`,
  );
  return { d, t };
}

async function openDb(): Promise<Db> {
  const url = process.env.DATABASE_URL;
  const db = url ? await openPostgres({ connectionString: url }) : await openEmbedded(process.env.BENCH_DATA_DIR ? { dataDir: process.env.BENCH_DATA_DIR } : {});
  const t = performance.now();
  const { loadedDemo } = await prepareDatabase(db, { demoData: true });
  if (loadedDemo) console.log(`(loaded the demo data in ${ms(performance.now() - t)})`);
  return db;
}

async function demoDistricts(db: Db) {
  console.log(`\nDemo districts on the ${db.backend} backend:`);
  const present = (await db.query<{ id: string }>('SELECT id FROM districts ORDER BY id')).rows.map((r) => r.id).filter((id) => DISTRICTS.includes(id));
  // warm the database (first statements of an embedded database compile and cache)
  await analysisServices(db).coverage.coverage(coverageQuery.parse({ district: present[0] }), undefined);
  let uncached = 0, postgis = 0, cached = 0;
  for (const id of present) {
    const service = analysisServices(db).coverage;
    const q = coverageQuery.parse({ district: id });
    let t = performance.now();
    const result = await service.coverage(q, undefined);
    const tCold = performance.now() - t;
    const warm: number[] = [];
    for (let r = 0; r < 5; r++) {
      t = performance.now();
      await service.coverage(q, undefined);
      warm.push(performance.now() - t);
    }
    const tWarm = median(warm);
    // the same radius coverage by PostGIS in one statement, for a ratio
    const s = result.parameters;
    t = performance.now();
    const pg = await db.query<{ covered: number }>(
      `SELECT coalesce(sum(c.residents), 0)::int8 AS covered FROM population_cells c
       WHERE c.district_id = $1 AND EXISTS (SELECT 1 FROM shelters sh WHERE sh.district_id = $1 AND sh.deleted_at IS NULL AND sh.status = ANY($2::text[])
         AND ST_DWithin(ST_PointOnSurface(c.geom)::geography, sh.geom::geography,
           CASE sh.shelter_class WHEN 'emergency' THEN $3::float8 WHEN 'fixed' THEN $4::float8 ELSE $5::float8 END))`,
      [id, s.shelter_status, s.radii_m.emergency, s.radii_m.fixed, s.radii_m.central],
    );
    const tPg = performance.now() - t;
    uncached += tCold;
    postgis += tPg;
    cached += tWarm;
    const agree = Number(pg.rows[0].covered) === result.total.covered_residents ? 'same covered residents' : `DIFFERENT: PostGIS ${pg.rows[0].covered}`;
    console.log(
      `  ${id.padEnd(9)} ${String(result.total.residents).padStart(9)} residents, ${String(result.total.shelters).padStart(3)} shelters: uncached ${ms(tCold).padStart(8)}, cached ${ms(tWarm).padStart(7)} (median of 5); PostGIS radius coverage alone ${ms(tPg).padStart(8)} (${agree})`,
    );
  }
  console.log(`  all ${present.length} districts uncached: ${ms(uncached)} ${verdict(uncached, 3000)}`);
  record({
    bench: 'analysis',
    name: `coverage of all ${present.length} demo districts, uncached (${db.backend})`,
    value: uncached,
    unit: 'ms',
    baseline: { name: 'PostGIS ST_DWithin radius coverage alone', value: postgis },
    better: 'lower',
    goal: { op: '<=', value: 3000, on: 'value' },
  });
  console.log(`  ratio PostGIS radius-only ÷ service full analysis: ${(postgis / uncached).toFixed(2)}×; uncached ÷ cached: ${(uncached / Math.max(cached, 0.001)).toFixed(0)}×`);

  const service = analysisServices(db);
  let t = performance.now();
  await service.coverage.gaps({ district: 'huadu', f: 'json' } as never, undefined);
  console.log(`  gaps (dissolved polygons) huadu uncached: ${ms(performance.now() - t)}`);
  t = performance.now();
  await service.siting.siting({ district: 'huadu', k: 10, candidates: 'grid', class: 'emergency', capacity_aware: false, f: 'json' } as never, { canSeeRestricted: false } as never, undefined);
  console.log(`  siting k=10 on a 250 m grid, huadu, uncached: ${ms(performance.now() - t)}`);
}

function nearestBench(shelters: Shelter[], lookups: number) {
  const grid = new PointGrid(
    shelters.map((s) => s.lon),
    shelters.map((s) => s.lat),
  );
  const rand = mulberry32(99);
  const lons = new Float64Array(lookups), lats = new Float64Array(lookups);
  const [x0, x1] = [Math.min(...shelters.map((s) => s.lon)), Math.max(...shelters.map((s) => s.lon))];
  const [y0, y1] = [Math.min(...shelters.map((s) => s.lat)), Math.max(...shelters.map((s) => s.lat))];
  for (let i = 0; i < lookups; i++) (lons[i] = x0 + rand() * (x1 - x0)), (lats[i] = y0 + rand() * (y1 - y0));
  const idx = new Int32Array(3), dist = new Float64Array(3);
  let t = performance.now();
  let sum = 0;
  for (let i = 0; i < lookups; i++) sum += grid.nearest(lons[i], lats[i], 3, idx, dist) + idx[0];
  const tIndex = performance.now() - t;
  // brute force on a sample, extrapolated; with the cheapest possible distance (squared, flat),
  // so the ratio understates the index's advantage
  const sample = 5000;
  const { kx, ky } = metresPerDegree((y0 + y1) / 2);
  const sLon = Float64Array.from(shelters, (s) => s.lon), sLat = Float64Array.from(shelters, (s) => s.lat);
  t = performance.now();
  for (let i = 0; i < sample; i++) {
    let best = Infinity;
    for (let j = 0; j < sLon.length; j++) {
      const dx = (sLon[j] - lons[i]) * kx, dy = (sLat[j] - lats[i]) * ky;
      const d2 = dx * dx + dy * dy;
      if (d2 < best) best = d2;
    }
    sum += best;
  }
  const tBrute = ((performance.now() - t) / sample) * lookups;
  console.log(
    `\nNearest 3 of ${shelters.length} shelters, ${lookups.toLocaleString()} lookups: ${ms(tIndex)} ${verdict(tIndex, 5000)} (${((tIndex * 1000) / lookups).toFixed(2)} µs each); brute-force scan ≈ ${ms(tBrute)} → index ${(tBrute / tIndex).toFixed(0)}× faster${sum < 0 ? '' : ''}`,
  );
  record({
    bench: 'analysis',
    name: `${lookups.toLocaleString('en')} nearest-3 lookups among ${shelters.length.toLocaleString('en')} shelters`,
    value: tIndex,
    unit: 'ms',
    baseline: { name: 'brute-force scan (extrapolated from a sample)', value: tBrute },
    better: 'lower',
    goal: { op: '<=', value: 5000, on: 'value' },
  });
}

async function main() {
  console.log(`Shelter analysis bench — Node ${process.version}, ${new Date().toISOString()}`);
  const runs: number[] = [];
  let district: ReturnType<typeof syntheticDistrict> | undefined;
  for (let r = 0; r < 3; r++) {
    const out = timeSynthetic(`\nSynthetic district, run ${r + 1}`, 1, 14, 1_000_000, 200, 1000);
    runs.push(out.t);
    district = out.d;
  }
  console.log(`  median of 3: ${ms(median(runs))}`);
  record({ bench: 'analysis', name: 'one district, 1M residents, 200 shelters: coverage + 2SFCA + allocation + table', value: median(runs), unit: 'ms', better: 'lower', goal: { op: '<=', value: 1000 } });

  if (process.env.BENCH_CITY !== '0') timeSynthetic('\nSynthetic city', 2, 45, 20_000_000, 3000, 10_000);

  const city = syntheticDistrict(3, 45, 1000, 3000);
  nearestBench(city.shelters, 1_000_000);
  nearestBench(district!.shelters, 1_000_000);

  const db = await openDb();
  try {
    await demoDistricts(db);
  } finally {
    await db.close();
  }
}

await main();
