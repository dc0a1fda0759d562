import { featureEtag } from '../edits/feature-store.ts';
import type { Request, Response } from 'express';
import type { Feature } from 'geojson';
import type { AppContext } from '../context.ts';
import { requestDb } from '../db/scoped.ts';
import type { StatementScope } from '../db/types.ts';
import { scopeOf } from '../http/request-scope.ts';
import { badRequest, notFound } from '../http/problem.ts';
import { principalOf } from '../http/principal.ts';
import { CANONICAL_ID } from '../http/numbers.ts';
import { LAYERS, type LayerDef, type LayerProperty } from '../../catalog/layers.ts';
import { factsOf as tableFactsOf } from '../../catalog/table-facts.ts';
import { visibleProperties, type Principal } from '../../catalog/access.ts';
import { CRS84, MERCATOR_MAX, contentCrsHeader, gcj02ToWgs84, geometryToGcj02, mercatorToLonLat, type CrsDef } from './crs.ts';
import { decodeCursor, encodeCursor, queryHash } from './cursor.ts';
import { MatchedCounts, type Matched, type MatchedMode } from './matched.ts';
import { toCsv } from './csv.ts';
import { computedRows } from './computed.ts';
import { collectionLayer } from './layer-access.ts';
import { MEDIA, linkHeader, ogcBase, queryPairs, withQuery, type Link } from './links.ts';
import { CqlError, checkCql, parseCql2Text } from './cql.ts';
import { htmlHref, pageLang, sendPage, wantsHtml, type PageLang } from './html.ts';
import { itemsPage } from './html-pages.ts';
import {
  FILTER_ALIASES,
  itemParams,
  itemsParams,
  parseQuery,
  queryables as queryablesOf,
  searchableColumns,
  temporalProperty,
  type DateInterval,
} from './params.ts';
import {
  outputGeometry,
  selectCsvPage,
  selectFeature,
  selectFeaturePage,
  type FeaturePage,
  type ItemsFilter,
  type PageQuery,
  type PropertyFilter,
  type SortKey,
} from './sql.ts';

/**
 * `/ogc/collections/{id}/items` and `/items/{featureId}`: parameters parsed
 * into a typed request (params.ts), SQL from the registry (sql.ts), GeoJSON
 * assembled in the database, paging links that repeat every other parameter.
 */

export interface ItemsRequest {
  format: 'geojson' | 'csv' | 'html';
  /** Language of the HTML page. */
  lang: PageLang;
  crs: CrsDef;
  /** Output properties, in order. */
  properties: LayerProperty[];
  filter: ItemsFilter;
  sort: SortKey[];
  limit: number;
  offset: number;
  /** Keyset cursor of a next link (then offset is 0). */
  cursor?: { after: (string | null)[]; position: number };
  /** Hash of filter and sort, carried by cursors. */
  hash: string;
  matched: MatchedMode;
}

