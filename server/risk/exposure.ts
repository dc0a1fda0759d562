import { PointGrid } from '../analysis/point-grid.ts';
import type { AdminUnit, PopulationCell, Shelter } from '../analysis/model.ts';
import { geohazardGrade } from './grading.ts';
import type { DistrictHazards, FloodPoint, GeohazardSite, HazardSource } from './hazards.ts';
import type { ExposureDistance, RiskOptions } from './options.ts';

/**
 * Exposure to hazards, as pure functions of points and distances (metres on
 * the WGS84 ellipsoid, the same geodesy as the coverage analysis):
 * - shelters near flood-prone spots, geohazard sites and hazardous-chemical
 *   enterprises are unusable or at risk, with every reason;
 * - residents (population cells, at the same interior point the coverage
 *   analysis uses) near red and orange risk points and major hazard sources.
 */

export type ShelterFlag = 'unusable' | 'at_risk';

export type HazardKind = 'flood_point' | 'geohazard_site' | 'hazard_source' | 'major_hazard_source' | 'warning_area';

export interface ExposureReason {
  hazard: HazardKind;
  id: number;
  name_zh: string;
  /** Present when the hazard belongs to another district (it lies just across the edge). */
  neighbouring_district?: string;
  flag: ShelterFlag;
  distance_m: number;
  /** The distance that set the flag. */
  within_m: number;
  /** What kind of hazard, and its grade. */
  detail: Record<string, unknown>;
}

