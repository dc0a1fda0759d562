import type { Db, Queryable } from '../db/types.ts';
import type { LayerDef, LayerProperty } from '../../tiles/layers.ts';
import type { DateInterval } from './params.ts';

/**
 * SQL for the OGC API, built from the layer registry. Table and column names
 * come only from the registry (checked against a strict identifier pattern);
 * every value from a request is a `$n` parameter. GeoJSON is assembled in the
 * database (json_build_object + ST_AsGeoJSON + json_agg) and handed to Node as
 * one text value, so a page costs one query and no per-row work in JavaScript.
 */

const IDENT = /^[a-z_][a-z0-9_]*$/;

/** A registry identifier, double-quoted. Throws on anything else (a registry bug, never user input). */
export function ident(name: string): string {
  if (!IDENT.test(name)) throw new Error(`not a safe SQL identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** Collects `$n` parameters while SQL text is assembled. */
export class SqlParams {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

// ---------------------------------------------------------------- schema facts

/** What the schema says about a layer's table beyond the registry (read once per database). */
export interface TableFacts {
  /** The table has a `deleted_at` soft-delete column: rows with a value are gone. */
  softDelete: boolean;
  /** The table has a `version` row-version column (ETags, optimistic locking for writes). */
  versioned: boolean;
}

const factsByDb = new WeakMap<Db, Promise<Map<string, TableFacts>>>();

/** Reads which registry tables have soft-delete and version columns; cached per database. */
export function tableFacts(db: Db, layers: readonly LayerDef[]): Promise<Map<string, TableFacts>> {
  let facts = factsByDb.get(db);
  if (!facts) {
    const tables = [...new Set(layers.map((l) => l.table).filter((t): t is string => t !== null))];
    facts = db
      .query<{ table_name: string; column_name: string }>(
        `SELECT table_name, column_name FROM information_schema.columns
          WHERE table_schema = current_schema() AND table_name = ANY($1::text[]) AND column_name IN ('deleted_at', 'version')`,
        [tables],
      )
      .then((r) => {
        const map = new Map<string, TableFacts>(tables.map((t) => [t, { softDelete: false, versioned: false }]));
        for (const row of r.rows) {
          const f = map.get(row.table_name)!;
          if (row.column_name === 'deleted_at') f.softDelete = true;
          if (row.column_name === 'version') f.versioned = true;
        }
        return map;
      });
    facts.catch(() => factsByDb.delete(db));
    factsByDb.set(db, facts);
  }
  return facts;
}

// ---------------------------------------------------------------- filters and order

export interface PropertyFilter {
  property: LayerProperty;
  /** Any of these values matches (a boolean filter has one). */
  values: readonly unknown[];
}

export interface ItemsFilter {
  /** WGS84 lon/lat box: minLon, minLat, maxLon, maxLat. */
  bbox?: readonly [number, number, number, number];
  datetime?: { property: LayerProperty; interval: DateInterval };
  properties: readonly PropertyFilter[];
  /** Free-text terms (any matches) and the columns they search. */
  search?: { terms: readonly string[]; columns: readonly string[] };
}

export interface SortKey {
  /** `id` or a registry property name. */
  name: string;
  descending: boolean;
  /** For properties with a fixed list of values: sort by position in that list. */
  enumOrder?: readonly string[];
}

const ARRAY_CAST: Record<LayerProperty['type'], string> = {
  string: 'text[]',
  integer: 'bigint[]',
  number: 'numeric[]',
  boolean: 'boolean[]',
  date: 'date[]',
};

/** Escapes LIKE wildcards so a search term matches literally. */
export function likePattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** WHERE clause (without the keyword) for `layer` and `filter`; columns are qualified with `alias`. */
export function whereClause(facts: TableFacts, filter: ItemsFilter, p: SqlParams, alias = 't'): string {
  const col = (name: string) => `${alias}.${ident(name)}`;
  const parts: string[] = [];
  if (facts.softDelete) parts.push(`${col('deleted_at')} IS NULL`);
  if (filter.bbox) {
    const [a, b, c, d] = filter.bbox.map((v) => p.add(v));
    parts.push(`ST_Intersects(${col('geom')}, ST_MakeEnvelope(${a}::float8, ${b}::float8, ${c}::float8, ${d}::float8, 4326))`);
  }
  if (filter.datetime) {
    const c = col(filter.datetime.property.name);
    const { start, end } = filter.datetime.interval;
    parts.push(`${c} IS NOT NULL`);
    if (start) parts.push(`${c} >= ${p.add(start)}::date`);
    if (end) parts.push(`${c} <= ${p.add(end)}::date`);
  }
  for (const f of filter.properties) {
    const c = col(f.property.name);
    if (f.property.type === 'boolean') parts.push(`${c} = ${p.add(f.values[0])}::boolean`);
    else parts.push(`${c} = ANY(${p.add(f.values)}::${ARRAY_CAST[f.property.type]})`);
  }
  if (filter.search && filter.search.terms.length && filter.search.columns.length) {
    const ors: string[] = [];
    for (const term of filter.search.terms) {
      const pattern = p.add(likePattern(term));
      for (const c of filter.search.columns) ors.push(`${col(c)} ILIKE ${pattern}`);
    }
    parts.push(`(${ors.join(' OR ')})`);
  }
  return parts.length ? parts.join(' AND ') : 'true';
}

/** ORDER BY list (without the keyword); always ends with `id` so paging is a total order. */
export function orderClause(sort: readonly SortKey[], p: SqlParams, alias = 't'): string {
  const keys: string[] = [];
  for (const k of sort) {
    if (k.name === 'id') continue;
    const c = `${alias}.${ident(k.name)}`;
    const expr = k.enumOrder ? `array_position(${p.add(k.enumOrder)}::text[], ${c}::text)` : c;
    keys.push(`${expr} ${k.descending ? 'DESC' : 'ASC'}`);
  }
  const idKey = sort.find((k) => k.name === 'id');
  keys.push(`${alias}."id" ${idKey?.descending ? 'DESC' : 'ASC'}`);
  return keys.join(', ');
}

// ---------------------------------------------------------------- features

export type AxisOrder = 'lonlat' | 'latlon';

/** SQL expression for one GeoJSON Feature of row `alias`, with exactly `properties`. */
export function featureJson(properties: readonly LayerProperty[], axisOrder: AxisOrder, alias = 't'): string {
  const geom = axisOrder === 'latlon' ? `ST_FlipCoordinates(${alias}."geom")` : `${alias}."geom"`;
  // json_build_object takes at most 100 arguments (50 pairs); chunks are merged with jsonb ||.
  const pairs = properties.map((prop) => `'${prop.name}', ${alias}.${ident(prop.name)}`);
  const chunks: string[] = [];
  for (let i = 0; i < pairs.length; i += 50) chunks.push(`json_build_object(${pairs.slice(i, i + 50).join(', ')})`);
  const props = chunks.length === 0 ? `'{}'::json` : chunks.length === 1 ? chunks[0] : `(${chunks.map((c) => `${c}::jsonb`).join(' || ')})::json`;
  return `json_build_object('type', 'Feature', 'id', ${alias}."id", 'geometry', ST_AsGeoJSON(${geom})::json, 'properties', ${props})`;
}

export interface PageQuery {
  layer: LayerDef;
  facts: TableFacts;
  /** Rows of a computed layer (see computed.ts), as JSON text; undefined for tables. */
  computed?: string;
  filter: ItemsFilter;
  sort: readonly SortKey[];
  limit: number;
  offset: number;
}

const JSON_CAST: Record<LayerProperty['type'], string> = {
  string: 'text',
  integer: 'bigint',
  number: 'float8',
  boolean: 'boolean',
  date: 'date',
};

/**
 * The FROM item of a layer: its table, or for a computed layer (no table) the
 * rows computed in Node, passed as one JSON parameter (`computedRowsJson`) and
 * turned into the same columns, so filters, order and output SQL are shared.
 */
function sourceOf(layer: LayerDef, p: SqlParams, computedRowsJson?: string): string {
  if (layer.table) return ident(layer.table);
  if (computedRowsJson === undefined) throw new Error(`computed layer ${layer.id} needs its rows`);
  const cols = [
    `(r->>'id')::${layer.idType === 'integer' ? 'bigint' : 'text'} AS "id"`,
    `ST_GeomFromText(r->>'wkt', 4326) AS "geom"`,
    ...layer.properties.map((prop) => `(r->'properties'->>'${prop.name}')::${JSON_CAST[prop.type]} AS ${ident(prop.name)}`),
  ];
  return `(SELECT ${cols.join(', ')} FROM json_array_elements(${p.add(computedRowsJson)}::json) AS r)`;
}

/** One page of features as a JSON array text, in page order. */
export async function selectFeaturePage(
  q: Queryable,
  page: PageQuery,
  properties: readonly LayerProperty[],
  axisOrder: AxisOrder,
): Promise<{ featuresJson: string; returned: number }> {
  const p = new SqlParams();
  const where = whereClause(page.facts, page.filter, p);
  const order = orderClause(page.sort, p);
  const limit = p.add(page.limit);
  const offset = p.add(page.offset);
  const sql = `SELECT coalesce(json_agg(${featureJson(properties, axisOrder)} ORDER BY ${order}), '[]'::json)::text AS features, count(*)::int AS returned
    FROM (SELECT * FROM ${sourceOf(page.layer, p, page.computed)} t WHERE ${where} ORDER BY ${order} LIMIT ${limit}::bigint OFFSET ${offset}::bigint) t`;
  const r = await q.query<{ features: string; returned: number }>(sql, p.values);
  return { featuresJson: r.rows[0].features, returned: r.rows[0].returned };
}

/** Number of features matching the filter (numberMatched). */
export async function countMatching(q: Queryable, layer: LayerDef, facts: TableFacts, filter: ItemsFilter, computed?: string): Promise<number> {
  const p = new SqlParams();
  const from = sourceOf(layer, p, computed);
  const r = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${from} t WHERE ${whereClause(facts, filter, p)}`, p.values);
  return r.rows[0].n;
}

