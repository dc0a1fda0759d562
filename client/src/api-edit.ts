import type { ImportFlaggedShelter as ServerImportFlaggedShelter } from '../../server/imports/import-job.ts';
import type { HistoryEntry as ServerHistoryEntry } from '../../server/edits/feature-store.ts';
import { ApiError, fetchOk } from './api.ts';

/**
 * Feature edits through OGC API – Features Part 4 (`If-Match` with the ETag read),
 * the feature schema the forms are built from, history, shelter check-ins and
 * imports. Every rule is the server's: these only send and read.
 */
export interface FieldSchema {
  type: 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  enum?: string[];
  minimum?: number;
  maximum?: number;
  readOnly?: boolean;
}

export interface FeatureSchema {
  'x-geometry': string;
  'x-editable': boolean;
  properties: Record<string, FieldSchema>;
  required: string[];
}

export interface EditableFeature {
  id: number;
  etag: string;
  lon: number;
  lat: number;
  properties: Record<string, unknown>;
}

/** One recorded change of a feature, as the server answers it. */
export type HistoryEntry = ServerHistoryEntry;

/** A refused request: the server's problem, with its invalid fields by name. */
export function invalidParams(err: unknown): { name: string; reason: string }[] {
  if (!(err instanceof ApiError) || !err.problem) return [];
  const list = (err.problem as { 'invalid-params'?: { name: string; reason: string }[] })['invalid-params'];
  return Array.isArray(list) ? list : [];
}

function send(url: string, init: RequestInit): Promise<Response> {
  return fetchOk(url, { ...init, headers: { Accept: 'application/json', ...(init.headers ?? {}) } });
}

const items = (layer: string) => `/ogc/collections/${encodeURIComponent(layer)}/items`;

const schemas = new Map<string, Promise<FeatureSchema>>();
export function featureSchema(layer: string): Promise<FeatureSchema> {
  let s = schemas.get(layer);
  if (!s) {
    s = send(`/ogc/collections/${encodeURIComponent(layer)}/schema`, {}).then((r) => r.json() as Promise<FeatureSchema>);
    s.catch(() => schemas.delete(layer));
    schemas.set(layer, s);
  }
  return s;
}

function toEditable(body: { id: number; geometry: { coordinates: [number, number] }; properties: Record<string, unknown> }, etag: string): EditableFeature {
  const [lon, lat] = body.geometry.coordinates;
  return { id: Number(body.id), etag, lon, lat, properties: body.properties };
}

export async function readFeature(layer: string, id: number | string): Promise<EditableFeature> {
  const res = await send(`${items(layer)}/${encodeURIComponent(String(id))}`, { headers: { Accept: 'application/geo+json' } });
  return toEditable(await res.json(), res.headers.get('etag') ?? '');
}

const json = { 'Content-Type': 'application/json' };
const point = (lon: number, lat: number) => ({ type: 'Point', coordinates: [lon, lat] });

/** Creates a point; `idempotencyKey` makes the request safe to send again (see `sendCreating`). */
export async function createFeature(layer: string, lon: number, lat: number, properties: Record<string, unknown>, idempotencyKey?: string): Promise<EditableFeature> {
  const res = await sendCreating(items(layer), { method: 'POST', headers: json, body: JSON.stringify({ type: 'Feature', geometry: point(lon, lat), properties }) }, idempotencyKey);
  return toEditable(await res.json(), res.headers.get('etag') ?? '');
}

/**
 * Sends a request that adds something (a feature, an import, people in a shelter). With
 * `idempotencyKey` the server does it once however often the request comes with that key
 * (docs/api.md), so a request whose connection failed before an answer is sent once more.
 */
async function sendCreating(url: string, init: RequestInit, idempotencyKey: string | undefined): Promise<Response> {
  if (!idempotencyKey) return send(url, init);
  const keyed = { ...init, headers: { ...(init.headers as Record<string, string>), 'Idempotency-Key': `"${idempotencyKey}"` } };
  try {
    return await send(url, keyed);
  } catch (err) {
    // fetch rejects with a TypeError when no answer came (the link dropped); an answer is an ApiError.
    if (!(err instanceof TypeError)) throw err;
    return send(url, keyed);
  }
}

