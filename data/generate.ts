/**
 * The whole demo dataset as a pure function of one seed: real district
 * outlines; synthetic street and community partitions; a 500 m population
 * grid whose residents add up exactly to each district's population; and
 * point/line features with the counts the plans give (data/plan.ts).
 * No clock, no Math.random: the same seed gives the same JSON on every run.
 */
import type { MultiLineString, MultiPolygon, Point, Position } from 'geojson';
import { loadDistrictOutline } from './boundaries.ts';
import { DISTRICTS, chineseNumeral, streetId, type CommunityKind, type DistrictId, type DistrictMeta, type StreetKind, type StreetMeta } from './districts.ts';
import {
  AreaIndex,
  clippedVoronoi,
  distanceM,
  metresPerDegree,
  pointInMultiPolygon,
  ringSegments,
  segmentsIntersect,
  squareGrid,
  bboxOf,
  type GridCell,
} from './geometry.ts';
import {
  PLANS,
  type DistrictPlan,
  type FloodKind,
  type GeohazardKind,
  type GeohazardScale,
  type HazardSourceKind,
  type NetworkKind,
  type ResourceKind,
  type RiskLevel,
} from './plan.ts';
import { Random, WeightTable, apportion } from './random.ts';
import { bandLevel, DEFAULT_LEC_BANDS, DEFAULT_R_BANDS, LEC_VALUES } from '../catalog/grading.ts';
import type { ShelterClass, StayClass } from '../catalog/layers.ts';

/** The seed of the published demo data. Change it and every synthetic position and attribute changes. */
export const DEMO_SEED = 20_261_101;
/** Inspection dates are generated relative to this day, not to the clock. */
export const DATA_AS_OF = '2026-11-01';
/** Edge of a population grid cell. */
export const CELL_SIZE_M = 500;

export interface DistrictRow {
  id: DistrictId;
  adcode: number;
  name_zh: string;
  name_en: string;
  city_zh: string;
  city_en: string;
  population: number;
  population_source: string;
  shelter_target_m2: number;
  target_source: string;
  synthetic: false;
  source: string;
  geometry: MultiPolygon;
}

export interface StreetRow {
  id: string;
  district_id: DistrictId;
  name_zh: string;
  name_en: string;
  kind: StreetKind;
  synthetic: true;
  geometry: MultiPolygon;
}

export interface CommunityRow {
  id: string;
  district_id: DistrictId;
  street_id: string;
  name_zh: string;
  name_en: string;
  kind: CommunityKind;
  synthetic: true;
  geometry: MultiPolygon;
}

export interface PopulationCellRow {
  district_id: DistrictId;
  street_id: string;
  community_id: string;
  residents: number;
  synthetic: true;
  geometry: MultiPolygon;
}

interface PointFeatureRow {
  district_id: DistrictId;
  street_id: string;
  name_zh: string;
  name_en: string;
  address: string;
  synthetic: true;
  geometry: Point;
}

export type RiskCategory =
  | 'production_safety'
  | 'fire'
  | 'hazardous_chemicals'
  | 'construction'
  | 'gas'
  | 'crowded_place'
  | 'traffic'
  | 'flood'
  | 'geohazard'
  | 'other';

export interface RiskPointRow extends PointFeatureRow {
  category: RiskCategory;
  level: RiskLevel;
  level_source: 'assessed' | 'manual';
  level_reason: string | null;
  lec_l: number | null;
  lec_e: number | null;
  lec_c: number | null;
  responsible_unit: string;
  last_inspection: string | null;
}

export interface FloodPointRow extends PointFeatureRow {
  kind: FloodKind;
  max_depth_cm: number;
  threshold_mm_h: number;
  status: 'active' | 'treated';
}

export interface GeohazardSiteRow extends PointFeatureRow {
  kind: GeohazardKind;
  scale: GeohazardScale;
  people_threatened: number;
  potential_loss_cny: number;
  monitored: boolean;
  status: 'active' | 'treated';
}

export interface ShelterRow extends PointFeatureRow {
  setting: 'indoor' | 'outdoor';
  shelter_class: ShelterClass;
  stay_class: StayClass;
  effective_area_m2: number;
  capacity: number;
  occupancy: number;
  status: 'open';
  contact_phone: null;
}

export interface HazardSourceRow extends PointFeatureRow {
  kind: HazardSourceKind;
  major_hazard: boolean;
  r_value: number | null;
  level: RiskLevel;
  contact_phone: null;
}

export interface ResourceRow extends PointFeatureRow {
  kind: ResourceKind;
  personnel: number | null;
  contact_phone: null;
}

export type CandidateSiteKind = 'park' | 'square' | 'school_playground' | 'stadium' | 'other';

export interface CandidateSiteRow extends PointFeatureRow {
  kind: CandidateSiteKind;
  area_m2: number;
  ownership: 'public' | 'collective' | 'private';
}

export interface NetworkRow {
  district_id: DistrictId;
  name_zh: string;
  name_en: string;
  kind: NetworkKind;
  diameter_mm: number;
  synthetic: true;
  geometry: MultiLineString;
}

export interface DemoDataset {
  seed: number;
  asOf: string;
  districts: DistrictRow[];
  streets: StreetRow[];
  communities: CommunityRow[];
  populationCells: PopulationCellRow[];
  riskPoints: RiskPointRow[];
  floodPoints: FloodPointRow[];
  geohazardSites: GeohazardSiteRow[];
  shelters: ShelterRow[];
  hazardSources: HazardSourceRow[];
  resources: ResourceRow[];
  candidateSites: CandidateSiteRow[];
  networks: NetworkRow[];
}

