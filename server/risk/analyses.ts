import type { Db, StatementScope } from '../db/types.ts';
import { assertGeometryInput, type GeometryLimits } from '../geo/geometry-input.ts';
import { badRequest } from '../http/problem.ts';
import { coverageQuery, parseQuery } from '../analysis/params.ts';
import type { AnalysisServices } from '../analysis/service.ts';
import { getLayer } from '../../catalog/layers.ts';
import { canSeeLayer, type Principal } from '../../catalog/access.ts';
import { loadDistrictHazards, type DistrictHazards } from './hazards.ts';
import { flagShelters, residentExposure, standingCandidates } from './exposure.ts';
import type { RiskOptions } from './options.ts';
import type { ScenarioBody } from './params.ts';
import { scenarioEffects, type AreaGeometry, type ScenarioInput } from './scenario.ts';
import { typhoonLevelLine } from './typhoon.ts';

/**
 * Exposure and scenario reports: hazards from the database, shelters, cells
 * and streets from the coverage analysis's own district snapshot (so residents
 * and street membership are exactly those coverage counts), and coverage with
 * shelters left out through the analysis's `exclude_shelters` parameter.
 */

const round2 = (x: number) => Math.round(x * 100) / 100;

/** The largest distance any rule looks (hazards this far outside the district still count). */
const searchMargin = (o: RiskOptions) =>
  Math.max(...Object.values(o.shelterDistances).map((d) => d.atRiskWithinM), ...Object.values(o.residentDistances));

/** Coverage of the district as GET /analysis/coverage answers it, with `exclude` shelters left out. */
async function coverageWithout(analysis: AnalysisServices, district: string, exclude: readonly number[], scope: StatementScope | undefined) {
  const raw: Record<string, string> = { district, unit: 'street' };
  if (exclude.length) raw.exclude_shelters = exclude.join(',');
  const q = parseQuery(coverageQuery, raw);
  const result = await analysis.coverage.coverage(q, scope);
  return { q, result, query: new URLSearchParams(raw).toString() };
}

const coverageLine = (t: { residents: number; covered_residents: number; uncovered_residents: number; covered_pct: number | null; sheltered_residents: number; unsheltered_residents: number; shelters: number; capacity: number }) => ({
  residents: t.residents,
  shelters_counted: t.shelters,
  capacity: t.capacity,
  covered_residents: t.covered_residents,
  uncovered_residents: t.uncovered_residents,
  covered_pct: t.covered_pct,
  sheltered_residents: t.sheltered_residents,
  unsheltered_residents: t.unsheltered_residents,
});

/**
 * The hazards a caller may see: every figure an answer gives is computed from these only, so adding
 * a restricted hazardous-chemical enterprise changes nothing a caller without access receives
 * (otherwise a flag "within 1000 m of a major hazard source" would reveal where it is).
 */
function visibleHazards(hazards: DistrictHazards, who: Principal): { hazards: DistrictHazards; restricted: string[] } {
  const layer = getLayer('hazard_sources');
  if (layer && canSeeLayer(layer, who)) return { hazards, restricted: [] };
  return { hazards: { ...hazards, hazardSources: [] }, restricted: ['hazard_sources'] };
}

