import type { Db, Queryable } from '../db/types.ts';
import type { LayerDef, LayerProperty } from '../../catalog/layers.ts';
import type { DateInterval } from './params.ts';
import { cqlToSql, type CqlNode } from './cql.ts';
import { ident, utcMomentSql } from '../../catalog/sql-names.ts';
import type { TableFacts } from '../../catalog/table-facts.ts';

export type { TableFacts };

/**
 * SQL for the OGC API, built from the layer registry. Table and column names
 * come only from the registry (checked against a strict identifier pattern);
 * every value from a request is a `$n` parameter. GeoJSON is assembled in the
 * database (json_build_object + ST_AsGeoJSON + json_agg) and handed to Node as
 * one text value, so a page costs one query and no per-row work in JavaScript.
 */

/** Collects `$n` parameters while SQL text is assembled. */
export class SqlParams {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

// ---------------------------------------------------------------- schema facts


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
  /** CQL2 `filter` expression, checked against these queryables (cql.ts). */
  cql?: { node: CqlNode; queryables: readonly LayerProperty[] };
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
  datetime: 'timestamptz[]',
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
  if (filter.cql) parts.push(cqlToSql(filter.cql.node, filter.cql.queryables, col, (v) => p.add(v), col('geom')));
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

// ---------------------------------------------------------------- keyset paging

/**
 * SQL expressions of the sort keys, in order, ending with `id`: what ORDER BY
 * uses and what a keyset cursor records of the last row of a page.
 */
function sortExprs(sort: readonly SortKey[], p: SqlParams, alias: string): { expr: string; descending: boolean; isId: boolean }[] {
  const keys: { expr: string; descending: boolean; isId: boolean }[] = [];
  for (const k of sort) {
    if (k.name === 'id') continue;
    const c = `${alias}.${ident(k.name)}`;
    keys.push({ expr: k.enumOrder ? `array_position(${p.add(k.enumOrder)}::text[], ${c}::text)` : c, descending: k.descending, isId: false });
  }
  const idKey = sort.find((k) => k.name === 'id');
  keys.push({ expr: `${alias}."id"`, descending: idKey?.descending ?? false, isId: true });
  return keys;
}

/**
 * WHERE condition for rows strictly after the row whose sort key values
 * (as text, null for NULL) are `after`, in the order of `sort` then `id`.
 * PostgreSQL sorts NULLs last ascending and first descending; the condition
 * follows that, so a keyset walk visits the same rows as ORDER BY … OFFSET.
 * Values are parameters typed by the column they are compared with.
 */
export function keysetCondition(sort: readonly SortKey[], after: readonly (string | null)[], idType: LayerDef['idType'], p: SqlParams, alias = 't'): string {
  const keys = sortExprs(sort, p, alias);
  if (after.length !== keys.length) throw new Error('cursor does not match the sort keys');
  const cast = (i: number) => (keys[i].isId ? (idType === 'integer' ? '::bigint' : '::text') : keys[i].expr.startsWith('array_position') ? '::int' : '');
  const eq = (i: number) => (after[i] === null ? `${keys[i].expr} IS NULL` : `${keys[i].expr} = ${p.add(after[i])}${cast(i)}`);
  const gt = (i: number) => {
    const { expr, descending } = keys[i];
    const v = after[i];
    if (descending) return v === null ? `${expr} IS NOT NULL` : `${expr} < ${p.add(v)}${cast(i)}`;
    return v === null ? 'false' : `(${expr} > ${p.add(v)}${cast(i)}${keys[i].isId ? '' : ` OR ${expr} IS NULL`})`;
  };
  if (keys.length === 1) return gt(0);
  const ors: string[] = [];
  for (let i = 0; i < keys.length; i++) ors.push([...keys.slice(0, i).map((_, j) => eq(j)), gt(i)].join(' AND '));
  return `(${ors.map((o) => `(${o})`).join(' OR ')})`;
}

/** JSON array text of the sort key values (as text) of row `alias`: what a cursor records. */
function sortKeyJson(sort: readonly SortKey[], p: SqlParams, alias: string): string {
  return `json_build_array(${sortExprs(sort, p, alias).map((k) => `${k.expr}::text`).join(', ')})::text`;
}

// ---------------------------------------------------------------- features

export type AxisOrder = 'lonlat' | 'latlon';

/** How coordinates leave the database. */
export interface OutputGeometry {
  axisOrder: AxisOrder;
  /** 4326 (degrees, as stored) or 3857 (Web Mercator metres, transformed in the database). */
  srid: 4326 | 3857;
  /** Decimals written (ST_AsGeoJSON's maxdecimaldigits). */
  decimals: number;
}

/** Longitude/latitude decimals of a layer: the registry's setting, 7 (≈ 1 cm) by default. */
export const DEFAULT_DEGREE_DECIMALS = 7;
/** Web Mercator metres: 2 decimals (1 cm). */
export const METRE_DECIMALS = 2;

export function outputGeometry(layer: LayerDef, crs: { axisOrder: AxisOrder; srid?: 4326 | 3857 }): OutputGeometry {
  const srid = crs.srid ?? 4326;
  return { axisOrder: crs.axisOrder, srid, decimals: srid === 3857 ? METRE_DECIMALS : (layer.coordinatePrecision ?? DEFAULT_DEGREE_DECIMALS) };
}

/** SQL expression of the geometry of row `alias` in the output CRS, axis order included. */
function outputGeom(out: OutputGeometry, alias: string): string {
  let g = `${alias}."geom"`;
  if (out.srid === 3857) g = `ST_Transform(${g}, 3857)`;
  if (out.axisOrder === 'latlon') g = `ST_FlipCoordinates(${g})`;
  return g;
}

/**
 * SQL text expression of one GeoJSON Feature of row `alias`, with exactly
 * `properties`, written compactly. json_build_object writes `"key" : value`
 * (about a tenth of a page is that whitespace) and jsonb reorders keys, so the
 * text is concatenated here: names come from the registry (safe identifiers),
 * values are encoded by to_json, geometry by ST_AsGeoJSON (options 0: no crs member).
 */
export function featureJson(properties: readonly LayerProperty[], out: OutputGeometry, alias = 't'): string {
  const value = (expr: string) => `coalesce(to_json(${expr})::text, 'null')`;
  // moments as the tiles write them (RFC 3339, UTC), whatever the server's TimeZone
  const props = properties.map((prop, i) => `'${i ? ',' : ''}"${prop.name}":' || ${value(prop.type === 'datetime' ? utcMomentSql(`${alias}.${ident(prop.name)}`) : `${alias}.${ident(prop.name)}`)}`);
  const geometry = `coalesce(ST_AsGeoJSON(${outputGeom(out, alias)}, ${out.decimals}, 0), 'null')`;
  return [`'{"type":"Feature","id":'`, value(`${alias}."id"`), `',"geometry":'`, geometry, `',"properties":{'`, ...props, `'}}'`].join(' || ');
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
  /** Keyset cursor: sort key values of the row before this page (then `offset` is 0). */
  after?: readonly (string | null)[];
}

const JSON_CAST: Record<LayerProperty['type'], string> = {
  string: 'text',
  integer: 'bigint',
  number: 'float8',
  boolean: 'boolean',
  date: 'date',
  datetime: 'timestamptz',
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

/** The rows of a page plus one more (to know whether a next page exists), in page order. */
function pageRows(page: PageQuery, p: SqlParams): string {
  let where = whereClause(page.facts, page.filter, p);
  if (page.after) where = `${where} AND ${keysetCondition(page.sort, page.after, page.layer.idType, p)}`;
  const order = orderClause(page.sort, p);
  const offset = page.offset ? ` OFFSET ${p.add(page.offset)}::bigint` : '';
  return `SELECT * FROM ${sourceOf(page.layer, p, page.computed)} t WHERE ${where} ORDER BY ${order} LIMIT ${p.add(page.limit + 1)}::bigint${offset}`;
}

export interface FeaturePage {
  /** JSON array text of the features, in page order. */
  featuresJson: string;
  returned: number;
  /** Whether more rows follow this page. */
  more: boolean;
  /** Sort key values of the last row (for the next page's cursor); null on an empty page. */
  lastKey: (string | null)[] | null;
  /** The data version the page was read at (server/db/data-version.ts), for the cached numberMatched. */
  dataVersion: number;
}

/**
 * One page of features as a JSON array text, in page order, in one statement:
 * the page's rows and one more are read in order; the features of the page are
 * joined in the database, and the last row's sort key comes along for the cursor.
 */
export async function selectFeaturePage(q: Queryable, page: PageQuery, properties: readonly LayerProperty[], out: OutputGeometry): Promise<FeaturePage> {
  const p = new SqlParams();
  const rows = pageRows(page, p);
  const limit = p.add(page.limit);
  const sql = `SELECT '[' || coalesce(string_agg(f, ',' ORDER BY rn) FILTER (WHERE rn <= ${limit}::bigint), '') || ']' AS features,
           (count(*) FILTER (WHERE rn <= ${limit}::bigint))::int AS returned,
           count(*) > ${limit}::bigint AS more,
           (array_agg(k ORDER BY rn DESC) FILTER (WHERE rn <= ${limit}::bigint))[1] AS last_key,
           (SELECT version FROM data_version)::text AS data_version
      FROM (SELECT ${featureJson(properties, out)} AS f, ${sortKeyJson(page.sort, p, 't')} AS k, row_number() OVER (ORDER BY ${orderClause(page.sort, p)}) AS rn
              FROM (${rows}) t) s`;
  const r = await q.query<{ features: string; returned: number; more: boolean; last_key: string | null; data_version: string | null }>(sql, p.values);
  const row = r.rows[0];
  return {
    featuresJson: row.features,
    returned: row.returned,
    more: row.more,
    lastKey: row.last_key === null ? null : (JSON.parse(row.last_key) as (string | null)[]),
    dataVersion: Number(row.data_version ?? 0),
  };
}

/** Number of features matching the filter (numberMatched). */
export async function countMatching(q: Queryable, layer: LayerDef, facts: TableFacts, filter: ItemsFilter, computed?: string): Promise<number> {
  const p = new SqlParams();
  const from = sourceOf(layer, p, computed);
  const r = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${from} t WHERE ${whereClause(facts, filter, p)}`, p.values);
  return r.rows[0].n;
}

/**
 * The planner's estimate of the features matching the filter (EXPLAIN's row
 * estimate; no rows are read). Good to a few percent on analysed tables.
 */
export async function estimateMatching(q: Queryable, layer: LayerDef, facts: TableFacts, filter: ItemsFilter): Promise<number> {
  const p = new SqlParams();
  const from = sourceOf(layer, p);
  const r = await q.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) SELECT 1 FROM ${from} t WHERE ${whereClause(facts, filter, p)}`, p.values);
  const raw = r.rows[0]['QUERY PLAN'];
  const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan: { 'Plan Rows': number } }[];
  return Math.round(plan[0].Plan['Plan Rows']);
}

