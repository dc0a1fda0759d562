import type { NearestService } from '../../server/analysis/nearest-service.ts';
import type { scenarioReport } from '../../server/risk/analyses.ts';
import type { DueLine, RiskTableLine } from '../../server/risk/points.ts';
import type { TyphoonLevel, typhoonLevelLine } from '../../server/risk/typhoon.ts';
import { fetchJson, fetchOk, postJson } from './api.ts';

/**
 * What the planner's risk, scenario, nearest-shelter and print views read from
 * the server (docs/risk.md, docs/analysis.md, docs/api.md). Only the fields the
 * views show are typed; every rule behind them stays on the server.
 */
export type Level = 'red' | 'orange' | 'yellow' | 'blue';

export interface RiskCounts {
  red: number;
  orange: number;
  yellow: number;
  blue: number;
  total: number;
}

/** A line of the one table, as the server builds it (type only). */
export type RiskTablePoint = RiskTableLine;

export interface RiskTable {
  district: string | null;
  as_of: string;
  counts: {
    levels: Level[];
    total: RiskCounts;
    by_street: (RiskCounts & { street_id: string; name_zh: string; name_en: string })[];
  };
  points: RiskTablePoint[];
}

export interface InspectionsDue {
  as_of: string;
  summary: { overdue: number; never_inspected: number; due_soon: number };
  /** Lines as the server builds them (type only). */
  points: DueLine[];
}

/** GET /analysis/nearest-shelters' answer, as the server builds it (type only). */
export type NearestAnswer = Awaited<ReturnType<NearestService['nearest']>>;

/** POST /analysis/scenario's answer, as the server builds it (type only). */
export type ScenarioReport = Awaited<ReturnType<typeof scenarioReport>>;
export type ScenarioCoverage = ScenarioReport['coverage']['before'];

export interface Polygon {
  type: 'Polygon' | 'MultiPolygon';
  coordinates: unknown;
}

export interface ScenarioRequest {
  district: string;
  rainfall_mm_h?: number;
  typhoon_level?: TyphoonLevel;
  warning_area?: Polygon;
  close_outdoor_in_warning_area?: boolean;
}

export const riskTable = (district: string) => fetchJson<RiskTable>(`/risk/table?district=${encodeURIComponent(district)}`);
export const inspectionsDue = (district: string) => fetchJson<InspectionsDue>(`/risk/inspections/due?district=${encodeURIComponent(district)}`);
export const nearestShelters = (lon: number, lat: number, n = 3) =>
  fetchJson<NearestAnswer>(`/analysis/nearest-shelters?lon=${lon.toFixed(6)}&lat=${lat.toFixed(6)}&n=${n}`);
export const runScenario = (body: ScenarioRequest) => postJson<ScenarioReport>('/analysis/scenario', body);

/** One typhoon warning level as GET /analysis/scenario/options lists it. */
export type TyphoonLevelOption = ReturnType<typeof typhoonLevelLine>;
export interface ScenarioOptions {
  typhoon_levels: TyphoonLevelOption[];
  rainfall_mm_h: { min: number; max: number };
}
export const scenarioOptions = () => fetchJson<ScenarioOptions>('/analysis/scenario/options');

/**
 * Downloads a server file (CSV, XLSX, PNG) with the key attached: a plain link
 * could not send the Authorization header. The file name is the server's.
 */
export async function download(url: string, fallbackName: string): Promise<string> {
  const res = await fetchOk(url);
  const name = /filename="?([^";]+)"?/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? fallbackName;
  const href = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
  return name;
}