/** Generates the five districts. Pure: same seed, same result. */
export function generateDemoData(seed: number = DEMO_SEED): DemoDataset {
  const out: DemoDataset = {
    seed,
    asOf: DATA_AS_OF,
    districts: [],
    streets: [],
    communities: [],
    populationCells: [],
    riskPoints: [],
    floodPoints: [],
    geohazardSites: [],
    shelters: [],
    hazardSources: [],
    resources: [],
    candidateSites: [],
    networks: [],
  };
  for (const meta of DISTRICTS) {
    const d = generateDistrict(meta, PLANS[meta.id], seed);
    out.districts.push(d.district);
    out.streets.push(...d.streets);
    out.communities.push(...d.communities);
    out.populationCells.push(...d.populationCells);
    out.riskPoints.push(...d.riskPoints);
    out.floodPoints.push(...d.floodPoints);
    out.geohazardSites.push(...d.geohazardSites);
    out.shelters.push(...d.shelters);
    out.hazardSources.push(...d.hazardSources);
    out.resources.push(...d.resources);
    out.candidateSites.push(...d.candidateSites);
    out.networks.push(...d.networks);
  }
  return out;
}

type DistrictData = Omit<DemoDataset, 'seed' | 'asOf' | 'districts'> & { district: DistrictRow };

/** Everything the feature generators need to know about one district's synthetic geography. */
interface Geography {
  meta: DistrictMeta;
  outline: MultiPolygon;
  cells: GridCell[];
  residents: number[];
  streetIds: string[];
  streetMetas: StreetMeta[];
  streetIndex: AreaIndex;
  streetSeeds: Position[];
  /** Samplers of a point inside the district, weighted towards people, open land or the urban fringe. */
  urban: PointSampler;
  rural: PointSampler;
  fringe: PointSampler;
  /** Weighted by residents squared: the densest blocks, where pipe networks start. */
  core: PointSampler;
}

function generateDistrict(meta: DistrictMeta, plan: DistrictPlan, seed: number): DistrictData {
  const rng = (purpose: string) => Random.for(seed, `${meta.id}/${purpose}`);
  const outlineData = loadDistrictOutline(meta.adcode);
  const outline = outlineData.geometry;
  const cells = squareGrid(outline, CELL_SIZE_M);
  const seat = pointInMultiPolygon(outlineData.seat, outline)
    ? outlineData.seat
    : cells[nearestIndex(cells.map((c) => c.rep), outlineData.seat)].rep;

  // Streets: clipped Voronoi cells around seeds picked among the grid cells'
  // interior points, so every street holds at least one cell.
  const streetSeeds = pickStreetSeeds(meta, plan, cells, seat, rng('street-seeds'));
  const streetGeoms = clippedVoronoi(streetSeeds, outline);
  const streetIndex = new AreaIndex(streetGeoms);
  const streetIds = meta.streets.map((s) => streetId(meta.id, s.slug));
  const cellStreet = cells.map((c) => locate(streetIndex, streetSeeds, c.rep));

  const streets: StreetRow[] = meta.streets.map((s, i) => ({
    id: streetIds[i],
    district_id: meta.id,
    name_zh: s.name_zh,
    name_en: s.name_en,
    kind: s.kind,
    synthetic: true,
    geometry: streetGeoms[i],
  }));

  // Communities: the same construction inside each street.
  const communities: CommunityRow[] = [];
  const cellCommunity: string[] = new Array(cells.length);
  const communityRng = rng('community-seeds');
  meta.streets.forEach((s, si) => {
    const mine = cells.map((_, ci) => ci).filter((ci) => cellStreet[ci] === si);
    if (mine.length < s.communities) {
      throw new Error(`${streetIds[si]}: ${mine.length} grid cells cannot hold ${s.communities} communities`);
    }
    const seeds = pickCommunitySeeds(s.communities, mine, cells, streetSeeds[si], communityRng);
    const geoms = clippedVoronoi(seeds, streetGeoms[si]);
    const index = new AreaIndex(geoms);
    const ids: string[] = [];
    let nCommunity = 0;
    let nVillage = 0;
    const pinyin = s.name_en.replace(/ (Subdistrict|Town)$/, '');
    for (let k = 0; k < s.communities; k++) {
      const kind: CommunityKind = k < s.communities - s.villages ? 'community' : 'village';
      const n = kind === 'community' ? ++nCommunity : ++nVillage;
      const id = `${streetIds[si]}-${kind === 'community' ? 'c' : 'v'}${String(n).padStart(2, '0')}`;
      ids.push(id);
      communities.push({
        id,
        district_id: meta.id,
        street_id: streetIds[si],
        name_zh: `${s.name_zh}第${chineseNumeral(n)}${kind === 'community' ? '社区' : '村'}`,
        name_en: `${pinyin} ${kind === 'community' ? 'Community' : 'Village'} ${n}`,
        kind,
        synthetic: true,
        geometry: geoms[k],
      });
    }
    for (const ci of mine) cellCommunity[ci] = ids[locate(index, seeds, cells[ci].rep)];
  });

  // Residents: an uneven density (seat, street and town centres, parks and
  // hills) apportioned so the cells add up exactly to the district population.
  const density = cellDensities(cells, seat, streetSeeds, meta.streets, plan, rng('density'));
  const residents = apportion(
    meta.population,
    cells.map((c, i) => density[i] * c.areaM2),
  );
  const populationCells: PopulationCellRow[] = cells.map((c, i) => ({
    district_id: meta.id,
    street_id: streetIds[cellStreet[i]],
    community_id: cellCommunity[i],
    residents: residents[i],
    synthetic: true,
    geometry: c.geometry,
  }));

  const perKm2 = cells.map((c, i) => residents[i] / (c.areaM2 / 1e6));
  const geo: Geography = {
    meta,
    outline,
    cells,
    residents,
    streetIds,
    streetMetas: meta.streets,
    streetIndex,
    streetSeeds,
    urban: new PointSampler(cells, residents.map((r) => r + 1e-9)),
    rural: new PointSampler(cells, cells.map((c, i) => c.areaM2 / (1 + perKm2[i] / 400))),
    fringe: new PointSampler(cells, cells.map((c, i) => (c.areaM2 / 1e6) * Math.sqrt(perKm2[i]) + 1e-9)),
    core: new PointSampler(cells, residents.map((r) => r * r + 1e-9)),
  };

  return {
    district: {
      id: meta.id,
      adcode: meta.adcode,
      name_zh: meta.name_zh,
      name_en: meta.name_en,
      city_zh: meta.city_zh,
      city_en: meta.city_en,
      population: meta.population,
      population_source: meta.population_source,
      shelter_target_m2: meta.shelter_target_m2,
      target_source: meta.target_source,
      synthetic: false,
      source: outlineData.source,
      geometry: outline,
    },
    streets,
    communities,
    populationCells,
    riskPoints: generateRiskPoints(geo, plan, rng('risk-points')),
    floodPoints: generateFloodPoints(geo, plan, rng('flood-points')),
    geohazardSites: generateGeohazards(geo, plan, rng('geohazards')),
    shelters: generateShelters(geo, plan, rng('shelters')),
    hazardSources: generateHazardSources(geo, plan, rng('hazard-sources')),
    resources: generateResources(geo, plan, rng('resources')),
    // its own random stream: adding the layer left every other generated feature as it was
    candidateSites: generateCandidateSites(geo, rng('candidate-sites')),
    networks: generateNetworks(geo, plan, rng('networks')),
  };
}

