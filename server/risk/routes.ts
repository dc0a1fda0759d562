import { Router, type Request } from 'express';
import type { AppContext } from '../context.ts';
import { HttpProblem } from '../http/problem.ts';
import { parseInput } from '../http/validate.ts';
import { principalOf } from '../http/principal.ts';
import { requireRole } from '../auth/middleware.ts';
import { parseQuery } from '../analysis/params.ts';
import { parseIfMatch } from '../edits/feature-store.ts';
import { readerOf } from '../db/types.ts';
import { requestDb } from '../db/scoped.ts';
import type { Principal } from '../../catalog/access.ts';
import { checkRiskOptions, LEVEL_RANK, rLevel } from './grading.ts';
import { blueSampling, dueList } from './supervision.ts';
import { riskOptions, type RiskOptions } from './options.ts';
import {
  asOfOf,
  districtQuery,
  dueQuery,
  inspectionBody,
  levelBody,
  pointIdParam,
  sourceIdParam,
  substancesBody,
  tableQuery,
} from './params.ts';
import { assertDistrictExists, countPoints, loadRiskPoints, loadStreets, dueLine, tableLine, type RiskPointLine } from './points.ts';
import { hazardSourceExists, loadGradedGeohazards, loadHazardSourceLines } from './hazards.ts';
import { listInspections, readAssessment, recordInspection, setHazardSubstances, setPointLevel } from './store.ts';
import { COUNT_COLUMNS, countRows, HAZARD_SOURCE_COLUMNS, POINT_COLUMNS, toCsv, toXlsx, type HazardSourceLine } from './table.ts';
import { addDays, todayIn } from './schedule.ts';
import { requestKeyOf } from '../http/idempotency-key.ts';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** Anonymous callers may not see hazardous-chemical enterprises (a restricted layer). */
function requireRestricted(req: Request, param: string): void {
  if (!principalOf(req).canSeeRestricted) {
    throw new HttpProblem(401, 'Unauthorized', `${param}: hazardous-chemical enterprises are shown only to callers with an API key`, [
      { name: 'Authorization', reason: 'Bearer <api key>' },
    ]);
  }
}

function hazardLines(lines: Awaited<ReturnType<typeof loadHazardSourceLines>>, options: RiskOptions): HazardSourceLine[] {
  return lines.map((h) => {
    const graded = h.r_value === null ? null : rLevel(h.r_value, options);
    return { ...h, r_level: graded, level_disagrees: graded !== null && graded !== h.level };
  });
}

/**
 * Risk grading and supervision (/risk/*). The exposure and scenario analyses
 * built on the risk layers are under /analysis (scenario-routes.ts).
 */
export function riskRoutes(ctx: AppContext, options: RiskOptions = riskOptions()): Router {
  checkRiskOptions(options);
  const { db } = ctx;
  const router = Router();
  // Reads (the one table, due lists, inspections, grades, assessments) go to the replica when there
  // is one, with the Consistency-Token rule (server/db/replica.ts); writes to the primary. Both
  // carry the request's scope: its statement timeout, cancellation and read consistency.
  const readsOf = (req: Request) => readerOf(requestDb(db, req));
  const today = () => todayIn(options.timeZone);

  // ---------------------------------------------------------------- the one table

  router.get('/risk/table', async (req, res) => {
    const reads = readsOf(req);
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
    const reads = readsOf(req);
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
    const reads = readsOf(req);
    const { id } = parseInput(pointIdParam, req.params, 'path');
    res.json({ risk_point_id: id, inspections: await listInspections(reads, id, principalOf(req)) });
  });

  router.post('/risk/points/:id/inspections', requireRole('editor'), async (req, res) => {
    const { id } = parseInput(pointIdParam, req.params, 'path');
    const body = parseInput(inspectionBody, req.body ?? {}, 'body');
    // A day's grace: an inspector east of the server's time zone may already be on tomorrow.
    if (body.date > addDays(today(), 1)) throw new HttpProblem(400, 'Invalid request', `date: ${body.date} is in the future`, [{ name: 'date', reason: 'a date not in the future' }]);
    const who = principalOf(req);
    // Sent again after a lost answer, with the same Idempotency-Key: the first answer, recorded once.
    const key = await requestKeyOf(req, who, ['inspection', id], JSON.stringify(req.body ?? {}), 'another inspection (another point, date or findings)');
    const { replayed, ...result } = await recordInspection(requestDb(db, req), id, body, who, key);
    if (replayed) res.set('Idempotent-Replayed', 'true');
    res.status(201).location(`/risk/points/${id}/inspections`).json(result);
  });

  // ---------------------------------------------------------------- levels

  router.put('/risk/points/:id/level', requireRole('editor'), async (req, res) => {
    const { id } = parseInput(pointIdParam, req.params, 'path');
    const body = parseInput(levelBody, req.body ?? {}, 'body');
    const result = await setPointLevel(requestDb(db, req), id, body, parseIfMatch(req.get('if-match')), principalOf(req), options);
    res.set('etag', result.etag).json(result);
  });

  router.get('/risk/disagreements', async (req, res) => {
    const reads = readsOf(req);
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
    const reads = readsOf(req);
    const q = parseQuery(districtQuery, req.query);
    if (q.district) await assertDistrictExists(reads, q.district);
    const sites = await loadGradedGeohazards(reads, q.district ?? null, options);
    const counts = { red: 0, orange: 0, yellow: 0, blue: 0, total: sites.length };
    for (const s of sites) counts[s.danger_grade]++;
    res.json({ district: q.district ?? null, rule: 'danger grade: the higher of the grades by people threatened and by potential loss', counts, sites });
  });

  // ---------------------------------------------------------------- hazardous-chemical enterprises

  router.get('/risk/hazard-sources/:id/assessment', async (req, res) => {
    const reads = readsOf(req);
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
    res.json(await setHazardSubstances(requestDb(db, req), id, body, principalOf(req), options));
  });

  return router;
}
