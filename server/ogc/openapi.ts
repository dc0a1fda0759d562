import { z } from 'zod';
import { type LayerDef } from '../../catalog/layers.ts';
import { visibleProperties, type Principal } from '../../catalog/access.ts';
import { bilingual, collectionLayers, geometryTypeOf } from './layer-access.ts';
import type { ComputedSources } from '../../catalog/computed-sources.ts';
import { MEDIA } from './links.ts';
import { F_API, F_JSON, F_PAGE, LANG, itemParams, itemsParams, type QueryParam } from './params.ts';
import { propertySchema, QUERYABLES_REL } from './collections.ts';
import { CONFORMANCE_CLASSES } from './landing.ts';

/**
 * The OpenAPI 3.0 document of /ogc, generated per caller from the layer
 * registry and from the same parameter definitions (params.ts) that validate
 * requests. One path per collection (`/collections/risk_points/items`, …) so
 * GDAL finds each collection's filter parameters and passes `-where` clauses
 * on to the server instead of filtering client-side.
 */

const schemaCache = new WeakMap<z.ZodType, Record<string, unknown>>();

/** JSON Schema (OpenAPI 3.0 dialect) of what a parameter accepts, from its zod schema. */
function paramSchema(p: QueryParam): Record<string, unknown> {
  let s = schemaCache.get(p.schema);
  if (!s) {
    s = z.toJSONSchema(p.schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    delete s.$schema;
    schemaCache.set(p.schema, s);
  }
  return s;
}

export function parameterObject(p: QueryParam): Record<string, unknown> {
  const schema = paramSchema(p);
  return {
    name: p.name,
    in: 'query',
    required: false,
    description: p.example ? `${p.description} Example: \`${p.name}=${p.example}\`.` : p.description,
    ...(schema.type === 'array' ? { style: 'form', explode: false } : {}),
    schema,
  };
}

const json = (schemaRef: string, mediaType: string = MEDIA.json) => ({ content: { [mediaType]: { schema: { $ref: schemaRef } } } });

/** The page for people (`f=html`, or a browser's Accept) beside the JSON of the same resource. */
const HTML = { 'text/html': { schema: { type: 'string' } } };
const jsonOrHtml = (schemaRef: string) => ({ content: { [MEDIA.json]: { schema: { $ref: schemaRef } }, ...HTML } });

const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } });

const errors = {
  '400': { $ref: '#/components/responses/BadRequest' },
  '500': { $ref: '#/components/responses/ServerError' },
};
const errorsWith404 = { ...errors, '404': { $ref: '#/components/responses/NotFound' } };