// ---------------------------------------------------------------- partitions

function nearestIndex(points: Position[], p: Position): number {
  let best = 0;
  let bestD = Infinity;
  points.forEach((q, i) => {
    const d = distanceM(p, q);
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  });
  return best;
}

/** Area containing p; on the (measure-zero) chance p sits on a shared edge, the nearest seed. */
function locate(index: AreaIndex, seeds: Position[], p: Position): number {
  const i = index.find(p);
  return i >= 0 ? i : nearestIndex(seeds, p);
}

/**
 * Best-candidate sampling (Mitchell): of `k` weighted draws keep the one
 * farthest from the seeds chosen so far, which spreads seeds evenly.
 */
function bestCandidate(rng: Random, table: WeightTable, reps: Position[], chosen: Position[], used: Set<number>, k: number): number {
  let best = -1;
  let bestD = -1;
  for (let attempt = 0; attempt < k * 4 && (best < 0 || attempt < k); attempt++) {
    const i = rng.weighted(table);
    if (used.has(i)) continue;
    const d = chosen.length ? Math.min(...chosen.map((c) => distanceM(c, reps[i]))) : 0;
    if (d > bestD) {
      bestD = d;
      best = i;
    }
  }
  if (best < 0) throw new Error('no free cell left for a seed');
  return best;
}

function pickStreetSeeds(meta: DistrictMeta, plan: DistrictPlan, cells: GridCell[], seat: Position, rng: Random): Position[] {
  const reps = cells.map((c) => c.rep);
  const hasTowns = meta.streets.some((s) => s.kind === 'town');
  const byArea = new WeightTable(cells.map((c) => c.areaM2));
  const spread = plan.density.streetSpreadM;
  // In districts with towns the urban streets crowd round the district seat; the towns share the rest.
  const nearSeat = hasTowns
    ? new WeightTable(cells.map((c) => c.areaM2 * Math.exp(-(distanceM(c.rep, seat) ** 2) / (2 * spread * spread)) + 1e-12))
    : byArea;
  const chosen: Position[] = [];
  const used = new Set<number>();
  for (const s of meta.streets) {
    const urban = hasTowns && s.kind === 'street';
    const i = bestCandidate(rng, urban ? nearSeat : byArea, reps, urban || chosen.length ? chosen : [seat], used, urban ? 6 : 30);
    used.add(i);
    chosen.push(reps[i]);
  }
  return chosen;
}

function pickCommunitySeeds(count: number, mine: number[], cells: GridCell[], streetSeed: Position, rng: Random): Position[] {
  const reps = mine.map((ci) => cells[ci].rep);
  const table = new WeightTable(mine.map((ci) => cells[ci].areaM2));
  // The street's own seed cell is the first community's seed, so its centre is a community too.
  const first = reps.findIndex((p) => p[0] === streetSeed[0] && p[1] === streetSeed[1]);
  const chosen: Position[] = [];
  const used = new Set<number>();
  if (first >= 0) {
    chosen.push(reps[first]);
    used.add(first);
  }
  while (chosen.length < count) {
    const i = bestCandidate(rng, table, reps, chosen, used, 15);
    used.add(i);
    chosen.push(reps[i]);
  }
  return chosen;
}

function cellDensities(
  cells: GridCell[],
  seat: Position,
  streetSeeds: Position[],
  streets: readonly StreetMeta[],
  plan: DistrictPlan,
  rng: Random,
): number[] {
  const d = plan.density;
  const gauss = (dist: number, sigma: number) => Math.exp(-(dist * dist) / (2 * sigma * sigma));
  return cells.map((c) => {
    let v = d.base + gauss(distanceM(c.rep, seat), d.seatSigmaM);
    streetSeeds.forEach((s, i) => {
      const town = streets[i].kind === 'town';
      v += (town ? d.townAmp : d.streetAmp) * gauss(distanceM(c.rep, s), town ? d.townSigmaM : d.streetSigmaM);
    });
    const noise = rng.logNormal(d.noise);
    const isVoid = rng.chance(d.voids);
    return v * noise * (isVoid ? 0.08 : 1);
  });
}

// ---------------------------------------------------------------- sampling

/** Draws points uniformly inside grid cells picked with the given weights. */
class PointSampler {
  private readonly table: WeightTable;

  constructor(
    private readonly cells: GridCell[],
    weights: number[],
  ) {
    this.table = new WeightTable(weights);
  }

