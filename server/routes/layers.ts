import { Router } from 'express';
import type { AppContext } from '../context.ts';
import { baseUrl } from '../http/base-url.ts';
import { legendEntries, type LayerDef } from '../../catalog/layers.ts';
import { visibleLayers, visibleProperties, type Principal } from '../../catalog/access.ts';
import { valueTitle } from '../../catalog/vocabulary.ts';
import { principalOf } from '../http/principal.ts';

/** The catalogue of layers, derived from the registry; the client builds its switcher and legend from it. */
export function describeLayer(layer: LayerDef, who: Principal, base: string) {
  return {
    id: layer.id,
    title: layer.title,
    description: layer.description,
    geometry: layer.geometry,
    access: layer.access,
    minzoom: layer.minzoom,
    maxzoom: layer.maxzoom,
    cluster: layer.cluster ?? null,
    synthetic: layer.syntheticData,
    onByDefault: layer.onByDefault ?? true,
    properties: visibleProperties(layer, who).map((prop) => ({
      name: prop.name,
      type: prop.type,
      title: prop.title,
      queryable: prop.queryable ?? false,
      ...(prop.enum ? { enum: prop.enum, enumTitles: Object.fromEntries(prop.enum.map((v) => [v, valueTitle(v)])) } : {}),
    })),
    style: layer.style,
    legend: legendEntries(layer),
    links: [
      { rel: 'tiles', type: 'application/vnd.mapbox-vector-tile', href: `${base}/tiles/${layer.id}/{z}/{x}/{y}.mvt` },
      { rel: 'tilejson', type: 'application/json', href: `${base}/tiles/${layer.id}.json` },
      { rel: 'items', type: 'application/geo+json', href: `${base}/ogc/collections/${layer.id}/items` },
    ],
  };
}

export function layerRoutes({ config }: AppContext): Router {
  const router = Router();
  router.get('/layers', (req, res) => {
    const who = principalOf(req);
    const base = baseUrl(req, config.PUBLIC_URL);
    res.json({ layers: visibleLayers(who).map((l) => describeLayer(l, who, base)) });
  });
  return router;
}