const sharedSchemas = {
  Link: {
    type: 'object',
    required: ['href', 'rel'],
    properties: {
      href: { type: 'string', format: 'uri' },
      rel: { type: 'string' },
      type: { type: 'string' },
      title: { type: 'string' },
      templated: { type: 'boolean' },
    },
  },
  Links: { type: 'array', items: { $ref: '#/components/schemas/Link' } },
  LandingPage: {
    type: 'object',
    required: ['links'],
    properties: { title: { type: 'string' }, description: { type: 'string' }, links: { $ref: '#/components/schemas/Links' } },
  },
  ConfClasses: {
    type: 'object',
    required: ['conformsTo'],
    properties: { conformsTo: { type: 'array', items: { type: 'string' } } },
  },
  Extent: {
    type: 'object',
    properties: {
      spatial: {
        type: 'object',
        properties: {
          bbox: { type: 'array', minItems: 1, items: { type: 'array', minItems: 4, maxItems: 6, items: { type: 'number' } } },
          crs: { type: 'string' },
        },
      },
      temporal: {
        type: 'object',
        properties: {
          interval: { type: 'array', minItems: 1, items: { type: 'array', minItems: 2, maxItems: 2, items: { type: 'string', format: 'date-time', nullable: true } } },
          trs: { type: 'string' },
        },
      },
    },
  },
  Collection: {
    type: 'object',
    required: ['id', 'links'],
    properties: {
      id: { type: 'string' },
      title: { type: 'string' },
      description: { type: 'string' },
      titles: { type: 'object', properties: { zh: { type: 'string' }, en: { type: 'string' } } },
      descriptions: { type: 'object', properties: { zh: { type: 'string' }, en: { type: 'string' } } },
      itemType: { type: 'string' },
      geometryType: { type: 'string', enum: ['point', 'line', 'polygon'] },
      synthetic: { type: 'boolean' },
      extent: { $ref: '#/components/schemas/Extent' },
      crs: { type: 'array', items: { type: 'string' } },
      storageCrs: { type: 'string' },
      links: { $ref: '#/components/schemas/Links' },
    },
  },
  Collections: {
    type: 'object',
    required: ['links', 'collections'],
    properties: {
      links: { $ref: '#/components/schemas/Links' },
      crs: { type: 'array', items: { type: 'string' } },
      collections: { type: 'array', items: { $ref: '#/components/schemas/Collection' } },
    },
  },
  Queryables: {
    type: 'object',
    required: ['type', 'properties'],
    properties: { $schema: { type: 'string' }, $id: { type: 'string' }, type: { type: 'string' }, title: { type: 'string' }, properties: { type: 'object' } },
  },
  Problem: {
    type: 'object',
    required: ['type', 'title', 'status'],
    properties: {
      type: { type: 'string' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      instance: { type: 'string' },
      param: { type: 'string', description: 'the first offending parameter' },
      'invalid-params': {
        type: 'array',
        items: { type: 'object', required: ['name', 'reason'], properties: { name: { type: 'string' }, reason: { type: 'string' } } },
      },
    },
  },
  Point: {
    type: 'object',
    required: ['type', 'coordinates'],
    properties: { type: { type: 'string', enum: ['Point'] }, coordinates: { type: 'array', minItems: 2, items: { type: 'number' } } },
  },
  MultiLineString: {
    type: 'object',
    required: ['type', 'coordinates'],
    properties: {
      type: { type: 'string', enum: ['MultiLineString'] },
      coordinates: { type: 'array', items: { type: 'array', minItems: 2, items: { type: 'array', minItems: 2, items: { type: 'number' } } } },
    },
  },
  Polygon: {
    type: 'object',
    required: ['type', 'coordinates'],
    properties: {
      type: { type: 'string', enum: ['Polygon'] },
      coordinates: { type: 'array', items: { type: 'array', minItems: 4, items: { type: 'array', minItems: 2, items: { type: 'number' } } } },
    },
  },
  MultiPolygon: {
    type: 'object',
    required: ['type', 'coordinates'],
    properties: {
      type: { type: 'string', enum: ['MultiPolygon'] },
      coordinates: {
        type: 'array',
        items: { type: 'array', items: { type: 'array', minItems: 4, items: { type: 'array', minItems: 2, items: { type: 'number' } } } },
      },
    },
  },
};

function layerSchemas(layer: LayerDef, who: Principal): Record<string, unknown> {
  const name = schemaName(layer);
  const properties = Object.fromEntries(visibleProperties(layer, who).map((p) => [p.name, { ...propertySchema(p), nullable: true }]));
  return {
    [`${name}Properties`]: { type: 'object', properties },
    [`${name}Feature`]: {
      type: 'object',
      required: ['type', 'id', 'geometry', 'properties'],
      properties: {
        type: { type: 'string', enum: ['Feature'] },
        id: { type: layer.idType === 'integer' ? 'integer' : 'string' },
        geometry: { $ref: `#/components/schemas/${geometryTypeOf(layer)}` },
        properties: { $ref: `#/components/schemas/${name}Properties` },
        links: { $ref: '#/components/schemas/Links' },
      },
    },
    [`${name}FeatureCollection`]: {
      type: 'object',
      required: ['type', 'features'],
      properties: {
        type: { type: 'string', enum: ['FeatureCollection'] },
        numberMatched: { type: 'integer', minimum: 0 },
        numberReturned: { type: 'integer', minimum: 0 },
        timeStamp: { type: 'string', format: 'date-time' },
        links: { $ref: '#/components/schemas/Links' },
        features: { type: 'array', items: { $ref: `#/components/schemas/${name}Feature` } },
      },
    },
  };
}

/** `risk_points` → `RiskPoints` (component names). */
const schemaName = (layer: LayerDef) => layer.id.replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase());

const crsHeader = {
  'Content-Crs': { description: 'CRS of the coordinates, as <URI> (OGC API – Features Part 2)', schema: { type: 'string' } },
};