/** bbox numbers in `crs` axis order → a validated WGS84 lon/lat box. */
export function resolveBbox(numbers: readonly number[], crs: CrsDef): [number, number, number, number] {
  let two = numbers.length === 6 ? [numbers[0], numbers[1], numbers[3], numbers[4]] : [...numbers];
  if (numbers.length === 6 && numbers[2] > numbers[5]) throw badRequest('bbox', `minimum height ${numbers[2]} is above maximum height ${numbers[5]}`);
  if (crs.srid === 3857) {
    for (const v of two) {
      if (Math.abs(v) > MERCATOR_MAX) throw badRequest('bbox', `${v} is outside the Web Mercator world (±${MERCATOR_MAX} m; order: minX,minY,maxX,maxY)`);
    }
    if (two[0] > two[2] || two[1] > two[3]) throw badRequest('bbox', `minimum above maximum (order: minX,minY,maxX,maxY in metres)`);
    // Mercator is monotonic in both axes, so the corners give the exact lon/lat box.
    two = [...mercatorToLonLat(two[0], two[1]), ...mercatorToLonLat(two[2], two[3])];
  }
  let [minLon, minLat, maxLon, maxLat] = crs.axisOrder === 'latlon' ? [two[1], two[0], two[3], two[2]] : two;
  const order = crs.axisOrder === 'latlon' ? 'minLat,minLon,maxLat,maxLon' : 'minLon,minLat,maxLon,maxLat';
  for (const lat of [minLat, maxLat]) {
    if (lat < -90 || lat > 90) throw badRequest('bbox', `latitude ${lat} is outside -90..90 (order: ${order})`);
  }
  for (const lon of [minLon, maxLon]) {
    if (lon < -180 || lon > 180) throw badRequest('bbox', `longitude ${lon} is outside -180..180 (order: ${order})`);
  }
  if (minLat > maxLat) throw badRequest('bbox', `minimum latitude ${minLat} is above maximum latitude ${maxLat} (order: ${order})`);
  if (minLon > maxLon) {
    throw badRequest('bbox', `minimum longitude ${minLon} is east of maximum longitude ${maxLon}: boxes crossing the antimeridian are not supported; send two requests, one each side of 180°`);
  }
  if (crs.gcj02) {
    // Corners to WGS84; the shift varies slowly, so the envelope of the four corners is close.
    const corners = [
      gcj02ToWgs84(minLon, minLat),
      gcj02ToWgs84(minLon, maxLat),
      gcj02ToWgs84(maxLon, minLat),
      gcj02ToWgs84(maxLon, maxLat),
    ];
    [minLon, minLat, maxLon, maxLat] = [
      Math.min(...corners.map((c) => c[0])),
      Math.min(...corners.map((c) => c[1])),
      Math.max(...corners.map((c) => c[0])),
      Math.max(...corners.map((c) => c[1])),
    ];
  }
  return [minLon, minLat, maxLon, maxLat];
}

function negotiateFormat(req: Request, f: string | undefined): 'geojson' | 'csv' | 'html' {
  if (f === 'csv') return 'csv';
  if (f === 'html') return 'html';
  if (f === 'json' || f === 'geojson') return 'geojson';
  const best = req.accepts([MEDIA.geojson, MEDIA.json, MEDIA.csv, MEDIA.html]);
  return best === MEDIA.csv ? 'csv' : best === MEDIA.html ? 'html' : 'geojson';
}

function outputProperties(layer: LayerDef, who: Principal, names: string[] | undefined): LayerProperty[] {
  const visible = visibleProperties(layer, who);
  if (names === undefined) return visible;
  const seen = new Set<string>();
  const out: LayerProperty[] = [];
  for (const name of names) {
    if (seen.has(name)) continue;
    seen.add(name);
    out.push(visible.find((p) => p.name === name)!);
  }
  return out;
}