/** `db`: where the hazards are read; `scope`: the request the report is for (the analyses' statements carry it too). */
export async function exposureReport(db: Db, analysis: AnalysisServices, district: string, who: Principal, options: RiskOptions, scope: StatementScope | undefined) {
  const version = await analysis.models.dataVersion(scope);
  const { snapshot } = await analysis.models.district(district, version, scope);
  const { hazards, restricted } = visibleHazards(await loadDistrictHazards(db, district, searchMargin(options)), who);
  // a closed shelter is already out of service: it is counted apart, never as "unusable"
  const inService = snapshot.shelters.filter((s) => s.status !== 'closed');
  const closed = snapshot.shelters.filter((s) => s.status === 'closed').map((s) => s.id);
  const flagged = flagShelters(inService, standingCandidates(hazards, options), district);
  const unusable = flagged.filter((s) => s.flag === 'unusable').map((s) => s.id);
  const residents = residentExposure(snapshot.cells, snapshot.streets, hazards, options, district);
  const before = await coverageWithout(analysis, district, [], scope);
  const after = await coverageWithout(analysis, district, unusable, scope);
  // withheld, not zero: a caller without access cannot know whether anyone lives near one
  const withheld = <T extends { near_major_hazard_sources: number }>(line: T) => (restricted.length ? { ...line, near_major_hazard_sources: null } : line);
  return {
    district: { id: snapshot.district.id, name_zh: snapshot.district.name_zh, name_en: snapshot.district.name_en },
    parameters: {
      shelter_distances_m: options.shelterDistances,
      resident_distances_m: options.residentDistances,
      hazards_counted: 'flood-prone spots and geohazard sites not treated; every hazardous-chemical enterprise; red and orange risk points',
      neighbouring_hazards: 'hazards of a neighbouring district within the largest distance of the district count (a hazard does not stop at a boundary); each names its district in neighbouring_district',
      distance: 'straight line, metres on the WGS84 ellipsoid',
      population: 'population cells, residents at a point inside each cell (as in the coverage analysis)',
      closed_shelters: 'closed shelters are out of service already: counted in shelters.closed, never flagged',
      ...(restricted.length ? { restricted: 'hazardous-chemical enterprises are left out of every figure for callers without an API key' } : {}),
      data_version: version,
    },
    restricted,
    shelters: {
      total: snapshot.shelters.length,
      closed: closed.length,
      unusable: unusable.length,
      at_risk: flagged.length - unusable.length,
      not_flagged: inService.length - flagged.length,
      closed_ids: closed,
      flagged,
    },
    residents: {
      total: withheld(residents.total),
      by_street: residents.by_street.map(withheld),
      hazards: residents.hazards,
    },
    coverage: {
      excluded_shelters: unusable,
      before: coverageLine(before.result.total),
      after_excluding_unusable: coverageLine(after.result.total),
      residents_losing_cover: before.result.total.covered_residents - after.result.total.covered_residents,
      coverage_query: `/analysis/coverage?${after.query}`,
    },
  };
}

/** Validity and size of each drawn polygon, checked by PostGIS; errors name the field. */
async function checkAreas(db: Db, areas: { param: string; geometry: AreaGeometry }[], maxKm2: number, limits: GeometryLimits): Promise<void> {
  // Every area passes the input rule before any of them reaches SQL.
  for (const a of areas) assertGeometryInput(a.geometry, a.param, limits);
  for (const a of areas) {
    const r = await db.query<{ valid: boolean; reason: string; area: number }>(
      `WITH g AS (SELECT ST_SetSRID(ST_GeomFromGeoJSON($1), 4326) AS g)
       SELECT ST_IsValid(g) AS valid, ST_IsValidReason(g) AS reason, CASE WHEN ST_IsValid(g) THEN ST_Area(g::geography) ELSE 0 END AS area FROM g`,
      [JSON.stringify(a.geometry)],
    );
    const row = r.rows[0];
    if (!row.valid) throw badRequest(a.param, `the polygon is not valid: ${row.reason}`);
    if (!(Number(row.area) > 0)) throw badRequest(a.param, 'the polygon has no area');
    if (Number(row.area) > maxKm2 * 1e6) throw badRequest(a.param, `the polygon covers ${(Number(row.area) / 1e6).toFixed(1)} km²; at most ${maxKm2} km²`);
  }
}

export async function checkScenarioAreas(db: Db, body: ScenarioBody, options: RiskOptions, limits: GeometryLimits): Promise<void> {
  await checkAreas(
    db,
    [
      ...(body.rainfall_areas ?? []).map((a, i) => ({ param: `rainfall_areas.${i}.geometry`, geometry: a.geometry as AreaGeometry })),
      ...(body.warning_area ? [{ param: 'warning_area', geometry: body.warning_area as AreaGeometry }] : []),
    ],
    options.scenarioMaxAreaKm2,
    limits,
  );
}