  draw(rng: Random): Position {
    const cell = this.cells[rng.weighted(this.table)];
    const b = bboxOf(cell.geometry);
    for (let attempt = 0; attempt < 60; attempt++) {
      // Keep 1 % away from the cell edge so a point never sits on a boundary.
      const p: Position = [rng.uniform(b[0], b[2]), rng.uniform(b[1], b[3])];
      const mx = (b[2] - b[0]) * 0.01;
      const my = (b[3] - b[1]) * 0.01;
      if (p[0] < b[0] + mx || p[0] > b[2] - mx || p[1] < b[1] + my || p[1] > b[3] - my) continue;
      if (pointInMultiPolygon(p, cell.geometry)) return p;
    }
    return cell.rep;
  }
}

interface Placed {
  geometry: Point;
  street: StreetMeta;
  streetId: string;
  address: string;
}

function place(geo: Geography, sampler: PointSampler, rng: Random): Placed {
  const p = sampler.draw(rng);
  const si = locate(geo.streetIndex, geo.streetSeeds, p);
  const street = geo.streetMetas[si];
  return {
    geometry: { type: 'Point', coordinates: p },
    street,
    streetId: geo.streetIds[si],
    address: `${geo.meta.city_zh}${geo.meta.name_zh}${street.name_zh}`,
  };
}

/**
 * A point inside street `si`: cells are not cut along street edges, so a cell
 * of the street may stick out of it; draw until the point is in the street.
 */