/** Parses and validates every parameter of an items request for `layer` as seen by `who`. */
export function parseItemsRequest(req: Request, layer: LayerDef, who: Principal): ItemsRequest {
  const q = parseQuery(itemsParams(layer, who), req.query as Record<string, unknown>);
  const crs = (q.crs as CrsDef | undefined) ?? CRS84;
  const bboxCrs = (q['bbox-crs'] as CrsDef | undefined) ?? CRS84;
  const filter: { -readonly [K in keyof ItemsFilter]: ItemsFilter[K] } = { properties: [] };

  if (q.bbox) filter.bbox = resolveBbox(q.bbox as number[], bboxCrs);

  const temporal = temporalProperty(layer);
  if (temporal && q.datetime) filter.datetime = { property: temporal, interval: q.datetime as DateInterval };

  const propertyFilters: PropertyFilter[] = [];
  for (const prop of queryablesOf(layer, who)) {
    const names = [prop.name, ...Object.entries(FILTER_ALIASES).filter(([, t]) => t === prop.name).map(([a]) => a)];
    const given = names.filter((n) => q[n] !== undefined);
    if (given.length > 1) throw badRequest(given[1], `same filter as ${given[0]}; give only one of ${given.join(', ')}`);
    if (given.length === 1) {
      const value = q[given[0]];
      propertyFilters.push({ property: prop, values: Array.isArray(value) ? value : [value] });
    }
  }
  filter.properties = propertyFilters;

  if (q.q) filter.search = { terms: q.q as string[], columns: searchableColumns(layer, who) };

  if (q.filter !== undefined) {
    const queryables = queryablesOf(layer, who);
    try {
      const node = parseCql2Text(q.filter as string);
      checkCql(node, queryables);
      filter.cql = { node, queryables };
    } catch (err) {
      if (err instanceof CqlError) throw badRequest('filter', `CQL2-text: ${err.message}`);
      throw err;
    }
  }

  const sort: SortKey[] = [];
  const seen = new Set<string>();
  for (const raw of (q.sortby as string[] | undefined) ?? []) {
    const key = raw.trim();
    const descending = key.startsWith('-');
    const name = key.replace(/^[+-]/, '');
    if (seen.has(name)) throw badRequest('sortby', `'${name}' is given twice`);
    seen.add(name);
    const prop = layer.properties.find((p) => p.name === name);
    sort.push({ name, descending, ...(prop?.enum ? { enumOrder: prop.enum } : {}) });
  }

  const hash = queryHash(filter, sort);
  let cursor: ItemsRequest['cursor'];
  if (q.cursor !== undefined) {
    if (req.query.offset !== undefined) throw badRequest('cursor', 'give either cursor (from a next link) or offset, not both');
    cursor = decodeCursor(q.cursor as string, hash, sort.filter((k) => k.name !== 'id').length + 1);
  }

  return {
    format: negotiateFormat(req, q.f as string | undefined),
    lang: pageLang(req, q.lang as string | undefined),
    crs,
    properties: outputProperties(layer, who, q.properties as string[] | undefined),
    filter,
    sort,
    limit: q.limit as number,
    offset: q.offset as number,
    cursor,
    hash,
    matched: (q.numberMatched as MatchedMode | undefined) ?? 'auto',
  };
}

/** Applies the GCJ-02 shift to a JSON array of features (the only CRS not produced by the database). */
function featuresToGcj02(featuresJson: string, decimals: number): string {
  const features = JSON.parse(featuresJson) as Feature[];
  for (const f of features) if (f.geometry) f.geometry = geometryToGcj02(f.geometry, decimals);
  return JSON.stringify(features);
}

/** The facts of a computed layer: no table, nothing soft-deleted or versioned. */
const NO_TABLE = tableFactsOf(new Set());

