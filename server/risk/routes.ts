import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../context.ts';
import { HttpProblem } from '../http/problem.ts';
import { parseInput } from '../http/validate.ts';
import { principalOf } from '../http/principal.ts';
import { requireRole } from '../auth/middleware.ts';
import { parseQuery } from '../analysis/params.ts';
import { shelterAnalysisFor } from '../analysis/service.ts';
import { parseIfMatch } from '../edits/feature-store.ts';
import type { Principal } from '../../catalog/access.ts';
import { assertDistrictScope } from '../auth/district-scope.ts';
import { checkRiskOptions, LEVEL_RANK, rLevel } from './grading.ts';
import { blueSampling, dueList } from './supervision.ts';
import { riskOptions, type RiskOptions } from './options.ts';
import {
  asOfOf,
  districtQuery,
  dueQuery,
  exposureQuery,
  inspectionBody,
  levelBody,
  noQuery,
  pointIdParam,
  scenarioBody,
  scenarioRunParam,
  sourceIdParam,
  substancesBody,
  tableQuery,
} from './params.ts';
import { assertDistrictExists, countPoints, loadRiskPoints, loadStreets, dueLine, tableLine, type RiskPointLine } from './points.ts';
import { hazardSourceExists, loadGradedGeohazards, loadHazardSourceLines } from './hazards.ts';
import { closeShelters, listInspections, readAssessment, recordInspection, setHazardSubstances, setPointLevel } from './store.ts';
import { readerOf } from '../db/types.ts';
import { COUNT_COLUMNS, countRows, HAZARD_SOURCE_COLUMNS, POINT_COLUMNS, toCsv, toXlsx, type HazardSourceLine } from './table.ts';
import { addDays, todayIn } from './schedule.ts';
import { TYPHOON_LEVELS, typhoonLevelLine } from './typhoon.ts';
import { checkScenarioAreas, exposureReport, scenarioReport } from './analyses.ts';
import { endScenarioRun, startScenarioRun, type ScenarioMarking } from '../shelters/usability.ts';
import type { ExposureReason } from './exposure.ts';

/** Why a scenario marked a shelter unusable, for its unusable_note. */
const scenarioNote = (reasons: readonly ExposureReason[]) =>
  `scenario: ${reasons.map((r) => (r.hazard === 'warning_area' ? 'outdoor, inside the warning area' : `within ${r.within_m} m of ${r.hazard.replace(/_/g, ' ')} ${r.id} ${r.name_zh}`)).join('; ')}`;
import { geometryLimits } from '../geo/geometry-input.ts';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** Anonymous callers may not see hazardous-chemical enterprises (a restricted layer). */
function requireRestricted(req: Request, param: string): void {
  if (!principalOf(req).canSeeRestricted) {
    throw new HttpProblem(401, 'Unauthorized', `${param}: hazardous-chemical enterprises are shown only to callers with an API key`, [
      { name: 'Authorization', reason: 'Bearer <api key>' },
    ]);
  }
}

/** Runs a role check inside a handler (for requests that need it only sometimes). */
const checkRole = (role: 'editor', req: Request, res: Response) =>
  new Promise<void>((resolve, reject) => requireRole(role)(req, res, (err?: unknown) => (err ? reject(err) : resolve())));

function hazardLines(lines: Awaited<ReturnType<typeof loadHazardSourceLines>>, options: RiskOptions): HazardSourceLine[] {
  return lines.map((h) => {
    const graded = h.r_value === null ? null : rLevel(h.r_value, options);
    return { ...h, r_level: graded, level_disagrees: graded !== null && graded !== h.level };
  });
}

/**
 * Risk grading and supervision (/risk/*), and the exposure and scenario
 * analyses (/analysis/exposure, /analysis/scenario), which sit on top of the
 * shelter coverage analysis.
 */
