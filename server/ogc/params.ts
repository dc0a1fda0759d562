import { z } from 'zod';
import { HttpProblem, type InvalidParam } from '../http/problem.ts';
import { parseCanonicalInteger, parseCanonicalNumber } from '../http/numbers.ts';
import { type LayerDef, type LayerProperty } from '../../catalog/layers.ts';
import { visibleProperties, type Principal } from '../../catalog/access.ts';
import { CRS84, CRS_ALLOWED_TEXT, CRS_SPELLINGS, crsBySpelling, type CrsDef } from './crs.ts';

/**
 * Every query parameter of the OGC API, declared once: how the raw string is
 * decoded, the zod schema that validates the decoded value, and the text that
 * documents it. Requests are validated with these definitions and the OpenAPI
 * document (openapi.ts) is generated from the same ones, so the two cannot drift.
 */

/** How a raw query string becomes a value before zod validates it. Lists are comma-separated. */
export type Codec = 'string' | 'integer' | 'number' | 'boolean' | 'string-list' | 'integer-list' | 'number-list';

export interface QueryParam {
  name: string;
  codec: Codec;
  /** Validates (and may transform) the decoded value; `undefined` when the parameter is absent. */
  schema: z.ZodType;
  description: string;
  example?: string;
}

/** Page size: default and maximum (larger values are clamped, as OGC API – Features Part 1 asks). */
export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 10_000;

type Decoded = { ok: true; value: unknown } | { ok: false; reason: string };

// One spelling per number (server/http/numbers.ts): no hex, no plus, no blanks.
const decodeNumber = parseCanonicalNumber;
const decodeInteger = parseCanonicalInteger;

const splitList = (raw: string) => (raw === '' ? [] : raw.split(','));

export function decode(codec: Codec, raw: string): Decoded {
  switch (codec) {
    case 'string':
      return { ok: true, value: raw };
    case 'integer': {
      const n = decodeInteger(raw);
      return n === undefined ? { ok: false, reason: `expected an integer, got '${raw}'` } : { ok: true, value: n };
    }
    case 'number': {
      const n = decodeNumber(raw);
      return n === undefined ? { ok: false, reason: `expected a number, got '${raw}'` } : { ok: true, value: n };
    }
    case 'boolean':
      return raw === 'true' || raw === 'false' ? { ok: true, value: raw === 'true' } : { ok: false, reason: `expected true or false, got '${raw}'` };
    case 'string-list':
      return { ok: true, value: splitList(raw) };
    case 'integer-list':
    case 'number-list': {
      const parts = splitList(raw);
      const values: number[] = [];
      for (const part of parts) {
        const n = codec === 'integer-list' ? decodeInteger(part) : decodeNumber(part);
        if (n === undefined) return { ok: false, reason: `'${part}' is not ${codec === 'integer-list' ? 'an integer' : 'a number'}` };
        values.push(n);
      }
      return { ok: true, value: values };
    }
  }
}

const param = (name: string, codec: Codec, schema: z.ZodType, description: string, example?: string): QueryParam => ({
  name,
  codec,
  schema,
  description,
  example,
});

// ---------------------------------------------------------------- shared parameters

const formatParam = (formats: readonly [string, ...string[]], description: string) =>
  param('f', 'string', z.enum(formats, { message: `one of ${formats.join(', ')}` }).optional(), description);