export interface CsvRow {
  id: number | string;
  lon: number;
  lat: number;
  /** GeoJSON geometry text (lines and polygons only; points are lon/lat). */
  geometry?: string;
  [property: string]: unknown;
}

/** One page as plain rows for CSV: lon/lat of the point (or a point on the surface), plus properties. */
export async function selectCsvPage(q: Queryable, page: PageQuery, properties: readonly LayerProperty[]): Promise<CsvRow[]> {
  const p = new SqlParams();
  const where = whereClause(page.facts, page.filter, p);
  const order = orderClause(page.sort, p);
  const limit = p.add(page.limit);
  const offset = p.add(page.offset);
  const point = page.layer.geometry === 'point' ? 't."geom"' : 'ST_PointOnSurface(t."geom")';
  const cols = [
    't."id" AS "id"',
    `ST_X(${point}) AS "lon"`,
    `ST_Y(${point}) AS "lat"`,
    ...(page.layer.geometry === 'point' ? [] : ['ST_AsGeoJSON(t."geom") AS "geometry"']),
    ...properties.map((prop) => `t.${ident(prop.name)} AS ${ident(`p_${prop.name}`)}`),
  ];
  const sql = `SELECT ${cols.join(', ')} FROM ${sourceOf(page.layer, p, page.computed)} t WHERE ${where} ORDER BY ${order} LIMIT ${limit}::bigint OFFSET ${offset}::bigint`;
  const r = await q.query<CsvRow>(sql, p.values);
  return r.rows;
}