function layerPaths(layer: LayerDef, who: Principal): Record<string, unknown> {
  const name = schemaName(layer);
  const tag = layer.id;
  const path = `/collections/${layer.id}`;
  return {
    [path]: {
      get: {
        tags: [tag],
        summary: `${bilingual(layer.title)}: description, extent and links`,
        operationId: `describe_${layer.id}`,
        parameters: [parameterObject(F_PAGE), parameterObject(LANG)],
        responses: { '200': { description: 'the collection', ...jsonOrHtml('#/components/schemas/Collection') }, ...errorsWith404 },
      },
    },
    [`${path}/items`]: {
      get: {
        tags: [tag],
        summary: `${bilingual(layer.title)}: features`,
        description: `${bilingual(layer.description)}. Paged: follow the \`next\` link until there is none.`,
        operationId: `items_${layer.id}`,
        parameters: itemsParams(layer, who).map(parameterObject),
        responses: {
          '200': {
            description: 'a page of features',
            headers: crsHeader,
            content: {
              [MEDIA.geojson]: { schema: { $ref: `#/components/schemas/${name}FeatureCollection` } },
              'text/csv': { schema: { type: 'string' } },
              ...HTML,
            },
          },
          ...errorsWith404,
        },
      },
    },
    [`${path}/items/{featureId}`]: {
      get: {
        tags: [tag],
        summary: `${bilingual(layer.title)}: one feature`,
        operationId: `item_${layer.id}`,
        parameters: [
          { name: 'featureId', in: 'path', required: true, description: 'the feature id', schema: { type: layer.idType === 'integer' ? 'integer' : 'string' } },
          ...itemParams(layer, who).map(parameterObject),
        ],
        responses: {
          '200': {
            description: 'the feature',
            headers: crsHeader,
            content: { [MEDIA.geojson]: { schema: { $ref: `#/components/schemas/${name}Feature` } }, ...HTML },
          },
          ...errorsWith404,
        },
      },
    },
    [`${path}/queryables`]: {
      get: {
        tags: [tag],
        summary: `${bilingual(layer.title)}: filterable properties (JSON Schema)`,
        operationId: `queryables_${layer.id}`,
        parameters: [parameterObject(F_JSON)],
        responses: { '200': { description: `the queryables (link rel ${QUERYABLES_REL})`, ...json('#/components/schemas/Queryables', MEDIA.schema) }, ...errorsWith404 },
      },
    },
  };
}

export interface OpenApiOptions {
  /** Absolute URL of /ogc (the server of every path). */
  ogcUrl: string;
  version: string;
}

export function openApiDocument(who: Principal, computed: ComputedSources, options: OpenApiOptions): Record<string, unknown> {
  const layers = collectionLayers(who, computed);
  const paths: Record<string, unknown> = {
    '/': {
      get: {
        tags: ['Capabilities'],
        summary: 'Landing page',
        operationId: 'getLandingPage',
        parameters: [parameterObject(F_PAGE), parameterObject(LANG)],
        responses: { '200': { description: 'links to the API description, conformance and collections', ...jsonOrHtml('#/components/schemas/LandingPage') }, ...errors },
      },
    },
    '/conformance': {
      get: {
        tags: ['Capabilities'],
        summary: 'Conformance classes implemented',
        description: CONFORMANCE_CLASSES.join(', '),
        operationId: 'getConformanceDeclaration',
        parameters: [parameterObject(F_PAGE), parameterObject(LANG)],
        responses: { '200': { description: 'the conformance classes', ...jsonOrHtml('#/components/schemas/ConfClasses') }, ...errors },
      },
    },
    '/api': {
      get: {
        tags: ['Capabilities'],
        summary: 'This API description',
        operationId: 'getApiDescription',
        parameters: [parameterObject(F_API)],
        responses: {
          '200': {
            description: 'the OpenAPI 3.0 document, or a readable page with f=html',
            content: { [MEDIA.openapi]: { schema: { type: 'object' } }, ...HTML },
          },
          ...errors,
        },
      },
    },
    '/collections': {
      get: {
        tags: ['Capabilities'],
        summary: 'The collections (one per map layer)',
        operationId: 'getCollections',
        parameters: [parameterObject(F_PAGE), parameterObject(LANG)],
        responses: { '200': { description: 'every collection the caller may see', ...jsonOrHtml('#/components/schemas/Collections') }, ...errors },
      },
    },
  };
  const schemas: Record<string, unknown> = { ...sharedSchemas };
  for (const layer of layers) {
    Object.assign(paths, layerPaths(layer, who));
    Object.assign(schemas, layerSchemas(layer, who));
  }
  return {
    openapi: '3.0.3',
    info: {
      title: '一张图 OGC API – Features / One map OGC API – Features',
      version: options.version,
      description:
        'Every layer of the emergency-management one map as OGC API – Features (Part 1 core, GeoJSON, HTML, OpenAPI 3.0; Part 2 CRS; ' +
        'Part 3 queryables and CQL2-text `filter`; /conformance lists the classes). ' +
        'Unknown query parameters are refused with 400 naming them. Paging: `limit` (default 100, larger than 10000 is clamped to 10000); ' +
        'follow `next` links (keyset cursors), or build your own `offset`. Demo features are synthetic and say so (`synthetic: true`).',
    },
    servers: [{ url: options.ogcUrl }],
    tags: [{ name: 'Capabilities' }, ...layers.map((l) => ({ name: l.id, description: bilingual(l.title) }))],
    paths,
    components: {
      schemas,
      responses: {
        BadRequest: problemResponse('invalid request: the problem names every offending parameter in invalid-params'),
        NotFound: problemResponse('no such collection or feature'),
        ServerError: problemResponse('the server failed; the error was logged'),
      },
    },
  };
}

