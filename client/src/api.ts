// The response types come from the server's own code, type-only (erased at
// build time, nothing of the server is bundled), so a changed answer is a
// compile error here instead of a silent drift.
import type { describeLayer } from '../../server/routes/layers.ts';
import type { CoverageLine as ServerCoverageLine, CoverageTable, shelterLines } from '../../server/analysis/coverage.ts';
import type { RiskLevel as ServerRiskLevel } from '../../catalog/layers.ts';
import type { RiskLevel } from './risk.ts';
import { authHeaders } from './auth.ts';
import { consistencyHeaders, noteConsistencyToken } from './consistency.ts';

export type { LayerStyle } from '../../catalog/layers.ts';

/** One layer of the catalogue the server derives from its layer registry (`GET /layers`). */
export type LayerInfo = ReturnType<typeof describeLayer>;
export type LayerProperty = LayerInfo['properties'][number];
export type LegendEntry = LayerInfo['legend'][number];

// The client's list of risk levels (client/src/risk.ts, a value the bundle needs)
// must name exactly the registry's levels.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const riskLevelsMatch: Same<RiskLevel, ServerRiskLevel> = true;
void riskLevelsMatch;

/** An answer other than 2xx; `problem` is the server's problem+json when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: { title?: string; detail?: string; param?: string } | null,
    readonly url: string,
  ) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status} for ${url}`);
  }

  /** The endpoint does not exist on this server (not deployed yet). */
  get missing(): boolean {
    return this.status === 404 && (this.problem?.detail ?? '').startsWith('no route for');
  }
}

/**
 * A fetch with the key and the latest Consistency-Token attached (read-your-writes
 * through a read replica, client/src/consistency.ts) that throws ApiError (with the
 * server's problem) unless the answer is 2xx.
 */
export async function fetchOk(url: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(url, { ...init, headers: { ...authHeaders(), ...consistencyHeaders(), ...(init.headers ?? {}) } });
  noteConsistencyToken(res);
  if (!res.ok) {
    let problem = null;
    try {
      problem = await res.json();
    } catch {
      /* not JSON */
    }
    throw new ApiError(res.status, problem, url);
  }
  return res;
}

export async function fetchJson<T>(url: string, init: RequestInit = {}): Promise<T> {
  const res = await fetchOk(url, { ...init, headers: { Accept: 'application/json', ...(init.headers ?? {}) } });
  return (await res.json()) as T;
}

export async function postJson<T>(url: string, body: unknown): Promise<T> {
  return fetchJson<T>(url, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
}

/** GeoJSON as the OGC and analysis endpoints send it. */
export interface GeoJsonFeature<P = Record<string, unknown>> {
  type: 'Feature';
  id?: string | number;
  geometry: { type: string; coordinates: unknown } | null;
  properties: P;
}
export interface GeoJsonCollection<P = Record<string, unknown>> {
  type: 'FeatureCollection';
  features: GeoJsonFeature<P>[];
  links?: { rel: string; href: string }[];
  [extra: string]: unknown;
}

/**
 * One line of `GET /analysis/coverage` (a street/community, or the district
 * total). `meets_target` and `catchment_meets_target` are null for a unit
 * without residents: neither met nor missed.
 */
export type CoverageLine = ServerCoverageLine;
export type CoverageUnit = CoverageTable['units'][number];
export type ShelterLine = ReturnType<typeof shelterLines>[number];

export interface CoverageResponse {
  district: { id: string; name_zh: string; name_en: string };
  unit: 'street' | 'community';
  parameters: { target_m2_per_resident: number; target_source: string; radii_m: Record<string, number>; data_version: number };
  total: CoverageLine;
  units: CoverageUnit[];
  unassigned_residents: CoverageTable['unassigned_residents'];
  shelters?: ShelterLine[];
}
