import type { Request, Response } from 'express';
import type { AppContext } from '../context.ts';
import { MEDIA, ogcBase } from './links.ts';
import { F_PAGE, LANG, parseQuery } from './params.ts';
import { pageLang, sendPage, wantsHtml } from './html.ts';
import { conformancePage, landingPage } from './html-pages.ts';

/** The landing page and conformance declaration of /ogc. */

/**
 * Only what is implemented: Part 1 core, GeoJSON, HTML, OpenAPI 3.0; Part 2 (crs,
 * bbox-crs); Part 3 queryables and CQL2-text filters (cql.ts: basic CQL2, LIKE /
 * BETWEEN / IN, S_INTERSECTS with any WKT geometry or BBOX).
 */
export const CONFORMANCE_CLASSES = [
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core',
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson',
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html',
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30',
  'http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs',
  'http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables',
  'http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters',
  'http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter',
  'http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter',
  'http://www.opengis.net/spec/cql2/1.0/conf/cql2-text',
  'http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2',
  'http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators',
  'http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions',
  'http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus',
];

export function landingRoutes(ctx: AppContext) {
  return {
    landing(req: Request, res: Response) {
      const q = parseQuery([F_PAGE, LANG], req.query as Record<string, unknown>);
      const ogc = ogcBase(req, ctx.config.PUBLIC_URL);
      if (wantsHtml(req, q.f as string | undefined)) {
        sendPage(res, landingPage(ogc, pageLang(req, q.lang as string | undefined)));
        return;
      }
      res.type(MEDIA.json).send(
        JSON.stringify({
          title: '一张图 OGC API – Features / One map OGC API – Features',
          description:
            '区级应急管理“一张图”的全部图层（风险点、内涝点、地质灾害隐患点、避难场所、应急资源、管网、行政区划、人口）。 ' +
            'Every layer of the district emergency-management one map: risk points, flood-prone spots, geohazard sites, shelters, resources, networks, administrative units, population.',
          links: [
            { href: ogc, rel: 'self', type: MEDIA.json, title: 'this document' },
            { href: `${ogc}/api`, rel: 'service-desc', type: MEDIA.openapi, title: 'the API definition (OpenAPI 3.0)' },
            { href: `${ogc}/api?f=html`, rel: 'service-doc', type: MEDIA.html, title: 'the API documentation' },
            { href: `${ogc}/conformance`, rel: 'conformance', type: MEDIA.json, title: 'conformance classes implemented' },
            { href: `${ogc}/collections`, rel: 'data', type: MEDIA.json, title: 'the collections' },
            { href: `${ogc}?f=html`, rel: 'alternate', type: MEDIA.html, title: 'this page as HTML' },
          ],
        }),
      );
    },

    conformance(req: Request, res: Response) {
      const q = parseQuery([F_PAGE, LANG], req.query as Record<string, unknown>);
      if (wantsHtml(req, q.f as string | undefined)) {
        sendPage(res, conformancePage(ogcBase(req, ctx.config.PUBLIC_URL), pageLang(req, q.lang as string | undefined), CONFORMANCE_CLASSES));
        return;
      }
      res.type(MEDIA.json).send(JSON.stringify({ conformsTo: CONFORMANCE_CLASSES }));
    },
  };
}