/** `f` on the landing page, conformance, collections and queryables. */
export const F_JSON = formatParam(['json'], 'Response format. Only `json`; omit it or send `Accept: application/json`.');
/** `f` on the landing page, collections and one collection: JSON or an HTML page. */
export const F_PAGE = formatParam(['json', 'html'], '`json` (default for programs): JSON; `html`: a page for people (also chosen by a browser\'s `Accept: text/html`).');
/** Language of HTML pages. */
export const LANG = param(
  'lang',
  'string',
  z.enum(['zh', 'en'], { message: 'zh or en' }).optional(),
  'Language of HTML pages: `zh` (Chinese) or `en` (English); default from the browser\'s Accept-Language, else Chinese. JSON is bilingual regardless.',
);
/** `f` on /api: the OpenAPI document or its human-readable page. */
export const F_API = formatParam(['json', 'html'], '`json` (default): the OpenAPI 3.0 document; `html`: the same as a readable page.');
export const F_ITEMS = formatParam(
  ['json', 'geojson', 'csv', 'html'],
  '`json` or `geojson` (default): GeoJSON FeatureCollection; `csv`: UTF-8 CSV (with BOM) with `id`, `lon`, `lat` columns and one column per property; `html`: a page with a map, a table and paging links. Without `f`, `Accept: text/csv` selects CSV and a browser\'s `Accept: text/html` the page.',
);

export const LIMIT = param(
  'limit',
  'integer',
  z
    .number()
    .int('an integer from 1')
    .min(1, `an integer from 1 (values above ${MAX_LIMIT} are clamped to ${MAX_LIMIT})`)
    .meta({ maximum: MAX_LIMIT })
    .default(DEFAULT_LIMIT)
    .transform((n) => Math.min(n, MAX_LIMIT)),
  `Page size: features per response, ${DEFAULT_LIMIT} by default. Values above ${MAX_LIMIT} are not an error: the page is clamped to ${MAX_LIMIT} features (follow the \`next\` link for more).`,
  '100',
);

export const OFFSET = param(
  'offset',
  'integer',
  z.number().int('an integer from 0').min(0, 'an integer from 0').default(0),
  'Number of matching features to skip (the `next` and `prev` links set it; features are in a stable order: `sortby` keys, then `id`).',
  '0',
);

export const CURSOR = param(
  'cursor',
  'string',
  z.string().min(1, 'a cursor from a next link').max(4000, 'a cursor from a next link').optional(),
  'Opaque position set by the `next` links (a keyset cursor: the page starts after the last feature of the previous page). Do not build it; follow the links. Not together with `offset`.',
);

export const NUMBER_MATCHED = param(
  'numberMatched',
  'string',
  z.enum(['auto', 'exact', 'estimate', 'none'], { message: 'one of auto, exact, estimate, none' }).optional(),
  '`auto` (default): the exact number of matching features (cached until the data changes), or the planner\'s estimate when that estimate is above the server\'s limit (then `numberMatchedEstimated: true`); `exact`: always counted; `estimate`: the planner\'s estimate (fast, marked `numberMatchedEstimated: true`); `none`: no numberMatched.',
  'exact',
);

export const FILTER = param(
  'filter',
  'string',
  z.string().min(1, 'a CQL2-text expression').max(10_000, 'at most 10,000 characters').optional(),
  "CQL2-text filter (OGC API – Features Part 3): comparisons (`=`, `<>`, `<`, `<=`, `>`, `>=`), `AND`, `OR`, `NOT`, `LIKE`, `BETWEEN`, `IN (…)`, `IS [NOT] NULL`, `DATE('…')`/`TIMESTAMP('…')` literals and `S_INTERSECTS(geometry, <WKT or BBOX(…)>)` in CRS84. Properties: the collection's queryables. Example: `level IN ('red','orange') AND last_inspection < DATE('2024-06-01')`.",
  "level = 'red'",
);

export const FILTER_LANG = param(
  'filter-lang',
  'string',
  // The schema's default names the language assumed without filter-lang (Part 3 /req/filter/filter-lang-param C).
  z.enum(['cql2-text'], { message: 'cql2-text (the only filter language supported)' }).optional().meta({ default: 'cql2-text' }),
  'Language of `filter`: `cql2-text` (the default and the only one).',
);

