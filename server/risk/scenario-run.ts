import type { Db, StatementScope } from '../db/types.ts';
import { readerOf } from '../db/types.ts';
import type { GeometryLimits } from '../geo/geometry-input.ts';
import type { AnalysisServices } from '../analysis/service.ts';
import type { Principal } from '../../catalog/access.ts';
import { assertDistrictScope } from '../auth/district-scope.ts';
import { endScenarioRun, startScenarioRun, type ScenarioMarking } from '../shelters/usability.ts';
import { checkScenarioAreas, scenarioReport } from './analyses.ts';
import type { ExposureReason } from './exposure.ts';
import type { RiskOptions } from './options.ts';
import type { ScenarioBody } from './params.ts';
import { closeShelters } from './store.ts';
import { TYPHOON_LEVELS, typhoonLevelLine } from './typhoon.ts';

/**
 * POST /analysis/scenario: the scenario report (analyses.ts), and what an editor
 * may do with it: close its shelters (`apply`) or mark them unusable for the
 * length of a scenario run (`mark_unusable`, ended by DELETE /analysis/scenario/:id).
 * The report reads from the replica when there is one; the writes go to the primary.
 */

/** Why a scenario marked a shelter unusable, for its unusable_note. */
const scenarioNote = (reasons: readonly ExposureReason[]) =>
  `scenario: ${reasons.map((r) => (r.hazard === 'warning_area' ? 'outdoor, inside the warning area' : `within ${r.within_m} m of ${r.hazard.replace(/_/g, ' ')} ${r.id} ${r.name_zh}`)).join('; ')}`;

/** Whether the scenario writes (and so needs an editor in the district). */
export const scenarioWrites = (body: ScenarioBody) => body.apply || body.mark_unusable;

/** `db`: the request's (scopedDb); `scope`: the request, for the analyses the report runs. */
export async function runScenario(db: Db, analysis: AnalysisServices, body: ScenarioBody, who: Principal, options: RiskOptions, limits: GeometryLimits, scope: StatementScope | undefined) {
  const reads = readerOf(db);
  await checkScenarioAreas(reads, body, options, limits);
  const report = await scenarioReport(reads, analysis, body, options, scope);
  if (scenarioWrites(body)) assertDistrictScope(who, body.district, 'district');
  let run: ScenarioMarking | null = null;
  if (body.mark_unusable) {
    const { apply: _apply, mark_unusable: _mark, ...input } = body;
    const marks = report.shelters.closed.map((s) => ({ id: s.id, note: scenarioNote(s.reasons) }));
    run = await startScenarioRun(db, body.district, input, marks, who);
  }
  const applied = body.apply ? await closeShelters(db, report.shelters.closed.map((s) => s.id), 'scenario: inside the zone of an active hazard', who) : null;
  return {
    ...report,
    applied: applied && { shelters_closed: applied.closed, data_version: applied.data_version },
    ...(run ? { scenario_run: { id: run.scenario_id, shelters_marked_unusable: run.marked, already_unusable: run.already_unusable, data_version: run.data_version, end: `DELETE /analysis/scenario/${run.scenario_id}` } } : {}),
  };
}

/** DELETE /analysis/scenario/:id: the run's shelters are usable again. */
export const endScenario = (db: Db, id: number, who: Principal) => endScenarioRun(db, id, who);

/** GET /analysis/scenario/options: what a scenario may ask, the typhoon levels with their rules (the client's picker). */
export function scenarioOptions(options: RiskOptions) {
  return {
    typhoon_levels: TYPHOON_LEVELS.map((l) => typhoonLevelLine(options.typhoonLevels[l])),
    rainfall_mm_h: { min: 0, max: 500 },
    close_outdoor_in_warning_area: options.closeOutdoorInWarningArea,
    scenario_max_area_km2: options.scenarioMaxAreaKm2,
    sources: {
      lead_hours: 'CMA national typhoon warning signal rules (as in the 2004 trial measures; provincial signals, e.g. Guangdong’s, differ)',
      mean_wind_force: 'CMA, Beaufort force; mean_wind_min_ms and gust_min_ms from GB/T 28591-2012',
      gust_force: 'CMA, Beaufort force',
      rainfall_mm_h: 'our assumption: the rainfall a scenario applies for the level (typhoon_level and rainfall_mm_h are not given together)',
      close_outdoor_shelters: 'our assumption: outdoor shelters in the warning area (else the district) close from this level up',
    },
  };
}