/** One feature by id as GeoJSON text, or undefined when it does not exist (or is deleted). */
export async function selectFeature(
  q: Queryable,
  layer: LayerDef,
  facts: TableFacts,
  id: string | number,
  properties: readonly LayerProperty[],
  axisOrder: AxisOrder,
  computed?: string,
): Promise<string | undefined> {
  const p = new SqlParams();
  const from = sourceOf(layer, p, computed);
  const idParam = p.add(id);
  const where = [`t."id" = ${idParam}${layer.idType === 'integer' ? '::bigint' : '::text'}`, ...(facts.softDelete ? ['t."deleted_at" IS NULL'] : [])];
  const r = await q.query<{ feature: string }>(
    `SELECT ${featureJson(properties, axisOrder)}::text AS feature FROM ${from} t WHERE ${where.join(' AND ')}`,
    p.values,
  );
  return r.rows[0]?.feature;
}

export interface LayerExtent {
  /** WGS84 lon/lat box, or null when the layer has no features. */
  bbox: [number, number, number, number] | null;
  /** First and last date of the temporal property, when the layer has one and it is set somewhere. */
  interval: [string, string] | null;
  count: number;
}

/** Spatial (ST_Extent) and temporal extent of the layer's live features. */
export async function selectExtent(q: Queryable, layer: LayerDef, facts: TableFacts, temporal?: LayerProperty): Promise<LayerExtent> {
  const p = new SqlParams();
  const where = whereClause(facts, { properties: [] }, p);
  const t = temporal ? `, min(t.${ident(temporal.name)})::text AS tmin, max(t.${ident(temporal.name)})::text AS tmax` : '';
  const r = await q.query<{ xmin: number | null; ymin: number; xmax: number; ymax: number; n: number; tmin?: string | null; tmax?: string | null }>(
    `SELECT ST_XMin(e) AS xmin, ST_YMin(e) AS ymin, ST_XMax(e) AS xmax, ST_YMax(e) AS ymax, n${temporal ? ', tmin, tmax' : ''}
       FROM (SELECT ST_Extent(t."geom") AS e, count(*)::int AS n${t} FROM ${sourceOf(layer, p)} t WHERE ${where}) s`,
    p.values,
  );
  const row = r.rows[0];
  return {
    bbox: row.xmin === null || row.xmin === undefined ? null : [row.xmin, row.ymin, row.xmax, row.ymax],
    interval: row.tmin && row.tmax ? [row.tmin, row.tmax] : null,
    count: row.n,
  };
}