/** PATCH (merge) of the changed fields and, when moved, the point, guarded by the ETag read. */
export async function updateFeature(
  layer: string,
  id: number,
  etag: string,
  properties: Record<string, unknown>,
  moved: [number, number] | null,
): Promise<EditableFeature> {
  const body = { type: 'Feature', properties, ...(moved ? { geometry: point(moved[0], moved[1]) } : {}) };
  const res = await send(`${items(layer)}/${id}`, { method: 'PATCH', headers: { ...json, 'If-Match': etag }, body: JSON.stringify(body) });
  return toEditable(await res.json(), res.headers.get('etag') ?? '');
}

export async function deleteFeature(layer: string, id: number, etag: string): Promise<void> {
  await send(`${items(layer)}/${id}`, { method: 'DELETE', headers: { 'If-Match': etag } });
}

export async function featureHistory(layer: string, id: number | string): Promise<HistoryEntry[]> {
  try {
    const res = await send(`${items(layer)}/${encodeURIComponent(String(id))}/history`, {});
    return ((await res.json()) as { history: HistoryEntry[] }).history;
  } catch (err) {
    // No audit rows yet: a feature as loaded, never edited.
    if (err instanceof ApiError && err.status === 404) return [];
    throw err;
  }
}

export interface Occupancy {
  id: number;
  occupancy: number;
  capacity: number;
  free: number;
  status: string;
}

/** Counts people in or out of a shelter: sent once more if the link drops before an answer, and counted once (its own Idempotency-Key). */
export async function checkIn(shelter: number | string, people: number, out: boolean): Promise<Occupancy> {
  const url = `/shelters/${encodeURIComponent(String(shelter))}/${out ? 'checkouts' : 'checkins'}`;
  const res = await sendCreating(url, { method: 'POST', headers: json, body: JSON.stringify({ people }) }, newIdempotencyKey());
  return res.json();
}

export interface ImportError {
  row: number;
  field: string;
  reason: string;
}

/** A shelter an import made (or a dry run would make) unusable: inside the zone of an active flood-prone spot or geohazard site (as the server builds it, type only). */
export type ImportFlaggedShelter = ServerImportFlaggedShelter;

export interface ImportJob {
  job: string;
  status: string;
  phase: string;
  rows: number;
  processed?: number;
  inserted?: number;
  dryRun: boolean;
  errors: ImportError[];
  /** Once imported: the shelters the import made unusable (hazard zones follow imports on the server). */
  sheltersFlagged?: ImportFlaggedShelter[];
  [more: string]: unknown;
}

export const IMPORT_TYPES: Record<string, string> = {
  geojson: 'application/geo+json',
  json: 'application/geo+json',
  csv: 'text/csv',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

/**
 * Starts an import as a job (`async=true`); its progress is read from the job endpoint.
 * `idempotencyKey` makes the request safe to send again (see `sendCreating`).
 */
export async function startImport(layer: string, file: Blob, type: string, crs: string, dryRun: boolean, idempotencyKey?: string): Promise<ImportJob> {
  const q = new URLSearchParams({ crs, dryRun: String(dryRun), async: 'true' });
  const res = await sendCreating(`/import/${encodeURIComponent(layer)}?${q}`, { method: 'POST', headers: { 'Content-Type': type }, body: file }, idempotencyKey);
  return res.json();
}

/** A fresh Idempotency-Key: 16 random bytes in hexadecimal (crypto.randomUUID needs HTTPS; a planner on plain HTTP has none). */
export function newIdempotencyKey(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function importJob(job: string): Promise<ImportJob> {
  const res = await send(`/import/jobs/${encodeURIComponent(job)}`, {});
  return res.json();
}