export const FILTER_CRS = param(
  'filter-crs',
  'string',
  z
    .enum([CRS84.uri, ...CRS84.aliases] as [string, ...string[]], { message: `CRS84 (${CRS84.uri}), the only CRS of filter geometries` })
    .optional()
    .meta({ default: CRS84.uri }),
  'CRS of geometry literals in `filter`: CRS84 longitude/latitude (the default and the only one).',
);

export const BBOX = param(
  'bbox',
  'number-list',
  z
    .array(z.number())
    .refine((a) => a.length === 4 || a.length === 6, '4 numbers (minx,miny,maxx,maxy) or 6 (minx,miny,minz,maxx,maxy,maxz)')
    .meta({ minItems: 4, maxItems: 6 })
    .optional(),
  'Only features whose geometry intersects this box: `minLon,minLat,maxLon,maxLat` in CRS84 (6 numbers with heights are accepted; heights are ignored). With `bbox-crs` EPSG:4326/4490 the order is `minLat,minLon,maxLat,maxLon`; with EPSG:3857 `minX,minY,maxX,maxY` in metres. Boxes crossing the antimeridian (minLon > maxLon) are rejected: send two requests.',
  '113.25,23.11,113.30,23.15',
);

const crsSchema = (what: string) =>
  z
    .enum(CRS_SPELLINGS, { message: CRS_ALLOWED_TEXT })
    .transform((v) => crsBySpelling(v) as CrsDef)
    .optional()
    .describe(what);

export const CRS = param(
  'crs',
  'string',
  crsSchema('output CRS'),
  'CRS of the coordinates in the response (OGC API – Features Part 2). Default CRS84 (WGS84 lon/lat). EPSG:4490 (CGCS2000) and EPSG:4326 use latitude/longitude axis order as their definitions require; EPSG:3857 gives Web Mercator x/y in metres; `gcj02` (non-standard) returns GCJ-02 lon/lat for Chinese web maps. The response names its CRS in the `Content-Crs` header.',
);

export const BBOX_CRS = param(
  'bbox-crs',
  'string',
  crsSchema('CRS of bbox'),
  'CRS of the `bbox` numbers. Default CRS84. `gcj02` converts the four corners to WGS84 (approximate at the edges).',
);

export const PROPERTIES = param(
  'properties',
  'string-list',
  z.array(z.string()).optional(),
  'Comma-separated property names to include (in this order); an empty value returns features without properties.',
  'name_zh,level',
);

export interface DateInterval {
  /** First day included (UTC date), or null when open. */
  start: string | null;
  /** Last day included (UTC date), or null when open. */
  end: string | null;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** RFC 3339 date or date-time → the UTC calendar day it falls on, or undefined when invalid. */
function utcDay(input: string): string | undefined {
  // GDAL 3.6 turns a date constant of `-where "d >= '2024-06-01'"` into `2024-06-01T`.
  const value = /^\d{4}-\d{2}-\d{2}T$/.test(input) ? input.slice(0, -1) : input;
  const d = DATE.exec(value);
  if (d) {
    const t = new Date(`${value}T00:00:00Z`);
    return !Number.isNaN(t.getTime()) && t.toISOString().slice(0, 10) === value ? value : undefined;
  }
  if (!DATE_TIME.test(value)) return undefined;
  const t = new Date(value);
  // Reject impossible calendar dates such as 2024-02-30 that Date would roll over.
  const day = value.slice(0, 10);
  if (Number.isNaN(t.getTime()) || new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) !== day) return undefined;
  return t.toISOString().slice(0, 10);
}

export const DATETIME_SCHEMA = z.string().transform((raw, ctx): DateInterval => {
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  const parts = raw.split('/');
  if (parts.length > 2) return fail('a date, a date-time, or an interval start/end (use .. for an open end)');
  const bound = (v: string): string | null | undefined => (v === '..' || v === '' ? null : utcDay(v));
  if (parts.length === 1) {
    const day = utcDay(raw);
    return day ? { start: day, end: day } : fail(`'${raw}' is not an RFC 3339 date (2024-06-01) or date-time (2024-06-01T08:00:00Z)`);
  }
  const [a, b] = parts;
  const start = bound(a);
  const end = bound(b);
  if (start === undefined) return fail(`interval start '${a}' is not an RFC 3339 date or date-time (or ..)`);
  if (end === undefined) return fail(`interval end '${b}' is not an RFC 3339 date or date-time (or ..)`);
  if (start && end && start > end) return fail(`interval start ${a} is after its end ${b}`);
  return { start, end };
});

