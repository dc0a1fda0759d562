import type { MultiPolygon, Polygon } from 'geojson';
import { booleanPointInPolygon } from '@turf/turf';
import type { Shelter } from '../analysis/model.ts';
import { geohazardGrade } from './grading.ts';
import type { DistrictHazards } from './hazards.ts';
import type { RiskOptions } from './options.ts';
import type { TyphoonLevel } from './typhoon.ts';
import { floodCandidate, flaggedShelter, flagShelters, geohazardCandidate, type ExposureReason, type FlaggedShelter } from './exposure.ts';

/**
 * A rainstorm or typhoon scenario (Huadu's "dynamic flood-risk map"), as a
 * pure function of the district's hazards and shelters: which flood-prone
 * spots flood at the given rainfall, which geohazard sites lie in the warning
 * area, and which shelters close because they sit inside an active hazard's
 * zone (the exposure's "unusable" distance). Coverage before and after is the
 * coverage analysis run twice (routes), never a copy of it.
 */

export type AreaGeometry = Polygon | MultiPolygon;

export interface RainfallArea {
  geometry: AreaGeometry;
  rainfall_mm_h: number;
}

export interface ScenarioInput {
  /** Rainfall intensity over the whole district, mm/h (outside every rainfall area). */
  rainfall_mm_h?: number;
  /** Rainfall inside polygons; where they overlap, the highest applies. */
  rainfall_areas?: RainfallArea[];
  /** Typhoon / geohazard warning area: active geohazard sites inside it are triggered. */
  warning_area?: AreaGeometry;
  /** Close outdoor shelters inside the warning area (typhoons). */
  close_outdoor_in_warning_area: boolean;
  /** A typhoon signal for the district: without a warning area, outdoor closures cover the whole district. */
  typhoon_level?: TyphoonLevel;
}

/** Rainfall at a point: the highest rainfall area containing it, else the district-wide figure, else none (0). */
export function rainfallAt(lon: number, lat: number, input: Pick<ScenarioInput, 'rainfall_mm_h' | 'rainfall_areas'>): number {
  let inArea: number | null = null;
  for (const a of input.rainfall_areas ?? []) {
    if (booleanPointInPolygon([lon, lat], a.geometry) && (inArea === null || a.rainfall_mm_h > inArea)) inArea = a.rainfall_mm_h;
  }
  return inArea ?? input.rainfall_mm_h ?? 0;
}

export function scenarioEffects(shelters: readonly Shelter[], hazards: DistrictHazards, input: ScenarioInput, options: RiskOptions, districtId?: string) {
  // Flood-prone spots flood when the rainfall exceeds their threshold (treated spots do not).
  const floods = hazards.floodPoints
    .filter((f) => f.status === 'active')
    .map((f) => {
      const rainfall = rainfallAt(f.lon, f.lat, input);
      return { ...f, rainfall_mm_h: rainfall, active: f.threshold_mm_h !== null && rainfall > f.threshold_mm_h };
    });
  const warning = input.warning_area;
  const geos = hazards.geohazardSites
    .filter((g) => g.status === 'active')
    .map((g) => ({ ...g, danger_grade: geohazardGrade(g.people_threatened, g.potential_loss_cny, options).level, active: !!warning && booleanPointInPolygon([g.lon, g.lat], warning) }));

  // A shelter closes inside an active hazard's zone: only the unusable distance counts.
  const zone = (d: { unusableWithinM: number }) => ({ unusableWithinM: d.unusableWithinM, atRiskWithinM: d.unusableWithinM });
  const candidates = [
    ...floods.filter((f) => f.active).map((f) => floodCandidate(f, zone(options.shelterDistances.flood_point))),
    ...geos.filter((g) => g.active).map((g) => geohazardCandidate(g, zone(options.shelterDistances.geohazard_site), options)),
  ];
  const open = shelters.filter((s) => s.status !== 'closed');
  const closed = new Map<number, FlaggedShelter>(flagShelters(open, candidates, districtId).map((s) => [s.id, s]));
  // A typhoon signal is issued for the district: with no area drawn, all of it is warned.
  if (input.close_outdoor_in_warning_area && (warning || input.typhoon_level)) {
    const level = input.typhoon_level ? { typhoon_level: input.typhoon_level } : {};
    for (const s of open) {
      if (s.setting !== 'outdoor' || (warning && !booleanPointInPolygon([s.lon, s.lat], warning))) continue;
      const name_zh = warning ? '预警区域' : '台风预警（全区）';
      const reason: ExposureReason = { hazard: 'warning_area', id: 0, name_zh, flag: 'unusable', distance_m: 0, within_m: 0, detail: { setting: 'outdoor', ...level } };
      const hit = closed.get(s.id);
      if (hit) hit.reasons.push(reason);
      else closed.set(s.id, flaggedShelter(s, 'unusable', [reason]));
    }
  }
  return {
    floods,
    geos,
    closed: [...closed.values()].sort((a, b) => a.id - b.id),
    alreadyClosed: shelters.filter((s) => s.status === 'closed').map((s) => s.id),
  };
}
