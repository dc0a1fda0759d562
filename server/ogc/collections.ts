import type { Request, Response } from 'express';
import type { AppContext } from '../context.ts';
import { requestDb } from '../db/scoped.ts';
import { scopeOf } from '../http/request-scope.ts';
import { principalOf } from '../http/principal.ts';
import { LAYERS, getLayer, type LayerDef, type LayerProperty } from '../../catalog/layers.ts';
import type { Principal } from '../../catalog/access.ts';
import { valueTitle } from '../../catalog/vocabulary.ts';
import { baseUrl } from '../http/base-url.ts';
import { CRS84, CRS_URIS, STORAGE_CRS } from './crs.ts';
import { bilingual, collectionLayer, collectionLayers, geometryTypeOf } from './layer-access.ts';
import { MEDIA, ogcBase, type Link } from './links.ts';
import { F_JSON, F_PAGE, LANG, datetimeRule, parseQuery, queryables, temporalProperty } from './params.ts';
import { GEOMETRY } from './cql.ts';
import { pageLang, sendPage, wantsHtml } from './html.ts';
import { collectionPage, collectionsPage } from './html-pages.ts';
import { selectExtent, type LayerExtent } from './sql.ts';

/** `/ogc/collections`, `/ogc/collections/{id}` and `…/queryables`, all derived from the layer registry. */

const GREGORIAN = 'http://www.opengis.net/def/uom/ISO-8601/0/Gregorian';
export const QUERYABLES_REL = 'http://www.opengis.net/def/rel/ogc/1.0/queryables';

/** The extent of `layer`, read by request `req`. */
export async function layerExtent(ctx: AppContext, req: Request, layer: LayerDef): Promise<LayerExtent> {
  const db = requestDb(ctx.db, req);
  const facts = await ctx.tableFacts(scopeOf(req));
  if (!layer.table) {
    // Computed layers (coverage gaps) lie within the districts; computing them only to
    // describe their extent would make /collections wait for an analysis.
    const districts = getLayer('districts')!;
    const extent = await selectExtent(db, districts, facts.get(districts.table!)!);
    return { bbox: extent.bbox, interval: null, count: 0 };
  }
  return selectExtent(db, layer, facts.get(layer.table)!, temporalProperty(layer));
}

export function collectionDocument(layer: LayerDef, extent: LayerExtent, req: Request, ctx: AppContext) {
  const ogc = ogcBase(req, ctx.config.PUBLIC_URL);
  const root = baseUrl(req, ctx.config.PUBLIC_URL);
  const self = `${ogc}/collections/${layer.id}`;
  const links: Link[] = [
    { href: self, rel: 'self', type: MEDIA.json, title: 'this collection' },
    { href: `${self}/items`, rel: 'items', type: MEDIA.geojson, title: 'features (GeoJSON)' },
    { href: `${self}/items?f=csv`, rel: 'items', type: MEDIA.csv, title: 'features (CSV)' },
    { href: `${self}/items?f=html`, rel: 'items', type: MEDIA.html, title: 'features (HTML page)' },
    { href: `${self}?f=html`, rel: 'alternate', type: MEDIA.html, title: 'this collection as HTML' },
    { href: `${self}/queryables`, rel: QUERYABLES_REL, type: MEDIA.schema, title: 'filterable properties' },
    { href: `${root}/tiles/${layer.id}/{z}/{x}/{y}.mvt`, rel: 'tiles', type: MEDIA.mvt, title: 'vector tiles (XYZ)', templated: true },
    { href: `${root}/tiles/${layer.id}.json`, rel: 'tilejson', type: MEDIA.json, title: 'TileJSON 3.0' },
    { href: ogc, rel: 'root', type: MEDIA.json, title: 'landing page' },
  ];
  const synthetic = layer.syntheticData ? ' (合成演示数据 / synthetic demo data)' : '';
  // A client reading the collection learns how datetime treats features without a date.
  const rule = datetimeRule(layer);
  const descriptions = rule ? { zh: `${layer.description.zh}。${rule.zh}`, en: `${layer.description.en}. ${rule.en}` } : layer.description;
  return {
    id: layer.id,
    title: bilingual(layer.title),
    description: bilingual(descriptions) + synthetic,
    // The registry's bilingual texts, for clients that show one language.
    titles: layer.title,
    descriptions,
    itemType: 'feature',
    geometryType: layer.geometry,
    synthetic: layer.syntheticData,
    ...(extent.bbox || extent.interval
      ? {
          extent: {
            ...(extent.bbox ? { spatial: { bbox: [extent.bbox], crs: CRS84.uri } } : {}),
            ...(extent.interval ? { temporal: { interval: [[`${extent.interval[0]}T00:00:00Z`, `${extent.interval[1]}T23:59:59Z`]], trs: GREGORIAN } } : {}),
          },
        }
      : {}),
    crs: CRS_URIS,
    storageCrs: STORAGE_CRS.uri,
    links,
  };
}