// ---------------------------------------------------------------- per-layer parameters

/** The layer's temporal property (first `date` property), used by `datetime` and the temporal extent. */
export function temporalProperty(layer: LayerDef): LayerProperty | undefined {
  return layer.properties.find((p) => p.type === 'date');
}

/**
 * How `datetime` treats the layer's features, said in the same words wherever a client
 * reads about it (collection description, queryables, OpenAPI). Part 1 selects the features
 * whose temporal geometry intersects the value (/req/core/fc-time-response A); a feature
 * whose temporal property is empty has an unknown date, which intersects no interval, open
 * or closed, so it never matches. (Clause C, "match all features not associated with a
 * temporal geometry", is what collections without a temporal property get: every feature.)
 * Reading C per feature instead would hand GDAL 3.6, which sends `-where` date comparisons
 * as datetime and does not check them again, the undated points as "after 2024-06-01", and
 * make its own re-check fail on their empty dates (docs/ogc.md).
 */
export function datetimeRule(layer: LayerDef): { zh: string; en: string } | undefined {
  const t = temporalProperty(layer);
  if (!t) return undefined;
  return {
    en: `datetime filters on ${t.name} (${t.title.en}): a feature matches when its ${t.name} falls on the date or in the interval; features without a ${t.name} match no datetime, not even an open interval (../2026-01-01, 2020-01-01/..). To include them, use filter=${t.name} IS NULL OR ….`,
    zh: `datetime 按 ${t.name}（${t.title.zh}）筛选：${t.name} 落在该日期或区间内的要素匹配；没有 ${t.name} 的要素不匹配任何 datetime，开放区间（../2026-01-01、2020-01-01/..）也不匹配。要包含它们，用 filter=${t.name} IS NULL OR …。`,
  };
}

/** Query parameter names that filter on a property (the property's own name, plus aliases). */
export const FILTER_ALIASES: Record<string, string> = { district: 'district_id' };

function filterSchema(prop: LayerProperty): { codec: Codec; schema: z.ZodType; example?: string } {
  const list = <T extends z.ZodType>(item: T) => z.array(item).min(1, 'at least one value').optional();
  switch (prop.type) {
    case 'boolean':
      return { codec: 'boolean', schema: z.boolean().optional(), example: 'true' };
    case 'integer':
      return { codec: 'integer-list', schema: list(z.number().int()) };
    case 'number':
      return { codec: 'number-list', schema: list(z.number()) };
    case 'date':
      return { codec: 'string-list', schema: list(z.string().regex(DATE, 'a date YYYY-MM-DD')), example: '2024-06-01' };
    case 'datetime':
      return { codec: 'string-list', schema: list(z.iso.datetime({ message: 'an RFC 3339 date-time in UTC (2026-12-05T06:00:00Z)' })) };
    case 'string':
      if (prop.enum) {
        const values = prop.enum as unknown as [string, ...string[]];
        return {
          codec: 'string-list',
          schema: list(z.enum(values, { message: `one of ${values.join(', ')}` })),
          example: values.slice(0, 2).join(','),
        };
      }
      return { codec: 'string-list', schema: list(z.string().min(1, 'a non-empty value')) };
  }
}

/**
 * The queryables of a collection as `who` sees them (besides `geometry`): the
 * registry's queryable properties and the temporal property. `/queryables` lists
 * them, a CQL2 filter may name them, and each has its own query parameter
 * (Part 3 "queryables as query parameters").
 */