export function itemRoutes(ctx: AppContext) {
  const factsOf = async (layer: LayerDef, scope: StatementScope | undefined) =>
    layer.table ? (await ctx.tableFacts(scope)).get(layer.table)! : NO_TABLE;
  const rowsOf = (layer: LayerDef, scope: StatementScope | undefined) => (layer.table ? undefined : computedRows(ctx.computed, layer, scope));

  const counts = new MatchedCounts(ctx.db, ctx.config.OGC_COUNT_EXACT_MAX);

  return {
    async items(req: Request<{ collectionId: string }>, res: Response) {
      const who = principalOf(req);
      const layer = collectionLayer(req.params.collectionId, who, ctx.computed);
      const r = parseItemsRequest(req, layer, who);
      // The request's statements: its time limit, and cancelled when its client leaves.
      const scope = scopeOf(req);
      const db = requestDb(ctx.db, req);
      const [facts, computed] = await Promise.all([factsOf(layer, scope), rowsOf(layer, scope)]);
      const page: PageQuery = { layer, facts, computed, filter: r.filter, sort: r.sort, limit: r.limit, offset: r.offset, after: r.cursor?.after };
      const out = outputGeometry(layer, r.crs);
      const matchedAt = (version: number) => counts.get(layer, facts, r.filter, r.matched, layer.table ? version : 0, scope, computed);

      let matched: Matched | undefined;
      let body: Awaited<ReturnType<typeof selectCsvPage>> | FeaturePage;
      if (r.format === 'csv') {
        let version: number;
        [version, body] = await Promise.all([layer.table ? counts.dataVersion(scope) : 0, selectCsvPage(db, page, r.properties, out)]);
        matched = await matchedAt(version);
      } else {
        // The page statement reads the data version too: with the count cached for it (a walk of
        // next links, any repeated page) a page is one round trip to the database, as its SQL is.
        body = await selectFeaturePage(db, page, r.properties, out);
        matched = await matchedAt(body.dataVersion);
      }
      const returned = 'rows' in body ? body.rows.length : body.returned;
      /** Position of this page's first feature among all matches. */
      const position = r.cursor ? r.cursor.position : r.offset;

      const ogc = ogcBase(req, ctx.config.PUBLIC_URL);
      const itemsUrl = `${ogc}/collections/${layer.id}/items`;
      const pairs = queryPairs(req);
      const selfType = r.format === 'csv' ? MEDIA.csv : r.format === 'html' ? MEDIA.html : MEDIA.geojson;
      const links: Link[] = [{ href: withQuery(itemsUrl, pairs), rel: 'self', type: selfType, title: 'this page' }];
      if (r.format === 'csv') links.push({ href: withQuery(itemsUrl, pairs, { f: 'json' }), rel: 'alternate', type: MEDIA.geojson, title: 'this page as GeoJSON' });
      else links.push({ href: withQuery(itemsUrl, pairs, { f: 'csv' }), rel: 'alternate', type: MEDIA.csv, title: 'this page as CSV' });
      if (body.more && body.lastKey) {
        // The next page starts after this page's last row: a keyset cursor, not an offset.
        const cursor = encodeCursor({ after: body.lastKey, position: position + returned }, r.hash);
        links.push({ href: withQuery(itemsUrl, pairs, { offset: null, cursor }), rel: 'next', type: selfType, title: 'next page' });
      }
      if (position > 0) {
        const end = matched?.kind === 'exact' ? Math.min(position, matched.value) : position;
        const prev = Math.max(0, end - r.limit);
        links.push({ href: withQuery(itemsUrl, pairs, { cursor: null, offset: prev === 0 ? null : String(prev) }), rel: 'prev', type: selfType, title: 'previous page' });
      }
      links.push({ href: `${ogc}/collections/${layer.id}`, rel: 'collection', type: MEDIA.json, title: 'the collection' });

      res.set('Content-Crs', contentCrsHeader(r.crs));
      res.set('Link', linkHeader(links.filter((l) => l.rel === 'next' || l.rel === 'prev' || l.rel === 'self')));
      if (matched) res.set('OGC-NumberMatched-Kind', matched.kind);
      if ('rows' in body) {
        if (matched) res.set('OGC-NumberMatched', String(matched.value));
        res.set('Content-Disposition', `inline; filename="${layer.id}.csv"`);
        res
          .type('text/csv; charset=utf-8')
          .send(toCsv(body.rows, { properties: r.properties, withWkt: layer.geometry !== 'point', gcj02: r.crs.gcj02, decimals: out.decimals, xy: out.srid === 3857 }));
        return;
      }
      const features = r.crs.gcj02 ? featuresToGcj02(body.featuresJson, out.decimals) : body.featuresJson;
      if (r.format === 'html') {
        sendPage(
          res,
          itemsPage({
            ogc,
            lang: r.lang,
            layer,
            properties: r.properties,
            features: JSON.parse(features) as { id: string | number; properties: Record<string, unknown> }[],
            numberMatched: matched?.value,
            links,
            geojsonUrl: withQuery(itemsUrl, pairs, { f: 'json', lang: null }),
            otherLang: withQuery(itemsUrl, pairs, { f: 'html', lang: r.lang === 'zh' ? 'en' : 'zh' }),
            featureHref: (id) => htmlHref(`${ogc}/collections/${layer.id}/items/${encodeURIComponent(String(id))}`, r.lang),
          }),
        );
        return;
      }
      // The features array comes from the database as JSON text and is spliced in unparsed.
      const head = JSON.stringify({
        type: 'FeatureCollection',
        ...(matched ? { numberMatched: matched.value } : {}),
        // Said only when the number is the planner's estimate (see docs/ogc.md).
        ...(matched?.kind === 'estimate' ? { numberMatchedEstimated: true } : {}),
        numberReturned: returned,
        timeStamp: new Date().toISOString(),
        links,
      });
      // Written in three pieces, not as one string through res.send: the features text stays the
      // flat string the database sent, which Node encodes several times faster than a
      // concatenation of it (measured 2.9 against 16.6 ms for 300 KiB of mostly-ASCII JSON with
      // Chinese names); and res.send would hash the page for an ETag that never matches, since
      // every page carries its own timeStamp.
      const start = `${head.slice(0, -1)},"features":`;
      const length = Buffer.byteLength(start) + Buffer.byteLength(features) + 1;
      res.set({ 'Content-Type': `${MEDIA.geojson}; charset=utf-8`, 'Content-Length': String(length) });
      res.write(start);
      res.write(features);
      res.end('}');
    },

    async item(req: Request<{ collectionId: string; featureId: string }>, res: Response) {
      const who = principalOf(req);
      const layer = collectionLayer(req.params.collectionId, who, ctx.computed);
      const q = parseQuery(itemParams(layer, who), req.query as Record<string, unknown>);
      const crs = (q.crs as CrsDef | undefined) ?? CRS84;
      const properties = outputProperties(layer, who, q.properties as string[] | undefined);
      const fid = req.params.featureId;
      const missing = () => notFound(`no feature '${fid}' in collection '${layer.id}'`);
      if (layer.idType === 'integer' && !CANONICAL_ID.test(fid)) throw missing();
      const scope = scopeOf(req);
      const db = requestDb(ctx.db, req);
      const [facts, computed] = await Promise.all([factsOf(layer, scope), rowsOf(layer, scope)]);
      const out = outputGeometry(layer, crs);
      let feature = await selectFeature(db, layer, facts, fid, properties, out, computed);
      if (feature === undefined) throw missing();
      if (crs.gcj02) {
        const f = JSON.parse(feature) as Feature;
        if (f.geometry) f.geometry = geometryToGcj02(f.geometry, out.decimals);
        feature = JSON.stringify(f);
      }
      const ogc = ogcBase(req, ctx.config.PUBLIC_URL);
      const collectionUrl = `${ogc}/collections/${layer.id}`;
      const links: Link[] = [
        { href: withQuery(`${collectionUrl}/items/${encodeURIComponent(fid)}`, queryPairs(req)), rel: 'self', type: MEDIA.geojson, title: 'this feature' },
        { href: collectionUrl, rel: 'collection', type: MEDIA.json, title: 'the collection' },
      ];
      res.set('Content-Crs', contentCrsHeader(crs));
      // The row version is the ETag that Part 4 edits expect back in If-Match.
      if (facts.versioned && layer.table) {
        const v = await db.query<{ version: number }>(`SELECT version FROM ${layer.table} WHERE id = $1`, [Number(fid)]);
        if (v.rows[0]) res.set('ETag', featureEtag(v.rows[0].version));
      }
      if (wantsHtml(req, q.f as string | undefined)) {
        const pairs = queryPairs(req);
        const lang = pageLang(req, q.lang as string | undefined);
        const featureUrl = `${collectionUrl}/items/${encodeURIComponent(fid)}`;
        sendPage(
          res,
          itemsPage({
            ogc,
            lang,
            layer,
            properties,
            features: [JSON.parse(feature) as { id: string | number; properties: Record<string, unknown> }],
            links: [],
            geojsonUrl: withQuery(featureUrl, pairs, { f: 'json', lang: null }),
            otherLang: withQuery(featureUrl, pairs, { f: 'html', lang: lang === 'zh' ? 'en' : 'zh' }),
          }),
        );
        return;
      }
      res.type(MEDIA.geojson).send(`${feature.slice(0, -1)},"links":${JSON.stringify(links)}}`);
    },
  };
}