/** JSON Schema type of a registry property (queryables, OpenAPI feature schemas). */
export function propertySchema(prop: LayerProperty): Record<string, unknown> {
  const base: Record<string, unknown> =
    prop.type === 'date' ? { type: 'string', format: 'date' } : prop.type === 'datetime' ? { type: 'string', format: 'date-time' } : { type: prop.type === 'integer' ? 'integer' : prop.type };
  return {
    title: bilingual(prop.title),
    ...base,
    ...(prop.enum ? { enum: [...prop.enum], 'x-enum-titles': Object.fromEntries(prop.enum.map((v) => [v, bilingual(valueTitle(v))])) } : {}),
  };
}

export function queryablesDocument(layer: LayerDef, who: Principal, req: Request, ctx: AppContext) {
  const ogc = ogcBase(req, ctx.config.PUBLIC_URL);
  const properties: Record<string, unknown> = {
    // Part 3 /req/queryables/get-queryables-response D, E: a spatial property has a
    // `format` naming its geometry type and neither `type` nor `$ref`.
    [GEOMETRY]: {
      title: 'geometry (filter with bbox or S_INTERSECTS)',
      format: `geometry-${geometryTypeOf(layer).toLowerCase()}`,
    },
  };
  const temporal = temporalProperty(layer);
  for (const prop of queryables(layer, who)) {
    properties[prop.name] = prop === temporal ? { ...propertySchema(prop), description: bilingual(datetimeRule(layer)!) } : propertySchema(prop);
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `${ogc}/collections/${layer.id}/queryables`,
    type: 'object',
    title: bilingual(layer.title),
    properties,
    additionalProperties: false,
  };
}

export function collectionRoutes(ctx: AppContext) {
  return {
    async list(req: Request, res: Response) {
      const q = parseQuery([F_PAGE, LANG], req.query as Record<string, unknown>);
      const who = principalOf(req);
      const layers = collectionLayers(who, ctx.computed);
      const extents = await Promise.all(layers.map((l) => layerExtent(ctx, req, l)));
      const ogc = ogcBase(req, ctx.config.PUBLIC_URL);
      if (wantsHtml(req, q.f as string | undefined)) {
        sendPage(res, collectionsPage(ogc, pageLang(req, q.lang as string | undefined), layers.map((l, i) => collectionDocument(l, extents[i], req, ctx))));
        return;
      }
      res.type(MEDIA.json).send(
        JSON.stringify({
          links: [
            { href: `${ogc}/collections`, rel: 'self', type: MEDIA.json, title: 'collections' },
            { href: ogc, rel: 'root', type: MEDIA.json, title: 'landing page' },
          ],
          crs: CRS_URIS,
          collections: layers.map((l, i) => collectionDocument(l, extents[i], req, ctx)),
        }),
      );
    },

    async one(req: Request<{ collectionId: string }>, res: Response) {
      const who = principalOf(req);
      const layer = collectionLayer(req.params.collectionId, who, ctx.computed);
      const q = parseQuery([F_PAGE, LANG], req.query as Record<string, unknown>);
      const extent = await layerExtent(ctx, req, layer);
      const doc = collectionDocument(layer, extent, req, ctx);
      if (wantsHtml(req, q.f as string | undefined)) {
        sendPage(res, collectionPage(ogcBase(req, ctx.config.PUBLIC_URL), pageLang(req, q.lang as string | undefined), doc));
        return;
      }
      res.type(MEDIA.json).send(JSON.stringify(doc));
    },

    async queryables(req: Request<{ collectionId: string }>, res: Response) {
      const who = principalOf(req);
      const layer = collectionLayer(req.params.collectionId, who, ctx.computed);
      parseQuery([F_JSON], req.query as Record<string, unknown>);
      res.type(MEDIA.schema).send(JSON.stringify(queryablesDocument(layer, who, req, ctx)));
    },
  };
}
