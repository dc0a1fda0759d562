import { authHeaders } from './auth.ts';
import type { Bilingual } from './i18n.ts';

/** The catalogue the server derives from its layer registry (`GET /layers`). */
export interface LayerStyle {
  color: string;
  by?: { property: string; colors: Record<string, string> };
  fillOpacity?: number;
  lineWidth?: number;
  radius?: number;
}

export interface LayerProperty {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  title: Bilingual;
  queryable: boolean;
  enum?: string[];
  enumTitles?: Record<string, Bilingual>;
}

export interface LegendEntry {
  value: string | null;
  color: string;
  title: Bilingual;
}

export interface LayerInfo {
  id: string;
  title: Bilingual;
  description: Bilingual;
  geometry: 'point' | 'line' | 'polygon';
  access: 'public' | 'restricted';
  minzoom: number;
  maxzoom: number;
  cluster: { belowZoom: number; radius: number } | null;
  synthetic: boolean;
  properties: LayerProperty[];
  style: LayerStyle;
  legend: LegendEntry[];
  links: { rel: string; type: string; href: string }[];
}

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

export async function fetchJson<T>(url: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(url, { ...init, headers: { Accept: 'application/json', ...authHeaders(), ...(init.headers ?? {}) } });
  if (!res.ok) {
    let problem = null;
    try {
      problem = await res.json();
    } catch {
      /* not JSON */
    }
    throw new ApiError(res.status, problem, url);
  }
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

/** One line of `GET /analysis/coverage` (a street/community, or the district total). */
export interface CoverageLine {
  residents: number;
  covered_residents: number;
  uncovered_residents: number;
  covered_pct: number | null;
  shelters: number;
  shelter_area_m2: number;
  area_per_resident_m2: number | null;
  target_m2_per_resident: number;
  meets_target: boolean;
  area_shortfall_m2: number;
  capacity: number;
  catchment_m2_per_resident: number | null;
  sheltered_residents: number;
  unsheltered_residents: number;
  unsheltered_pct: number | null;
}

export interface CoverageUnit extends CoverageLine {
  id: string;
  name_zh: string;
  name_en: string;
}

export interface ShelterLine {
  id: number;
  name_zh: string;
  name_en: string;
  shelter_class: string;
  status: string;
  lon: number;
  lat: number;
  radius_m: number;
  capacity: number;
  assigned_residents: number;
  utilisation_pct: number | null;
}

export interface CoverageResponse {
  district: { id: string; name_zh: string; name_en: string };
  unit: 'street' | 'community';
  parameters: { target_m2_per_resident: number; target_source: string; radii_m: Record<string, number>; data_version: number };
  total: CoverageLine;
  units: CoverageUnit[];
  shelters?: ShelterLine[];
}