export interface CsvRow {
  id: number | string;
  lon: number;
  lat: number;
  /** GeoJSON geometry text (lines and polygons only; points are lon/lat). */
  geometry?: string;
  [property: string]: unknown;
}

/**
 * One page as plain rows for CSV: coordinates of the point (or a point on the
 * surface) in the output CRS, rounded like GeoJSON, plus properties. Reads one
 * row more than the page to know whether a next page exists.
 */
export async function selectCsvPage(
  q: Queryable,
  page: PageQuery,
  properties: readonly LayerProperty[],
  out: OutputGeometry,
): Promise<{ rows: CsvRow[]; more: boolean; lastKey: (string | null)[] | null }> {
  const p = new SqlParams();
  const rows = pageRows(page, p);
  let point = page.layer.geometry === 'point' ? 't."geom"' : 'ST_PointOnSurface(t."geom")';
  if (out.srid === 3857) point = `ST_Transform(${point}, 3857)`;
  const cols = [
    't."id" AS "id"',
    `round(ST_X(${point})::numeric, ${out.decimals})::float8 AS "lon"`,
    `round(ST_Y(${point})::numeric, ${out.decimals})::float8 AS "lat"`,
    ...(page.layer.geometry === 'point' ? [] : [`ST_AsGeoJSON(${outputGeom({ ...out, axisOrder: 'lonlat' }, 't')}, ${out.decimals}, 0) AS "geometry"`]),
    ...properties.map((prop) => `${prop.type === 'datetime' ? utcMomentSql(`t.${ident(prop.name)}`) : `t.${ident(prop.name)}`} AS ${ident(`p_${prop.name}`)}`),
    `${sortKeyJson(page.sort, p, 't')} AS "sort_key"`,
  ];
  const r = await q.query<CsvRow & { sort_key: string }>(`SELECT ${cols.join(', ')} FROM (${rows}) t ORDER BY ${orderClause(page.sort, p)}`, p.values);
  const more = r.rows.length > page.limit;
  const pageRowsOut = more ? r.rows.slice(0, page.limit) : r.rows;
  const last = pageRowsOut.at(-1);
  return { rows: pageRowsOut, more, lastKey: last ? (JSON.parse(last.sort_key) as (string | null)[]) : null };
}

/** One feature by id as GeoJSON text, or undefined when it does not exist (or is deleted). */
export async function selectFeature(
  q: Queryable,
  layer: LayerDef,
  facts: TableFacts,
  id: string | number,
  properties: readonly LayerProperty[],
  out: OutputGeometry,
  computed?: string,
): Promise<string | undefined> {
  const p = new SqlParams();
  const from = sourceOf(layer, p, computed);
  const idParam = p.add(id);
  const where = [`t."id" = ${idParam}${layer.idType === 'integer' ? '::bigint' : '::text'}`, ...(facts.softDelete ? ['t."deleted_at" IS NULL'] : [])];
  const r = await q.query<{ feature: string }>(
    `SELECT ${featureJson(properties, out)} AS feature FROM ${from} t WHERE ${where.join(' AND ')}`,
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
