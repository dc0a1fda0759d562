import { Router, type Request } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { requestDb } from '../db/scoped.ts';
import { requireRole } from '../auth/middleware.ts';
import { parseInput } from '../http/validate.ts';
import { principalOf } from '../http/principal.ts';
import { baseUrl } from '../http/base-url.ts';
import { notFound } from '../http/problem.ts';
import { requestKeyOf } from '../http/idempotency-key.ts';
import { CANONICAL_ID } from '../http/numbers.ts';
import { getLayer, type LayerDef } from '../../catalog/layers.ts';
import { canSeeLayer, visibleProperties } from '../../catalog/access.ts';
import { featureSchema, writableProperties } from './feature-schema.ts';
import { propertySchema } from '../ogc/collections.ts';
import { assertGeometryInput, geometryLimits } from '../geo/geometry-input.ts';
import { EDITABLE_LAYERS, assertEditable, createFeature, deleteFeature, featureEtag, featureHistory, parseIfMatch, restoreFeature, updateFeature } from './feature-store.ts';

/**
 * OGC API – Features Part 4 (create, replace, update, delete) on the same
 * collection URLs as the reads, so QGIS can edit the one map; plus history and
 * restore of soft-deleted features.
 */
const params = z.object({
  collectionId: z.string(),
  featureId: z.string().regex(CANONICAL_ID, 'a feature id (positive integer, plain decimal)').transform(Number).optional(),
});

function layerFor(req: Request): LayerDef {
  const { collectionId } = parseInput(params, req.params, 'path');
  const layer = getLayer(collectionId);
  if (!layer || !canSeeLayer(layer, principalOf(req))) throw notFound(`no collection ${collectionId}`);
  return layer;
}

function featureIdOf(req: Request): number {
  return parseInput(params.required({ featureId: true }), req.params, 'path').featureId;
}

export function editRoutes({ db, config }: AppContext): Router {
  const router = Router();
  const limits = geometryLimits(config);
  const items = '/ogc/collections/:collectionId/items';
  const item = `${items}/:featureId`;

  // The schema of a collection's features for this caller (OGC API – Features Part 5 style): what
  // an edit form needs beyond the catalogue — required fields, bounds, which fields the server owns.
  router.get('/ogc/collections/:collectionId/schema', (req, res) => {
    const layer = layerFor(req);
    const who = principalOf(req);
    const writable = new Set(writableProperties(layer, who).map((p) => p.name));
    const properties: Record<string, unknown> = {};
    for (const prop of visibleProperties(layer, who)) {
      properties[prop.name] = {
        ...propertySchema(prop),
        ...(prop.min !== undefined ? { minimum: prop.min } : {}),
        ...(prop.max !== undefined ? { maximum: prop.max } : {}),
        ...(writable.has(prop.name) ? {} : { readOnly: true }),
      };
    }
    res.type('application/schema+json').json({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: `${baseUrl(req, config.PUBLIC_URL)}/ogc/collections/${layer.id}/schema`,
      type: 'object',
      title: `${layer.title.zh} / ${layer.title.en}`,
      'x-geometry': { point: 'Point', line: 'LineString', polygon: 'Polygon' }[layer.geometry],
      'x-editable': layer.table !== null && EDITABLE_LAYERS.has(layer.id),
      properties,
      required: visibleProperties(layer, who).filter((p) => p.required && writable.has(p.name)).map((p) => p.name),
    });
  });

  router.post(items, requireRole('editor'), async (req, res) => {
    const layer = layerFor(req);
    assertEditable(layer);
    const who = principalOf(req);
    const input = parseInput(featureSchema(layer, who, false), req.body, 'body');
    assertGeometryInput(input.geometry, 'geometry', limits);
    // Sent again after a lost answer, with the same Idempotency-Key: the feature created the first time.
    const key = await requestKeyOf(req, who, ['create', layer.id], JSON.stringify(req.body), 'another new feature (another layer, place or properties)');
    const stored = await createFeature(requestDb(db, req), layer, { properties: input.properties, geometry: input.geometry! }, who, key);
    if (stored.replayed) res.set('Idempotent-Replayed', 'true');
    res
      .status(201)
      .location(`${baseUrl(req, config.PUBLIC_URL)}/ogc/collections/${layer.id}/items/${stored.feature.id}`)
      .set('ETag', featureEtag(stored.version))
      .type('application/geo+json')
      .send(JSON.stringify(stored.feature));
  });

  for (const [method, mode] of [['put', 'replace'], ['patch', 'merge']] as const) {
    router[method](item, requireRole('editor'), async (req, res) => {
      const layer = layerFor(req);
      assertEditable(layer);
      const id = featureIdOf(req);
      const who = principalOf(req);
      const ifMatch = parseIfMatch(req.get('if-match'));
      const input = parseInput(featureSchema(layer, who, mode === 'merge'), req.body, 'body');
      if (input.geometry) assertGeometryInput(input.geometry, 'geometry', limits);
      const stored = await updateFeature(requestDb(db, req), layer, id, { properties: input.properties, geometry: input.geometry }, mode, ifMatch, who);
      res.set('ETag', featureEtag(stored.version)).type('application/geo+json').send(JSON.stringify(stored.feature));
    });
  }

  router.delete(item, requireRole('editor'), async (req, res) => {
    const layer = layerFor(req);
    await deleteFeature(requestDb(db, req), layer, featureIdOf(req), parseIfMatch(req.get('if-match')), principalOf(req));
    res.status(204).end();
  });

  router.post(`${item}/restore`, requireRole('editor'), async (req, res) => {
    const layer = layerFor(req);
    const stored = await restoreFeature(requestDb(db, req), layer, featureIdOf(req), principalOf(req));
    res.set('ETag', featureEtag(stored.version)).type('application/geo+json').send(JSON.stringify(stored.feature));
  });

  router.get(`${item}/history`, requireRole('viewer'), async (req, res) => {
    const layer = layerFor(req);
    const id = featureIdOf(req);
    const entries = await featureHistory(requestDb(db, req), layer, id, principalOf(req));
    if (!entries.length) throw notFound(`no history for ${layer.id} feature ${id}`);
    res.json({ collection: layer.id, id, history: entries });
  });
  return router;
}