export function queryables(layer: LayerDef, who: Principal): LayerProperty[] {
  const temporal = temporalProperty(layer);
  return visibleProperties(layer, who).filter((p) => p.queryable || p === temporal);
}

/** Columns searched by `q=`: the registry's searchable columns that `who` may see. */
export function searchableColumns(layer: LayerDef, who: Principal): string[] {
  const visible = new Set(visibleProperties(layer, who).map((p) => p.name));
  return layer.searchable.filter((c) => visible.has(c));
}

/** Names `sortby` accepts: `id` and every visible property. */
export function sortableNames(layer: LayerDef, who: Principal): string[] {
  return ['id', ...visibleProperties(layer, who).map((p) => p.name)];
}

function propertyFilterParams(layer: LayerDef, who: Principal): QueryParam[] {
  const out: QueryParam[] = [];
  for (const prop of queryables(layer, who)) {
    const { codec, schema, example } = filterSchema(prop);
    const many = codec.endsWith('-list') ? ' Comma-separated values match any of them.' : '';
    const enumText = prop.enum ? ` Values: ${prop.enum.join(', ')}.` : '';
    out.push(param(prop.name, codec, schema, `Only features whose \`${prop.name}\` (${prop.title.en} / ${prop.title.zh}) equals the value.${many}${enumText}`, example));
    for (const [alias, target] of Object.entries(FILTER_ALIASES)) {
      if (target === prop.name) out.push(param(alias, codec, schema, `Alias of \`${prop.name}\`.`, example));
    }
  }
  return out;
}

function itemsParamsFor(layer: LayerDef, who: Principal): QueryParam[] {
  const visibleNames = visibleProperties(layer, who).map((p) => p.name) as [string, ...string[]];
  const sortable = sortableNames(layer, who);
  const searchable = searchableColumns(layer, who);
  const temporal = temporalProperty(layer);
  const enumProp = visibleProperties(layer, who).find((p) => p.enum && p.queryable);
  const sortExample = enumProp ? `-${enumProp.name},id` : `${visibleNames[0]},-id`;
  const filterExample = enumProp ? `${enumProp.name} = '${enumProp.enum![0]}'` : 'S_INTERSECTS(geometry, BBOX(113.2, 23.1, 113.3, 23.2))';
  const params: QueryParam[] = [F_ITEMS, LANG, LIMIT, OFFSET, CURSOR, NUMBER_MATCHED, BBOX, BBOX_CRS, CRS, { ...FILTER, example: filterExample }, FILTER_LANG, FILTER_CRS];
  // Every items path takes datetime (Part 1 /req/core/fc-time-definition); a collection
  // without a temporal property matches it with every feature (/req/core/fc-time-response C).
  const intervals = '`2024-06-01`, `2024-06-01T08:00:00Z`, `2024-01-01/2024-06-30`, `../2024-06-30`, `2024-01-01/..`';
  params.push(
    param(
      'datetime',
      'string',
      DATETIME_SCHEMA.optional(),
      temporal
        ? `A date or an interval: ${intervals}. ${datetimeRule(layer)!.en} Date-times count by their UTC day.`
        : `A date or an interval (${intervals}). This collection has no temporal property, so every feature matches; the value is still checked.`,
      '2024-01-01/..',
    ),
  );
  params.push(
    param(
      'sortby',
      'string-list',
      z
        .array(z.string().regex(new RegExp(`^\\s*[+-]?(${sortable.join('|')})\\s*$`), `a property name with an optional + or - prefix: ${sortable.join(', ')}`))
        .min(1, 'at least one property')
        .optional(),
      'Comma-separated sort keys, each a property name with an optional `+` (ascending, the default) or `-` (descending) prefix. Properties with a fixed list of values sort in the order of that list (e.g. level: red, orange, yellow, blue). Ties are broken by `id`.',
      sortExample,
    ),
  );
  if (searchable.length) {
    params.push(
      param(
        'q',
        'string-list',
        z
          .array(z.string().trim().min(1, 'non-empty search terms').max(100, 'search terms of at most 100 characters'))
          .min(1, 'at least one search term')
          .max(10, 'at most 10 comma-separated search terms')
          .optional(),
        `Free-text search: features whose ${searchable.join(', ')} contain the term (case-insensitive). Comma-separated terms match any of them.`,
        '化工',
      ),
    );
  }
  params.push({
    ...PROPERTIES,
    schema: z.array(z.enum(visibleNames, { message: `property names of this collection: ${visibleNames.join(', ')}` })).optional(),
    example: visibleNames.slice(0, 2).join(','),
  });
  params.push(...propertyFilterParams(layer, who));
  return params;
}