function placeInStreet(geo: Geography, sampler: PointSampler, si: number, rng: Random): Placed {
  for (let attempt = 0; attempt < 200; attempt++) {
    const where = place(geo, sampler, rng);
    if (where.streetId === geo.streetIds[si]) return where;
  }
  throw new Error(`${geo.streetIds[si]}: no point found inside the street`);
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const short = (meta: DistrictMeta) => meta.name_en.replace(/ District$/, '');

/** Expands {a: 2, b: 1} into ['a', 'a', 'b'] in declaration order. */
function expand<K extends string>(counts: Partial<Record<K, number>>): K[] {
  const out: K[] = [];
  for (const [k, n] of Object.entries(counts) as [K, number][]) for (let i = 0; i < n; i++) out.push(k);
  return out;
}

function addDays(isoDate: string, days: number): string {
  const t = Date.UTC(+isoDate.slice(0, 4), +isoDate.slice(5, 7) - 1, +isoDate.slice(8, 10)) + days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

// ---------------------------------------------------------------- risk points

const RISK_CATEGORIES: [RiskCategory, number][] = [
  ['crowded_place', 3],
  ['fire', 3],
  ['production_safety', 2],
  ['construction', 2],
  ['gas', 2],
  ['traffic', 1.5],
  ['hazardous_chemicals', 1],
  ['flood', 1],
  ['geohazard', 0.5],
  ['other', 0.5],
];

const RISK_CATEGORY_ZH: Record<RiskCategory, string> = {
  production_safety: '工贸企业',
  fire: '消防安全',
  hazardous_chemicals: '危险化学品',
  construction: '建设工程',
  gas: '城镇燃气',
  crowded_place: '人员密集场所',
  traffic: '道路交通',
  flood: '防汛',
  geohazard: '地质灾害',
  other: '其他',
};

/** D = L·E·C graded by the default LEC bands the server grades with (server/risk/options.ts); the generator avoids the band edges. */
export function lecLevel(d: number): RiskLevel {
  return bandLevel(d, DEFAULT_LEC_BANDS);
}
const LEC_EDGES = DEFAULT_LEC_BANDS.map((b) => b.min);

const LEC_BY_LEVEL: Record<RiskLevel, [number, number, number][]> = (() => {
  const out: Record<RiskLevel, [number, number, number][]> = { red: [], orange: [], yellow: [], blue: [] };
  for (const l of LEC_VALUES.l) {
    for (const e of LEC_VALUES.e) {
      for (const c of LEC_VALUES.c) {
        const d = l * e * c;
        if (LEC_EDGES.some((edge) => Math.abs(d - edge) < 1e-9)) continue;
        // Plausibility: a blue point is not "certain to happen, continuously exposed".
        if (d < 1) continue;
        out[lecLevel(d)].push([l, e, c]);
      }
    }
  }
  return out;
})();

const MANUAL_REASONS: Record<RiskLevel, string[]> = {
  red: ['重大事故隐患挂牌督办，直接判定为重大风险'],
  orange: ['涉及人员密集且曾发生险情，专家会商定级', '重大活动保障期间提级管控'],
  yellow: ['专项检查发现一般隐患，街道会商定级', '季节性风险（汛期）人工定级', '参照同类场所评估结果定级'],
  blue: ['日常巡查未发现明显隐患，人工定级', '参照同类场所评估结果定级', '整改完成后降级'],
};

function responsibleUnit(meta: DistrictMeta, category: RiskCategory, street: StreetMeta): string {
  const office = street.kind === 'street' ? `${street.name_zh}办事处` : `${street.name_zh}人民政府`;
  switch (category) {
    case 'production_safety':
    case 'hazardous_chemicals':
      return `${meta.name_zh}应急管理局`;
    case 'fire':
      return `${meta.name_zh}消防救援大队`;
    case 'construction':
    case 'gas':
      return `${meta.name_zh}住房和城乡建设局`;
    case 'traffic':
      return `${meta.name_zh}交通运输局`;
    case 'flood':
      return `${meta.name_zh}水务局`;
    case 'geohazard':
      return `${meta.name_zh}自然资源主管部门`;
    default:
      return office;
  }
}

/** Days since the last inspection: inside the cycle for most, overdue for some (orange quarterly, yellow half-yearly, blue 30 % a year). */
function lastInspection(level: RiskLevel, rng: Random): string | null {
  switch (level) {
    case 'red':
      return addDays(DATA_AS_OF, -rng.int(3, 40));
    case 'orange':
      return addDays(DATA_AS_OF, -(rng.chance(0.8) ? rng.int(5, 88) : rng.int(95, 150)));
    case 'yellow':
      return addDays(DATA_AS_OF, -(rng.chance(0.8) ? rng.int(10, 178) : rng.int(186, 300)));
    case 'blue': {
      const u = rng.float();
      if (u < 0.35) return addDays(DATA_AS_OF, -rng.int(10, 360));
      if (u < 0.85) return addDays(DATA_AS_OF, -rng.int(370, 900));
      return null;
    }
  }
}

function generateRiskPoints(geo: Geography, plan: DistrictPlan, rng: Random): RiskPointRow[] {
  const meta = geo.meta;
  const catTable = new WeightTable(RISK_CATEGORIES.map(([, w]) => w));
  const levels = expand(plan.riskPoints.counts);
  return levels.map((level, i) => {
    const category = RISK_CATEGORIES[rng.weighted(catTable)][0];
    const where = place(geo, category === 'geohazard' ? geo.rural : category === 'production_safety' || category === 'hazardous_chemicals' ? geo.fringe : geo.urban, rng);
    const assessed = rng.chance(0.75);
    const lec = assessed ? rng.pick(LEC_BY_LEVEL[level]) : null;
    const n = pad(i + 1, 3);
    return {
      district_id: meta.id,
      street_id: where.streetId,
      name_zh: `${meta.name_zh}${RISK_CATEGORY_ZH[category]}风险点${n}`,
      name_en: `${short(meta)} risk point ${n} (${category.replace(/_/g, ' ')})`,
      category,
      level,
      level_source: assessed ? 'assessed' : 'manual',
      level_reason: assessed ? null : rng.pick(MANUAL_REASONS[level]),
      lec_l: lec ? lec[0] : null,
      lec_e: lec ? lec[1] : null,
      lec_c: lec ? lec[2] : null,
      responsible_unit: responsibleUnit(meta, category, where.street),
      last_inspection: lastInspection(level, rng),
      address: where.address,
      synthetic: true,
      geometry: where.geometry,
    };
  });
}

// ---------------------------------------------------------------- flood points

const FLOOD_ZH: Record<FloodKind, string> = { black_spot: '内涝黑点', drainage_hazard: '排水隐患点', waterlogging: '内涝点' };
const FLOOD_EN: Record<FloodKind, string> = { black_spot: 'flood black spot', drainage_hazard: 'drainage hazard', waterlogging: 'waterlogging point' };

function generateFloodPoints(geo: Geography, plan: DistrictPlan, rng: Random): FloodPointRow[] {
  const meta = geo.meta;
  const counters: Partial<Record<FloodKind, number>> = {};
  return expand(plan.floodPoints.counts).map((kind) => {
    const n = (counters[kind] = (counters[kind] ?? 0) + 1);
    const where = place(geo, kind === 'drainage_hazard' ? geo.fringe : geo.urban, rng);
    const depth = kind === 'black_spot' ? rng.int(30, 90) : kind === 'waterlogging' ? rng.int(15, 60) : rng.int(10, 40);
    const threshold = kind === 'black_spot' ? rng.int(25, 45) : kind === 'waterlogging' ? rng.int(30, 60) : rng.int(35, 70);
    return {
      district_id: meta.id,
      street_id: where.streetId,
      name_zh: `${meta.name_zh}${FLOOD_ZH[kind]}${pad(n, 2)}`,
      name_en: `${short(meta)} ${FLOOD_EN[kind]} ${pad(n, 2)}`,
      kind,
      max_depth_cm: depth,
      threshold_mm_h: threshold,
      status: 'active',
      address: where.address,
      synthetic: true,
      geometry: where.geometry,
    };
  });
}

// ---------------------------------------------------------------- geohazards

const GEOHAZARD_ZH: Record<GeohazardKind, string> = {
  rockfall: '崩塌',
  landslide: '滑坡',
  collapse: '地面塌陷',
  subsidence: '地面沉降',
  dangerous_slope: '危险边坡',
};

/** People threatened and potential loss (CNY) by scale, in line with the danger grades. */
const GEOHAZARD_IMPACT: Record<GeohazardScale, { people: [number, number]; lossM: [number, number] }> = {
  small: { people: [3, 90], lossM: [0.2, 4.8] },
  medium: { people: [60, 450], lossM: [5, 45] },
  large: { people: [300, 1200], lossM: [30, 95] },
  huge: { people: [1000, 3000], lossM: [100, 300] },
};

function generateGeohazards(geo: Geography, plan: DistrictPlan, rng: Random): GeohazardSiteRow[] {
  const meta = geo.meta;
  const spec = plan.geohazards;
  const kinds = expand(spec.kinds);
  const scales = rng.shuffle(expand(spec.scales));
  if (kinds.length !== scales.length) throw new Error(`${meta.id}: geohazard kinds and scales differ in number`);
  const counters: Partial<Record<GeohazardKind, number>> = {};
  return kinds.map((kind, i) => {
    const n = (counters[kind] = (counters[kind] ?? 0) + 1);
    const scale = scales[i];
    const impact = GEOHAZARD_IMPACT[scale];
    const where = place(geo, geo.rural, rng);
    return {
      district_id: meta.id,
      street_id: where.streetId,
      name_zh: `${meta.name_zh}${GEOHAZARD_ZH[kind]}隐患点${pad(n, 2)}`,
      name_en: `${short(meta)} ${kind.replace(/_/g, ' ')} site ${pad(n, 2)}`,
      kind,
      scale,
      people_threatened: rng.int(impact.people[0], impact.people[1]),
      potential_loss_cny: Math.round(rng.uniform(impact.lossM[0], impact.lossM[1]) * 100) * 10_000,
      monitored: rng.chance(scale === 'small' ? 0.25 : 0.7),
      status: spec.status,
      address: where.address,
      synthetic: true,
      geometry: where.geometry,
    };
  });
}

// ---------------------------------------------------------------- shelters

type SiteName = readonly [zh: string, en: string];
const INDOOR_SITES: readonly SiteName[] = [
  ['学校', 'school'],
  ['体育馆', 'gymnasium'],
  ['社区服务中心', 'community centre'],
  ['文化中心', 'cultural centre'],
  ['中学', 'secondary school'],
];
const OUTDOOR_SITES: readonly SiteName[] = [
  ['公园', 'park'],
  ['广场', 'square'],
  ['绿地', 'green space'],
  ['体育场', 'stadium'],
  ['运动场', 'sports ground'],
];

/** m² of effective area per sheltered person by class (GB 21734 > 1.5; GB 50413 fixed ≥ 2). */
const AREA_PER_PERSON: Record<ShelterClass | 'indoor', number> = { emergency: 1.5, fixed: 2, central: 2, indoor: 2 };


/** Outdoor class from effective area: central ≈ a ≥ 50 ha park, fixed ≈ a ≥ 2 ha site (GB 50413); indoor by capacity. */
function shelterClass(setting: 'indoor' | 'outdoor', areaM2: number, capacity: number): ShelterClass {
  if (setting === 'indoor') return capacity >= 1_000 ? 'fixed' : 'emergency';
  return areaM2 >= 250_000 ? 'central' : areaM2 >= 15_000 ? 'fixed' : 'emergency';
}

/**
 * Shelters: every street gets at least one, the rest follow the residents.
 * Area (or, where the plan fixes it, capacity) is shared out in proportion to
 * each street's residents times a per-street provision factor around 1, so
 * the district meets its target roughly while some streets fall short: that
 * is what the planners' analysis should find. The first outdoor shelter of a
 * district with 20 or more is its big park (a central shelter where large enough).
 */
function generateShelters(geo: Geography, plan: DistrictPlan, rng: Random): ShelterRow[] {
  const meta = geo.meta;
  const spec = plan.shelters;
  const total = spec.indoor + spec.outdoor;
  const cellStreet = geo.cells.map((c) => locate(geo.streetIndex, geo.streetSeeds, c.rep));
  const streetPop = geo.streetIds.map((_, si) => geo.residents.reduce((s, r, ci) => s + (cellStreet[ci] === si ? r : 0), 0));
  const provision = geo.streetIds.map(() => Math.min(1.8, Math.max(0.55, rng.logNormal(0.35))));
  const perStreet = apportion(total, streetPop, total >= geo.streetIds.length ? 1 : 0);
  const settings = rng.shuffle([...Array<'indoor'>(spec.indoor).fill('indoor'), ...Array<'outdoor'>(spec.outdoor).fill('outdoor')]);

  type Draft = { setting: 'indoor' | 'outdoor'; street: number; weight: number; area: number; capacity: number; cls: ShelterClass };
  const drafts: Draft[] = [];
  perStreet.forEach((n, si) => {
    for (let k = 0; k < n; k++) {
      const setting = settings[drafts.length];
      const weight = ((streetPop[si] * provision[si]) / n) * rng.logNormal(0.6) * (setting === 'outdoor' ? 4 : 1);
      drafts.push({ setting, street: si, weight, area: 0, capacity: 0, cls: 'emergency' });
    }
  });
  const firstOutdoor = drafts.findIndex((d) => d.setting === 'outdoor');
  if (spec.outdoor >= 20 && firstOutdoor >= 0) drafts[firstOutdoor].weight *= 8;

  const areaBudget = spec.provision * meta.population * meta.shelter_target_m2;
  for (const setting of ['indoor', 'outdoor'] as const) {
    const mine = drafts.filter((d) => d.setting === setting);
    const weights = mine.map((d) => d.weight);
    const exactCapacity = setting === 'indoor' ? spec.indoorCapacity : spec.outdoorCapacity;
    if (exactCapacity !== undefined) {
      // The plan fixes the capacities; the area follows from m² per person of the class.
      apportion(exactCapacity, weights, setting === 'indoor' ? 60 : 800).forEach((capacity, i) => {
        const cls = shelterClass(setting, capacity * 2, capacity);
        const perPerson = setting === 'indoor' ? AREA_PER_PERSON.indoor : AREA_PER_PERSON[cls];
        Object.assign(mine[i], { capacity, cls, area: Math.ceil(capacity * perPerson * rng.uniform(1, 1.08)) });
      });
    } else {
      const share = setting === 'indoor' ? 0.12 : 0.88;
      const minimum = setting === 'indoor' ? 40 : 200; // × 10 m²: GB 21734 asks for > 2,000 m² outdoors
      apportion(Math.round((areaBudget * share) / 10), weights, minimum).forEach((tens, i) => {
        const area = tens * 10;
        const perPerson = setting === 'indoor' ? AREA_PER_PERSON.indoor : AREA_PER_PERSON[shelterClass(setting, area, 0)];
        const capacity = Math.floor(area / perPerson);
        Object.assign(mine[i], { area, capacity, cls: shelterClass(setting, area, capacity) });
      });
    }
  }

  const streetSamplers = geo.streetIds.map((_, si) => {
    const weights = geo.residents.map((r, ci) => (cellStreet[ci] === si ? r + 1e-6 : 0));
    return new PointSampler(geo.cells, weights);
  });
  return drafts.map((d, i) => {
    const where = placeInStreet(geo, streetSamplers[d.street], d.street, rng);
    const [siteZh, siteEn] = rng.pick(d.setting === 'indoor' ? INDOOR_SITES : d.cls === 'central' ? OUTDOOR_SITES.slice(0, 1) : OUTDOOR_SITES);
    const n = pad(i + 1, 3);
    return {
      district_id: meta.id,
      street_id: where.streetId,
      name_zh: `${where.street.name_zh}${siteZh}应急避难场所${n}`,
      name_en: `${short(meta)} shelter ${n} (${siteEn})`,
      setting: d.setting,
      shelter_class: d.cls,
      stay_class: d.cls === 'central' ? 'I' : d.cls === 'fixed' ? 'II' : 'III',
      effective_area_m2: d.area,
      capacity: d.capacity,
      occupancy: 0,
      status: 'open',
      address: where.address,
      contact_phone: null,
      synthetic: true,
      geometry: where.geometry,
    };
  });
}

// ---------------------------------------------------------------- hazardous-chemical enterprises

const HAZARD_SOURCE_ZH: Record<HazardSourceKind, string> = {
  production: '危险化学品生产企业',
  storage: '危险化学品储存企业',
  gas_station: '加油加气站',
  trading: '危险化学品经营企业',
};

/** Level of an enterprise that is not a major hazard source (graded by its own risk assessment). */
const ORDINARY_LEVELS: Record<HazardSourceKind, [RiskLevel, number][]> = {
  production: [['orange', 0.1], ['yellow', 0.4], ['blue', 0.5]],
  storage: [['orange', 0.1], ['yellow', 0.35], ['blue', 0.55]],
  gas_station: [['yellow', 0.2], ['blue', 0.8]],
  trading: [['yellow', 0.1], ['blue', 0.9]],
};

/** GB 18218 grade from R by the server's default R bands. */
export function majorHazardLevel(r: number): RiskLevel {
  return bandLevel(r, DEFAULT_R_BANDS);
}

const R_RANGES: Record<RiskLevel, [number, number]> = { red: [100, 160], orange: [50, 99], yellow: [10, 49], blue: [2, 9] };

function generateHazardSources(geo: Geography, plan: DistrictPlan, rng: Random): HazardSourceRow[] {
  const meta = geo.meta;
  const kinds = expand(plan.hazardSources.kinds);
  // Major hazard sources are production or storage sites; grades spread from the top down.
  const candidates = kinds.map((k, i) => (k === 'production' || k === 'storage' ? i : -1)).filter((i) => i >= 0);
  const majors = rng.shuffle(candidates).slice(0, plan.hazardSources.major);
  if (majors.length !== plan.hazardSources.major) throw new Error(`${meta.id}: not enough production/storage sites for the major hazard sources`);
  const majorGrades: RiskLevel[] = (['red', 'orange', 'yellow', 'yellow', 'yellow', 'blue'] as RiskLevel[]).slice(
    Math.max(0, 3 - plan.hazardSources.major),
  );
  const counters: Partial<Record<HazardSourceKind, number>> = {};
  return kinds.map((kind, i) => {
    const n = (counters[kind] = (counters[kind] ?? 0) + 1);
    const where = place(geo, kind === 'production' || kind === 'storage' ? geo.fringe : geo.urban, rng);
    const majorRank = majors.indexOf(i);
    let r: number | null = null;
    let level: RiskLevel;
    if (majorRank >= 0) {
      const grade = majorGrades[majorRank % majorGrades.length];
      const [lo, hi] = R_RANGES[grade];
      r = Math.round(rng.uniform(lo, hi) * 10) / 10;
      level = majorHazardLevel(r);
    } else {
      const options = ORDINARY_LEVELS[kind];
      level = options[new WeightTable(options.map(([, w]) => w)).draw(rng.float())][0];
    }
    return {
      district_id: meta.id,
      street_id: where.streetId,
      name_zh: `${meta.name_zh}${HAZARD_SOURCE_ZH[kind]}${pad(n, 3)}`,
      name_en: `${short(meta)} ${kind.replace(/_/g, ' ')} ${pad(n, 3)}`,
      kind,
      major_hazard: majorRank >= 0,
      r_value: r,
      level,
      address: where.address,
      contact_phone: null,
      synthetic: true,
      geometry: where.geometry,
    };
  });
}

// ---------------------------------------------------------------- resources

const RESOURCE_ZH: Record<ResourceKind, string> = {
  rescue_team: '应急救援队',
  fire_station: '消防站',
  material_depot: '应急物资储备库',
  petrol_station: '加油站',
  reservoir: '水库',
};

function generateResources(geo: Geography, plan: DistrictPlan, rng: Random): ResourceRow[] {
  const meta = geo.meta;
  const spec = plan.resources;
  const kinds = expand(spec.counts);
  const teams = kinds.filter((k) => k === 'rescue_team').length;
  const teamPersonnel =
    spec.rescuePersonnel !== undefined
      ? apportion(spec.rescuePersonnel, Array.from({ length: teams }, () => rng.logNormal(0.5)), 12)
      : Array.from({ length: teams }, () => rng.int(15, 80));
  // Pingshan's are small (community) fire stations, the others full stations.
  const smallFireStations = meta.id === 'pingshan';
  const counters: Partial<Record<ResourceKind, number>> = {};
  return kinds.map((kind) => {
    const n = (counters[kind] = (counters[kind] ?? 0) + 1);
    const sampler = kind === 'reservoir' ? geo.rural : kind === 'petrol_station' || kind === 'material_depot' ? geo.fringe : geo.urban;
    const where = place(geo, sampler, rng);
    let personnel: number | null = null;
    if (kind === 'rescue_team') personnel = teamPersonnel[n - 1];
    else if (kind === 'fire_station') personnel = smallFireStations ? rng.int(10, 20) : rng.int(30, 70);
    else if (kind === 'material_depot') personnel = rng.int(3, 10);
    const label = kind === 'fire_station' && smallFireStations ? '小型消防站' : RESOURCE_ZH[kind];
    const width = kind === 'petrol_station' ? 3 : 2;
    return {
      district_id: meta.id,
      street_id: where.streetId,
      name_zh: `${meta.name_zh}${label}${pad(n, width)}`,
      name_en: `${short(meta)} ${kind.replace(/_/g, ' ')} ${pad(n, width)}`,
      kind,
      personnel,
      address: where.address,
      contact_phone: null,
      synthetic: true,
      geometry: where.geometry,
    };
  });
}

// ---------------------------------------------------------------- candidate sites

const SITE_ZH: Record<CandidateSiteKind, string> = { park: '公园', square: '广场', school_playground: '学校操场', stadium: '体育场', other: '空地' };

/**
 * Synthetic open spaces that could become shelters: about one per 40,000
 * residents, mostly small (school playgrounds, squares) with a few large parks
 * and stadiums, so some are below the minimum site of a fixed shelter (1 ha)
 * and a few below an emergency shelter's (0.1 ha). Names say they are invented.
 */
function generateCandidateSites(geo: Geography, rng: Random): CandidateSiteRow[] {
  const meta = geo.meta;
  const n = Math.max(6, Math.min(40, Math.round(meta.population / 40_000)));
  const KINDS: CandidateSiteKind[] = ['school_playground', 'park', 'square', 'stadium', 'other'];
  const kinds = new WeightTable([4, 3, 2, 0.6, 0.6]);
  const AREA: Record<CandidateSiteKind, [number, number]> = {
    school_playground: [600, 12_000],
    park: [3_000, 150_000],
    square: [800, 20_000],
    stadium: [15_000, 80_000],
    other: [500, 30_000],
  };
  const counters: Partial<Record<CandidateSiteKind, number>> = {};
  return Array.from({ length: n }, () => {
    const kind = KINDS[kinds.draw(rng.uniform(0, 1))];
    const k = (counters[kind] = (counters[kind] ?? 0) + 1);
    const [lo, hi] = AREA[kind];
    const area = Math.round(Math.exp(rng.uniform(Math.log(lo), Math.log(hi))) / 10) * 10;
    const where = place(geo, kind === 'park' || kind === 'other' ? geo.fringe : geo.urban, rng);
    return {
      district_id: meta.id,
      street_id: where.streetId,
      name_zh: `${meta.name_zh}备选${SITE_ZH[kind]}${pad(k, 2)}（示例）`,
      name_en: `${short(meta)} candidate ${kind.replace(/_/g, ' ')} ${pad(k, 2)} (synthetic)`,
      kind,
      area_m2: area,
      ownership: kind === 'school_playground' || kind === 'stadium' ? 'public' : rng.uniform(0, 1) < 0.8 ? 'public' : rng.uniform(0, 1) < 0.5 ? 'collective' : 'private',
      address: where.address,
      synthetic: true,
      geometry: where.geometry,
    };
  });
}

// ---------------------------------------------------------------- networks

const NETWORK_ZH: Record<NetworkKind, string> = { gas_pipeline: '燃气管道', oil_pipeline: '成品油管道', drainage: '排水管渠' };

/**
 * A line of `lengthM` that wanders with a steady heading and never leaves the
 * outline (every vertex inside, no segment crossing an outline edge).
 */
function walkLine(geo: Geography, edges: [Position, Position][], start: Position, lengthM: number, stepM: number, turnSigmaDeg: number, rng: Random): Position[] {
  const line: Position[] = [start];
  let heading = rng.uniform(0, 2 * Math.PI);
  let walked = 0;
  let stuck = 0;
  while (walked < lengthM - 1e-6) {
    const step = Math.min(stepM, lengthM - walked);
    const p = line[line.length - 1];
    const k = metresPerDegree(p[1]);
    let next: Position | null = null;
    for (let attempt = 0; attempt < 24 && !next; attempt++) {
      const h = heading + (rng.normal() * turnSigmaDeg * Math.PI) / 180 + (attempt > 8 ? rng.uniform(-Math.PI, Math.PI) : 0);
      const q: Position = [p[0] + (Math.sin(h) * step) / k.x, p[1] + (Math.cos(h) * step) / k.y];
      if (!pointInMultiPolygon(q, geo.outline)) continue;
      if (edges.some(([a, b]) => segmentsIntersect(p, q, a, b))) continue;
      next = q;
      heading = h;
    }
    if (!next) {
      // Boxed in (a narrow neck of the outline): turn round.
      heading += Math.PI;
      if (++stuck > 50) throw new Error(`${geo.meta.id}: cannot route a line of ${lengthM} m`);
      continue;
    }
    line.push(next);
    walked += step;
  }
  return line;
}

function generateNetworks(geo: Geography, plan: DistrictPlan, rng: Random): NetworkRow[] {
  const meta = geo.meta;
  const edges = ringSegments(geo.outline);
  const rows: NetworkRow[] = [];
  const counters: Partial<Record<NetworkKind, number>> = {};
  for (const spec of plan.networks) {
    for (let i = 0; i < spec.lines; i++) {
      const n = (counters[spec.kind] = (counters[spec.kind] ?? 0) + 1);
      // Later lines branch off earlier ones of the same kind, so each network is connected.
      const sameKind = rows.filter((r) => r.kind === spec.kind);
      const start = sameKind.length
        ? rng.pick(rng.pick(sameKind).geometry.coordinates[0])
        : geo.core.draw(rng);
      const lengthKm = spec.lengthKm[0] === spec.lengthKm[1] ? spec.lengthKm[0] : rng.uniform(spec.lengthKm[0], spec.lengthKm[1]);
      const trunk = spec.lengthKm[0] >= 10;
      const line = walkLine(geo, edges, start, lengthKm * 1000, trunk ? 300 : 150, trunk ? 4 : 14, rng);
      const label = spec.kind === 'gas_pipeline' && trunk ? '高压燃气管道' : NETWORK_ZH[spec.kind];
      rows.push({
        district_id: meta.id,
        name_zh: spec.lines === 1 && counters[spec.kind] === 1 && spec.kind === 'oil_pipeline' ? `${meta.name_zh}${label}` : `${meta.name_zh}${label}${pad(n, 2)}`,
        name_en: `${short(meta)} ${spec.kind.replace(/_/g, ' ')} ${pad(n, 2)}`,
        kind: spec.kind,
        diameter_mm: rng.pick(spec.diameterMm),
        synthetic: true,
        geometry: { type: 'MultiLineString', coordinates: [line] },
      });
    }
  }
  return rows;
}