// ---------------------------------------------------------------- HTML (service-doc)

const esc = (s: unknown) =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const code = (s: string) => esc(s).replace(/`([^`]+)`/g, '<code>$1</code>');

function schemaText(schema: Record<string, unknown> | undefined): string {
  if (!schema) return '';
  if (schema.type === 'array') {
    const items = (schema.items ?? {}) as Record<string, unknown>;
    return `comma-separated list of ${schemaText(items)}`;
  }
  const parts = [String(schema.type ?? 'value')];
  if (Array.isArray(schema.enum)) parts.push(`one of ${schema.enum.join(', ')}`);
  if (schema.minimum !== undefined) parts.push(`min ${schema.minimum}`);
  if (schema.maximum !== undefined) parts.push(`max ${schema.maximum}`);
  if (schema.default !== undefined) parts.push(`default ${schema.default}`);
  return parts.join('; ');
}

/** The human-readable page of the API (landing page rel=service-doc), rendered from the OpenAPI document. */
export function openApiHtml(doc: Record<string, unknown>): string {
  const info = doc.info as { title: string; description: string; version: string };
  const server = (doc.servers as { url: string }[])[0].url;
  const paths = doc.paths as Record<string, Record<string, { summary?: string; description?: string; parameters?: Record<string, unknown>[] }>>;
  const sections = Object.entries(paths).map(([path, ops]) => {
    const op = ops.get;
    const rows = (op.parameters ?? [])
      .map((p) => `<tr><td><code>${esc(p.name)}</code></td><td>${esc(p.in)}</td><td>${esc(schemaText(p.schema as Record<string, unknown>))}</td><td>${code(String(p.description ?? ''))}</td></tr>`)
      .join('\n');
    return `<section><h3><code>GET ${esc(server + (path === '/' ? '' : path))}</code></h3><p>${code(op.summary ?? '')}</p>${op.description ? `<p>${code(op.description)}</p>` : ''}
${rows ? `<table><thead><tr><th>parameter</th><th>in</th><th>accepts</th><th>meaning</th></tr></thead><tbody>\n${rows}\n</tbody></table>` : ''}</section>`;
  });
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>${esc(info.title)}</title>
<style>body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;line-height:1.45}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccd;padding:.3rem .5rem;vertical-align:top;text-align:left}
th{background:#eef}code{background:#f4f4f8;padding:0 .2rem}h3{margin-top:2rem}</style></head>
<body><h1>${esc(info.title)}</h1><p>${code(info.description)}</p>
<p>Machine-readable: <a href="${esc(server)}/api">${esc(server)}/api</a> (OpenAPI 3.0, version ${esc(info.version)}). Landing page: <a href="${esc(server)}">${esc(server)}</a>.</p>
<p>QGIS: Layer → Add Layer → Add WFS / OGC API – Features layer, URL <code>${esc(server)}</code>. GDAL: <code>ogrinfo OAPIF:${esc(server)}</code>.</p>
${sections.join('\n')}
</body></html>`;
}