function itemParamsFor(layer: LayerDef, who: Principal): QueryParam[] {
  const visibleNames = visibleProperties(layer, who).map((p) => p.name) as [string, ...string[]];
  return [
    formatParam(['json', 'geojson', 'html'], '`json` or `geojson` (default): a GeoJSON Feature; `html`: a page with a map and the properties (also chosen by a browser\'s `Accept: text/html`).'),
    LANG,
    CRS,
    { ...PROPERTIES, schema: z.array(z.enum(visibleNames, { message: `property names of this collection: ${visibleNames.join(', ')}` })).optional() },
  ];
}

// Built once per layer and kind of caller (the registry does not change while running).
const cache = new Map<string, QueryParam[]>();
function memo(kind: string, layer: LayerDef, who: Principal, build: () => QueryParam[]): QueryParam[] {
  const key = `${kind}:${layer.id}:${who.canSeeRestricted}`;
  let params = cache.get(key);
  if (!params) cache.set(key, (params = build()));
  return params;
}

export const itemsParams = (layer: LayerDef, who: Principal) => memo('items', layer, who, () => itemsParamsFor(layer, who));
export const itemParams = (layer: LayerDef, who: Principal) => memo('item', layer, who, () => itemParamsFor(layer, who));

// ---------------------------------------------------------------- parsing

/**
 * Validates `query` (Express's simple parser: string or string[] values)
 * against `params`. Unknown parameters are refused (OGC API – Features Part 1
 * requires it; it also catches typos). Every problem is reported, each naming
 * its parameter. Returns decoded and validated values by parameter name.
 */
export function parseQuery(params: readonly QueryParam[], query: Record<string, unknown>): Record<string, unknown> {
  const byName = new Map(params.map((p) => [p.name, p]));
  const problems: InvalidParam[] = [];
  const out: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(query)) {
    if (!byName.has(name)) {
      problems.push({ name, reason: `unknown parameter; this resource accepts ${params.map((p) => p.name).join(', ')}` });
    } else if (typeof raw !== 'string') {
      problems.push({ name, reason: 'given more than once; send it once (lists are comma-separated)' });
    }
  }
  for (const p of params) {
    const raw = query[p.name];
    if (raw !== undefined && typeof raw !== 'string') continue;
    let value: unknown = undefined;
    if (raw !== undefined) {
      if (raw === '' && !p.codec.endsWith('-list') && p.codec !== 'string') {
        problems.push({ name: p.name, reason: 'empty value' });
        continue;
      }
      const decoded = decode(p.codec, raw);
      if (!decoded.ok) {
        problems.push({ name: p.name, reason: decoded.reason });
        continue;
      }
      value = decoded.value;
    }
    const parsed = p.schema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue.path.length && typeof issue.path[0] === 'number' && Array.isArray(value) ? ` ('${String(value[issue.path[0]])}')` : '';
      problems.push({ name: p.name, reason: `${issue.message}${where}` });
      continue;
    }
    out[p.name] = parsed.data;
  }
  if (problems.length) {
    const first = problems[0];
    throw new HttpProblem(400, 'Invalid request', `query ${first.name}: ${first.reason}`, problems, { in: 'query' });
  }
  return out;
}