export function riskRoutes(ctx: AppContext, options: RiskOptions = riskOptions()): Router {
  checkRiskOptions(options);
  const { db } = ctx;
  const router = Router();
  const service = () => shelterAnalysisFor(db);
  // Reads (the one table, due lists, inspections, grades, the exposure and scenario analyses) go to the
  // replica when there is one, with the Consistency-Token rule (server/db/replica.ts); writes to the primary.
  const reads = readerOf(db);
  const today = () => todayIn(options.timeZone);

  // ---------------------------------------------------------------- the one table

  router.get('/risk/table', async (req, res) => {
    const q = parseQuery(tableQuery, req.query);
    const asOf = asOfOf(q) ?? today();
    const district = q.district ?? null;
    const withSources = q.include_hazard_sources || q.part === 'hazard_sources';
    if (withSources) requireRestricted(req, q.include_hazard_sources ? 'include_hazard_sources' : 'part');
    const points = await loadRiskPoints(reads, district, asOf, options);
    const streets = await loadStreets(reads, district);
    const counts = countPoints(points, streets);
    const sources = withSources ? hazardLines(await loadHazardSourceLines(reads, district), options) : undefined;
    const name = `risk-table-${district ?? 'all'}-${asOf}`;
    if (q.f === 'csv') {
      res.attachment(`${name}${q.part === 'points' ? '' : `-${q.part}`}.csv`).type('text/csv; charset=utf-8');
      if (q.part === 'counts') res.send(toCsv(countRows(counts), COUNT_COLUMNS));
      else if (q.part === 'hazard_sources') res.send(toCsv(sources!, HAZARD_SOURCE_COLUMNS));
      else res.send(toCsv(points, POINT_COLUMNS));
      return;
    }
    if (q.f === 'xlsx') {
      const notes = [
        `区 district: ${district ?? 'all'}; 检查日期基准 as of: ${asOf}`,
        `风险点 ${counts.total.total} 个: 红 ${counts.total.red}, 橙 ${counts.total.orange}, 黄 ${counts.total.yellow}, 蓝 ${counts.total.blue}`,
        'LEC: D = L×E×C; D > 320 红, 160–320 橙, 70–160 黄, < 70 蓝 (cutoffs configurable; see docs/risk.md)',
        '合成数据 synthetic = 是: demo data generated inside real district outlines, not real risk points.',
      ];
      res.attachment(`${name}.xlsx`).type(XLSX).send(await toXlsx({ title: '风险点与危险源一张表 The one table of risk points', counts, points, hazardSources: sources, notes }));
      return;
    }
    res.json({
      district: district,
      as_of: asOf,
      counts,
      points: points.map(tableLine),
      ...(sources ? { hazard_sources: sources } : {}),
    });
  });

  // ---------------------------------------------------------------- inspections

  router.get('/risk/inspections/due', async (req, res) => {
    const q = parseQuery(dueQuery, req.query);
    const asOf = asOfOf(q) ?? today();
    const window = q.within_days ?? options.dueSoonDays;
    const points = await loadRiskPoints(reads, q.district ?? null, asOf, { ...options, dueSoonDays: window });
    const listed = dueList(points, q.level);
    const blue = blueSampling(points, asOf);
    res.json({
      district: q.district ?? null,
      as_of: asOf,
      parameters: {
        inspection_every_months: Object.fromEntries(Object.entries(options.inspectionEvery).map(([k, v]) => [k, v.everyMonths])),
        blue_sample_share: options.blueSampleShare,
        blue_sample: 'per district and calendar year: points ordered by sha256("year:id"), the first ⌈share × blue points⌉ drawn; due by 31 December',
        due_soon_days: window,
        ...(q.level ? { level: q.level } : {}),
      },
      summary: {
        overdue: listed.filter((p) => p.inspection.status === 'overdue').length,
        never_inspected: listed.filter((p) => p.inspection.never_inspected && p.inspection.status === 'overdue').length,
        due_soon: listed.filter((p) => p.inspection.status === 'due_soon').length,
      },
      blue_sampling: Object.fromEntries(blue),
      points: listed.map(dueLine),
    });
  });

  router.get('/risk/points/:id/inspections', async (req, res) => {
    const { id } = parseInput(pointIdParam, req.params, 'path');
    res.json({ risk_point_id: id, inspections: await listInspections(reads, id, principalOf(req)) });
  });

  router.post('/risk/points/:id/inspections', requireRole('editor'), async (req, res) => {
    const { id } = parseInput(pointIdParam, req.params, 'path');
    const body = parseInput(inspectionBody, req.body ?? {}, 'body');
    // A day's grace: an inspector east of the server's time zone may already be on tomorrow.
    if (body.date > addDays(today(), 1)) throw new HttpProblem(400, 'Invalid request', `date: ${body.date} is in the future`, [{ name: 'date', reason: 'a date not in the future' }]);
    const result = await recordInspection(db, id, body, principalOf(req));
    res.status(201).location(`/risk/points/${id}/inspections`).json(result);
  });

  // ---------------------------------------------------------------- levels

  router.put('/risk/points/:id/level', requireRole('editor'), async (req, res) => {
    const { id } = parseInput(pointIdParam, req.params, 'path');
    const body = parseInput(levelBody, req.body ?? {}, 'body');
    const result = await setPointLevel(db, id, body, parseIfMatch(req.get('if-match')), principalOf(req), options);
    res.set('etag', result.etag).json(result);
  });

  router.get('/risk/disagreements', async (req, res) => {
    const q = parseQuery(districtQuery, req.query);
    const district = q.district ?? null;
    const points = await loadRiskPoints(reads, district, today(), options);
    const who: Principal = principalOf(req);
    const disagreeing = (p: RiskPointLine) => ({
      id: p.id,
      district_id: p.district_id,
      street_id: p.street_id,
      name_zh: p.name_zh,
      category: p.category,
      level: p.level,
      level_source: p.level_source,
      level_reason: p.level_reason,
      lec: { l: p.lec_l, e: p.lec_e, c: p.lec_c, d: p.lec_d },
      assessed_level: p.assessed_level,
      direction: LEVEL_RANK[p.level] < LEVEL_RANK[p.assessed_level!] ? 'raised' : 'lowered',
    });
    const sources = who.canSeeRestricted ? hazardLines(await loadHazardSourceLines(reads, district), options).filter((h) => h.level_disagrees) : null;
    const riskPoints = points.filter((p) => p.level_disagrees).map(disagreeing);
    res.json({
      district,
      rule: 'a level disagrees when the stored level differs from the one its inputs give: LEC for risk points, R (GB 18218) for hazardous-chemical enterprises',
      counts: { risk_points: riskPoints.length, hazard_sources: sources?.length ?? null },
      risk_points: riskPoints,
      hazard_sources: sources?.map((h) => ({ id: h.id, district_id: h.district_id, name_zh: h.name_zh, kind: h.kind, level: h.level, r_value: h.r_value, r_level: h.r_level, major_hazard: h.major_hazard })) ?? null,
      ...(sources ? {} : { restricted: ['hazard_sources'] }),
    });
  });

  router.get('/risk/geohazards', async (req, res) => {
    const q = parseQuery(districtQuery, req.query);
    if (q.district) await assertDistrictExists(reads, q.district);
    const sites = await loadGradedGeohazards(reads, q.district ?? null, options);
    const counts = { red: 0, orange: 0, yellow: 0, blue: 0, total: sites.length };
    for (const s of sites) counts[s.danger_grade]++;
    res.json({ district: q.district ?? null, rule: 'danger grade: the higher of the grades by people threatened and by potential loss', counts, sites });
  });

  // ---------------------------------------------------------------- hazardous-chemical enterprises

  router.get('/risk/hazard-sources/:id/assessment', async (req, res) => {
    requireRestricted(req, 'id');
    const { id } = parseInput(sourceIdParam, req.params, 'path');
    if (!(await hazardSourceExists(reads, id))) throw new HttpProblem(404, 'Not found', `id: no hazard source ${id}`, [{ name: 'id', reason: `no hazard source ${id}` }]);
    const assessment = await readAssessment(reads, id, principalOf(req));
    if (!assessment) throw new HttpProblem(404, 'Not found', `hazard source ${id} has no substances recorded`);
    res.json(assessment);
  });

  router.put('/risk/hazard-sources/:id/substances', requireRole('editor'), async (req, res) => {
    const { id } = parseInput(sourceIdParam, req.params, 'path');
    const body = parseInput(substancesBody, req.body ?? {}, 'body');
    res.json(await setHazardSubstances(db, id, body, principalOf(req), options));
  });

  // ---------------------------------------------------------------- exposure and scenarios

  router.get('/analysis/exposure', async (req, res) => {
    const q = parseQuery(exposureQuery, req.query);
    res.json(await exposureReport(reads, service(), q.district, principalOf(req), options));
  });

  /** What a scenario may ask: the typhoon levels with their rules (the client's picker). */
  router.get('/analysis/scenario/options', (req, res) => {
    parseQuery(noQuery, req.query);
    res.json({
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
    });
  });

  router.post('/analysis/scenario', async (req, res) => {
    const body = parseInput(scenarioBody, req.body ?? {}, 'body');
    if (body.apply || body.mark_unusable) await checkRole('editor', req, res);
    await checkScenarioAreas(reads, body, options, geometryLimits(ctx.config));
    const report = await scenarioReport(reads, service(), body, options);
    const who = principalOf(req);
    if (body.apply || body.mark_unusable) assertDistrictScope(who, body.district, 'district');
    let run: ScenarioMarking | null = null;
    if (body.mark_unusable) {
      const { apply: _apply, mark_unusable: _mark, ...input } = body;
      const marks = report.shelters.closed.map((s) => ({ id: s.id, note: scenarioNote(s.reasons) }));
      run = await startScenarioRun(db, body.district, input, marks, who);
    }
    const applied = body.apply ? await closeShelters(db, report.shelters.closed.map((s) => s.id), 'scenario: inside the zone of an active hazard', who) : null;
    res.json({
      ...report,
      applied: applied && { shelters_closed: applied.closed, data_version: applied.data_version },
      ...(run ? { scenario_run: { id: run.scenario_id, shelters_marked_unusable: run.marked, already_unusable: run.already_unusable, data_version: run.data_version, end: `DELETE /analysis/scenario/${run.scenario_id}` } } : {}),
    });
  });

  // Ends a scenario run started with mark_unusable=true: its shelters are usable again.
  router.delete('/analysis/scenario/:id', requireRole('editor'), async (req, res) => {
    const { id } = parseInput(scenarioRunParam, req.params, 'path');
    res.json(await endScenarioRun(db, id, principalOf(req)));
  });

  return router;
}