/** `db`: where the hazards are read; `scope`: the request the report is for (the analyses' statements carry it too). */
export async function scenarioReport(db: Db, analysis: AnalysisServices, body: ScenarioBody, options: RiskOptions, scope: StatementScope | undefined) {
  const version = await analysis.models.dataVersion(scope);
  const loaded = await analysis.models.district(body.district, version, scope);
  const { snapshot } = loaded;
  const hazards = await loadDistrictHazards(db, body.district, searchMargin(options));
  // A typhoon level stands for its rainfall and, unless the request says otherwise, its outdoor closures.
  const typhoon = body.typhoon_level ? options.typhoonLevels[body.typhoon_level] : undefined;
  const input: ScenarioInput = {
    rainfall_mm_h: body.rainfall_mm_h ?? typhoon?.rainfall_mm_h,
    rainfall_areas: body.rainfall_areas?.map((a) => ({ geometry: a.geometry as AreaGeometry, rainfall_mm_h: a.rainfall_mm_h })),
    warning_area: body.warning_area as AreaGeometry | undefined,
    close_outdoor_in_warning_area: body.close_outdoor_in_warning_area ?? typhoon?.close_outdoor_shelters ?? options.closeOutdoorInWarningArea,
    typhoon_level: body.typhoon_level,
  };
  const effects = scenarioEffects(snapshot.shelters, hazards, input, options, body.district);
  const closedIds = effects.closed.map((s) => s.id);

  // Coverage twice through the analysis: as it stands, and with the closed shelters left out.
  const before = await coverageWithout(analysis, body.district, [], scope);
  const after = await coverageWithout(analysis, body.district, closedIds, scope);
  // Cell by cell, who loses cover: an independent count of before − after.
  const decay = analysis.options.decay;
  const a0 = await analysis.models.analysis(body.district, await analysis.models.settings(before.q, scope), decay, version, scope);
  const a1 = await analysis.models.analysis(body.district, await analysis.models.settings(after.q, scope), decay, version, scope);
  let lostCover = 0;
  let gainedCover = 0;
  snapshot.cells.forEach((c, i) => {
    if (a0.analysis.covered[i] && !a1.analysis.covered[i]) lostCover += c.residents;
    if (!a0.analysis.covered[i] && a1.analysis.covered[i]) gainedCover += c.residents;
  });

  // The district's own hazards are its report; a neighbour's (just across the edge) can still close
  // a shelter here, so they are counted apart and named, never mixed into the district's figures.
  const own = <T extends { district_id: string }>(list: T[]) => list.filter((x) => x.district_id === body.district);
  const neighbours = <T extends { district_id: string }>(list: T[]) => list.filter((x) => x.district_id !== body.district);
  const ownFloods = own(effects.floods);
  const ownGeos = own(effects.geos);
  const activeFloods = ownFloods.filter((f) => f.active);
  const activeGeos = ownGeos.filter((g) => g.active);
  const perStreet = <T extends { street_id: string | null }>(list: T[]) => {
    const m = new Map<string, number>();
    for (const x of list) if (x.street_id) m.set(x.street_id, (m.get(x.street_id) ?? 0) + 1);
    return m;
  };
  const floodsBy = perStreet(activeFloods);
  const geosBy = perStreet(activeGeos);
  const closedBy = perStreet(effects.closed);
  const afterUnits = new Map(after.result.units.map((u) => [u.id, u]));

  return {
    district: { id: snapshot.district.id, name_zh: snapshot.district.name_zh, name_en: snapshot.district.name_en },
    parameters: {
      rainfall_mm_h: input.rainfall_mm_h ?? null,
      rainfall_areas: body.rainfall_areas?.map((a) => ({ rainfall_mm_h: a.rainfall_mm_h })) ?? [],
      warning_area: !!body.warning_area,
      close_outdoor_in_warning_area: input.close_outdoor_in_warning_area,
      ...(typhoon ? { typhoon_level: typhoonLevelLine(typhoon) } : {}),
      hazard_zone_m: { flood_point: options.shelterDistances.flood_point.unusableWithinM, geohazard_site: options.shelterDistances.geohazard_site.unusableWithinM },
      rules: {
        flood_point: 'active when the rainfall at the spot exceeds its threshold_mm_h (treated spots and spots without a threshold never flood)',
        geohazard_site: 'active when the site (not treated) lies inside the warning area',
        shelter: 'closed when it lies within the hazard zone of an active flood spot or geohazard site (or, if asked, is outdoor inside the warning area)',
        rainfall: 'inside rainfall areas their figure (the highest where they overlap), elsewhere rainfall_mm_h',
        ...(typhoon
          ? {
              typhoon_level:
                'lead time and wind of the signal are CMA’s; its rainfall_mm_h and outdoor closures are our assumptions. Without a warning area the signal covers the whole district for outdoor closures; geohazard sites are triggered only inside a warning area',
            }
          : {}),
      },
      data_version: version,
    },
    flood_points: {
      considered: ownFloods.length,
      without_threshold: ownFloods.filter((f) => f.threshold_mm_h === null).length,
      active: activeFloods.map((f) => ({ id: f.id, name_zh: f.name_zh, kind: f.kind, street_id: f.street_id, threshold_mm_h: f.threshold_mm_h, rainfall_mm_h: f.rainfall_mm_h })),
    },
    geohazard_sites: {
      considered: ownGeos.length,
      active: activeGeos.map((g) => ({ id: g.id, name_zh: g.name_zh, kind: g.kind, scale: g.scale, street_id: g.street_id, danger_grade: g.danger_grade, people_threatened: g.people_threatened })),
    },
    neighbouring_hazards: {
      note: 'hazards of neighbouring districts near the edge: not counted above, but their zones close shelters of this district too',
      flood_points: {
        considered: neighbours(effects.floods).length,
        active: neighbours(effects.floods)
          .filter((f) => f.active)
          .map((f) => ({ id: f.id, district_id: f.district_id, name_zh: f.name_zh, kind: f.kind, threshold_mm_h: f.threshold_mm_h, rainfall_mm_h: f.rainfall_mm_h })),
      },
      geohazard_sites: {
        considered: neighbours(effects.geos).length,
        active: neighbours(effects.geos)
          .filter((g) => g.active)
          .map((g) => ({ id: g.id, district_id: g.district_id, name_zh: g.name_zh, kind: g.kind, scale: g.scale, danger_grade: g.danger_grade })),
      },
      shelters_closed: effects.closed.filter((s) => s.reasons.some((r) => r.neighbouring_district !== undefined)).map((s) => s.id),
    },
    shelters: {
      closed: effects.closed,
      already_closed: effects.alreadyClosed,
      capacity_closed: effects.closed.reduce((s, x) => s + x.capacity, 0),
    },
    coverage: {
      before: coverageLine(before.result.total),
      after: coverageLine(after.result.total),
      residents_losing_cover: lostCover,
      residents_gaining_cover: gainedCover,
      residents_losing_a_place: before.result.total.sheltered_residents - after.result.total.sheltered_residents,
      before_query: `/analysis/coverage?${before.query}`,
      after_query: `/analysis/coverage?${after.query}`,
      by_street: before.result.units.map((u) => {
        const a = afterUnits.get(u.id)!;
        return {
          id: u.id,
          name_zh: u.name_zh,
          name_en: u.name_en,
          residents: u.residents,
          active_flood_points: floodsBy.get(u.id) ?? 0,
          active_geohazard_sites: geosBy.get(u.id) ?? 0,
          closed_shelters: closedBy.get(u.id) ?? 0,
          covered_before: u.covered_residents,
          covered_after: a.covered_residents,
          residents_losing_cover: u.covered_residents - a.covered_residents,
          covered_pct_after: a.covered_pct,
          sheltered_before: u.sheltered_residents,
          sheltered_after: a.sheltered_residents,
        };
      }),
    },
    alert_streets: [...new Set([...floodsBy.keys(), ...geosBy.keys(), ...closedBy.keys()])].sort(),
    affected_pct: before.result.total.residents > 0 ? round2((100 * lostCover) / before.result.total.residents) : null,
  };
}