export interface FlaggedShelter {
  id: number;
  name_zh: string;
  name_en: string | null;
  street_id: string | null;
  shelter_class: string;
  setting: string;
  status: string;
  capacity: number;
  effective_area_m2: number;
  flag: ShelterFlag;
  reasons: ExposureReason[];
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;

interface Candidate {
  hazard: HazardKind;
  id: number;
  district_id: string;
  name_zh: string;
  lon: number;
  lat: number;
  limits: ExposureDistance;
  detail: Record<string, unknown>;
}

export function floodCandidate(f: FloodPoint, limits: ExposureDistance): Candidate {
  return { hazard: 'flood_point', id: f.id, district_id: f.district_id, name_zh: f.name_zh, lon: f.lon, lat: f.lat, limits, detail: { kind: f.kind, threshold_mm_h: f.threshold_mm_h } };
}

export function geohazardCandidate(g: GeohazardSite, limits: ExposureDistance, options: RiskOptions): Candidate {
  const grade = geohazardGrade(g.people_threatened, g.potential_loss_cny, options);
  return { hazard: 'geohazard_site', id: g.id, district_id: g.district_id, name_zh: g.name_zh, lon: g.lon, lat: g.lat, limits, detail: { kind: g.kind, scale: g.scale, danger_grade: grade.level } };
}

function sourceCandidate(s: HazardSource, options: RiskOptions): Candidate {
  const major = s.major_hazard;
  return {
    hazard: major ? 'major_hazard_source' : 'hazard_source',
    id: s.id,
    district_id: s.district_id,
    name_zh: s.name_zh,
    lon: s.lon,
    lat: s.lat,
    limits: major ? options.shelterDistances.major_hazard_source : options.shelterDistances.hazard_source,
    detail: { kind: s.kind, level: s.level, r_value: s.r_value },
  };
}

/** Which hazards flag a shelter: standing exposure takes every active hazard and every enterprise. */
export function standingCandidates(h: DistrictHazards, options: RiskOptions): Candidate[] {
  return [
    ...h.floodPoints.filter((f) => f.status === 'active').map((f) => floodCandidate(f, options.shelterDistances.flood_point)),
    ...h.geohazardSites.filter((g) => g.status === 'active').map((g) => geohazardCandidate(g, options.shelterDistances.geohazard_site, options)),
    ...h.hazardSources.map((s) => sourceCandidate(s, options)),
  ];
}

const SEVERITY: Record<ShelterFlag, number> = { unusable: 0, at_risk: 1 };

/**
 * Every shelter within a candidate's at-risk distance, with its reasons (most severe and nearest first).
 * A reason from a hazard of another district than `districtId` names that district.
 */
export function flagShelters(shelters: readonly Shelter[], candidates: readonly Candidate[], districtId?: string): FlaggedShelter[] {
  const out: FlaggedShelter[] = [];
  const inReach = reachOf(candidates, (c) => c.limits.atRiskWithinM);
  for (const s of shelters) {
    const reasons: ExposureReason[] = [];
    for (const { index, d } of inReach(s.lon, s.lat)) {
      const c = candidates[index];
      const flag: ShelterFlag = d <= c.limits.unusableWithinM ? 'unusable' : 'at_risk';
      const neighbour = districtId !== undefined && c.district_id !== districtId ? { neighbouring_district: c.district_id } : {};
      reasons.push({ hazard: c.hazard, id: c.id, name_zh: c.name_zh, ...neighbour, flag, distance_m: round1(d), within_m: flag === 'unusable' ? c.limits.unusableWithinM : c.limits.atRiskWithinM, detail: c.detail });
    }
    if (reasons.length === 0) continue;
    reasons.sort((a, b) => SEVERITY[a.flag] - SEVERITY[b.flag] || a.distance_m - b.distance_m || a.hazard.localeCompare(b.hazard) || a.id - b.id);
    out.push(flaggedShelter(s, reasons[0].flag, reasons));
  }
  return out.sort((a, b) => SEVERITY[a.flag] - SEVERITY[b.flag] || a.id - b.id);
}

/** The hazard whose unusable zone holds a point (nearest first), for guidance that must never send anyone there. */
export interface UnusableZone {
  hazard: HazardKind;
  id: number;
  distance_m: number;
  within_m: number;
}

export function unusableZones(points: readonly { id: number; lon: number; lat: number }[], candidates: readonly Candidate[]): Map<number, UnusableZone> {
  const out = new Map<number, UnusableZone>();
  const inReach = reachOf(candidates, (c) => c.limits.unusableWithinM);
  for (const p of points) {
    let best: UnusableZone | undefined;
    for (const { index, d } of inReach(p.lon, p.lat)) {
      const c = candidates[index];
      if (!best || d < best.distance_m) best = { hazard: c.hazard, id: c.id, distance_m: round1(d), within_m: c.limits.unusableWithinM };
    }
    if (best) out.set(p.id, best);
  }
  return out;
}

/** A shelter as the exposure and scenario answers list it, with its flag and reasons. */
export function flaggedShelter(s: Shelter, flag: ShelterFlag, reasons: ExposureReason[]): FlaggedShelter {
  return {
    id: s.id,
    name_zh: s.name_zh,
    name_en: s.name_en,
    street_id: s.streetId,
    shelter_class: s.shelterClass,
    setting: s.setting,
    status: s.status,
    capacity: s.capacity,
    effective_area_m2: s.effectiveAreaM2,
    flag,
    reasons,
  };
}

/**
 * The candidates within their own reach of a point (a shelter, a population cell), with their
 * distances, in the candidates' own order (so ties resolve as a scan of all of them did). A grid
 * of their positions is searched to the longest reach: every shelter against every hazard was a
 * geodesic each (Vincenty beyond 10 km), and with 3,160 shelters and 3,240 hazards a
 * recomputation of the hazard zones took 3 s, holding every shelter's row lock.
 */
function reachOf<C extends { lon: number; lat: number }>(candidates: readonly C[], reachM: (c: C) => number): (lon: number, lat: number) => { index: number; d: number }[] {
  const grid = new PointGrid(
    candidates.map((c) => c.lon),
    candidates.map((c) => c.lat),
  );
  const longest = candidates.reduce((m, c) => Math.max(m, reachM(c)), 0);
  return (lon, lat) => {
    const found: { index: number; d: number }[] = [];
    grid.within(lon, lat, longest, (index, d) => {
      if (d <= reachM(candidates[index])) found.push({ index, d });
    });
    return found.sort((x, y) => x.index - y.index);
  };
}

// ------------------------------------------------------------------ residents

export type ResidentHazard = 'red_point' | 'orange_point' | 'major_hazard_source';

interface Source {
  hazard: ResidentHazard;
  id: number;
  district_id: string;
  name_zh: string;
  lon: number;
  lat: number;
  radius: number;
}

export interface StreetExposure {
  id: string;
  name_zh: string;
  name_en: string;
  residents: number;
  /** Residents near at least one of the hazards (each counted once). */
  exposed_residents: number;
  exposed_pct: number | null;
  near_red_points: number;
  near_orange_points: number;
  near_major_hazard_sources: number;
  /** Residents near a hazard of a neighbouring district and near none of their own district's. */
  exposed_only_by_neighbouring_hazards: number;
}

/** Residents of `districtId` near red/orange risk points and major hazard sources, per street; a neighbour's hazards count and are labelled. */
export function residentExposure(cells: readonly PopulationCell[], streets: readonly AdminUnit[], h: DistrictHazards, options: RiskOptions, districtId: string) {
  const d = options.residentDistances;
  const sources: Source[] = [
    ...h.riskPoints.map((p) => ({ hazard: (p.level === 'red' ? 'red_point' : 'orange_point') as ResidentHazard, id: p.id, district_id: p.district_id, name_zh: p.name_zh, lon: p.lon, lat: p.lat, radius: p.level === 'red' ? d.red_point : d.orange_point })),
    ...h.hazardSources.filter((s) => s.major_hazard).map((s) => ({ hazard: 'major_hazard_source' as const, id: s.id, district_id: s.district_id, name_zh: s.name_zh, lon: s.lon, lat: s.lat, radius: d.major_hazard_source })),
  ];
  type Tally = { residents: number; exposed: number; red_point: number; orange_point: number; major_hazard_source: number; neighbours_only: number };
  const blank = (): Tally => ({ residents: 0, exposed: 0, red_point: 0, orange_point: 0, major_hazard_source: 0, neighbours_only: 0 });
  const tallies = new Map<string, Tally>(streets.map((s) => [s.id, blank()]));
  const total = blank();
  const perSource = sources.map(() => 0);
  const inReach = reachOf(sources, (s) => s.radius);
  for (const c of cells) {
    const near = { red_point: false, orange_point: false, major_hazard_source: false };
    let own = false;
    let neighbours = false;
    for (const { index } of inReach(c.lon, c.lat)) {
      const s = sources[index];
      near[s.hazard] = true;
      perSource[index] += c.residents;
      if (s.district_id === districtId) own = true;
      else neighbours = true;
    }
    const t = c.streetId ? tallies.get(c.streetId) : undefined;
    for (const x of t ? [t, total] : [total]) {
      x.residents += c.residents;
      if (near.red_point || near.orange_point || near.major_hazard_source) x.exposed += c.residents;
      for (const k of ['red_point', 'orange_point', 'major_hazard_source'] as const) if (near[k]) x[k] += c.residents;
      if (neighbours && !own) x.neighbours_only += c.residents;
    }
  }
  const line = (t: Tally) => ({
    residents: t.residents,
    exposed_residents: t.exposed,
    exposed_pct: t.residents > 0 ? round2((100 * t.exposed) / t.residents) : null,
    near_red_points: t.red_point,
    near_orange_points: t.orange_point,
    near_major_hazard_sources: t.major_hazard_source,
    exposed_only_by_neighbouring_hazards: t.neighbours_only,
  });
  return {
    total: line(total),
    by_street: streets.map((s): StreetExposure => ({ id: s.id, name_zh: s.name_zh, name_en: s.name_en, ...line(tallies.get(s.id)!) })),
    hazards: sources.map((s, k) => ({ hazard: s.hazard, id: s.id, name_zh: s.name_zh, ...(s.district_id !== districtId ? { neighbouring_district: s.district_id } : {}), within_m: s.radius, residents_within: perSource[k] })),
  };
}
