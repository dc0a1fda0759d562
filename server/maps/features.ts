import type { Geometry, MultiPolygon, Polygon } from 'geojson';
import type { Db, StatementScope } from '../db/types.ts';
import { badRequest } from '../http/problem.ts';
import { getLayer, type Bilingual, type LayerDef } from '../../catalog/layers.ts';
import type { ComputedSources } from '../../catalog/computed-sources.ts';
import { liveRowsPredicate, type TableFacts } from '../../catalog/table-facts.ts';
import type { MapArea, UnitLayer } from './area.ts';
import type { BBox } from './params.ts';

/**
 * Reads what a static map draws: the features of each requested layer inside the
 * area, and the administrative units drawn for orientation. Table and column
 * names come from the layer registry, never from the request; the request only
 * supplies parameters. Soft-deleted rows (`deleted_at` set) are never drawn.
 */
export interface MapFeature {
  id: string | number;
  /** Value of the registry's colour property (e.g. `level`), null when the layer has one colour. */
  styleValue: string | null;
  synthetic: boolean;
  geometry: Geometry;
}

export interface LayerFeatures {
  layer: LayerDef;
  features: MapFeature[];
}

export interface UnitFeature {
  id: string;
  name: Bilingual;
  synthetic: boolean;
  geometry: Polygon | MultiPolygon;
  /** A point inside the unit (ST_PointOnSurface) for its label. */
  labelAt: [number, number];
}

export interface ContextUnits {
  layer: UnitLayer;
  units: UnitFeature[];
  labelled: boolean;
}

/** SQL fragment limiting `t.geom` to the area: its outline when it has one, else the envelope. */
function areaFilter(area: MapArea, params: unknown[]): string {
  if (!area.unitLayer || area.request.kind === 'bbox') return '';
  params.push(area.request.id);
  return ` AND ST_Intersects(t.geom, (SELECT a.geom FROM ${area.unitLayer} a WHERE a.id = $${params.length}))`;
}

/** The query parameter that chose the area: named in a 400 when the area holds too much. */
function areaParam(area: MapArea): string {
  return area.request.kind;
}

/**
 * One table layer's features as PostgreSQL wrote them: a single JSON text,
 * `[[id, styleValue, synthetic, x, y], …]` for points and `[[id, styleValue,
 * synthetic, geometry], …]` otherwise. A map may hold tens of thousands of
 * features; one text costs the main thread nothing, and the worker that
 * composes the map parses it (parseLayerFeatures).
 */
export interface LayerFeatureText {
  layer: LayerDef;
  count: number;
  json: string;
}

/**
 * Features of `layers` inside the area (or the envelope `extent` for a bbox map),
 * in id order so the same data always draws the same image. Refuses (400) when
 * together they exceed `maxFeatures`, reading at most one row more than that.
 */
export async function loadLayerFeatureTexts(
  db: Db,
  facts: Map<string, TableFacts>,
  layers: readonly LayerDef[],
  area: MapArea,
  extent: BBox,
  maxFeatures: number,
): Promise<LayerFeatureText[]> {
  const result: LayerFeatureText[] = [];
  let budget = maxFeatures;
  for (const layer of layers) {
    if (!layer.table) continue;
    // Only tables with `deleted_at` get the soft-delete filter, only those with `synthetic` report it.
    const table = facts.get(layer.table);
    const styleColumn = layer.style.by && table?.columns.has(layer.style.by.property) ? `t.${layer.style.by.property}::text` : 'NULL::text';
    const syntheticColumn = table?.synthetic ? 't.synthetic' : 'false';
    // Numbers are written by the same output functions as in a row, so they parse to the same values.
    const geometryColumns = layer.geometry === 'point' ? 'ST_X(t.geom), ST_Y(t.geom)' : 'ST_AsGeoJSON(t.geom, 6)::json';
    const params: unknown[] = [...extent];
    let sql = `SELECT t.id, json_build_array(t.id, ${styleColumn}, ${syntheticColumn}, ${geometryColumns}) AS f
                 FROM ${layer.table} t
                WHERE t.geom && ST_MakeEnvelope($1, $2, $3, $4, 4326)`;
    sql += areaFilter(area, params);
    sql += liveRowsPredicate(table);
    params.push(budget + 1);
    sql += ` ORDER BY t.id LIMIT $${params.length}`;
    const { rows } = await db.query<{ n: number; features: string }>(
      `SELECT count(*)::int AS n, COALESCE(json_agg(f ORDER BY id), '[]')::text AS features FROM (${sql}) x`,
      params,
    );
    const count = Number(rows[0].n);
    if (count > budget) {
      throw badRequest(
        areaParam(area),
        `the area holds more than ${maxFeatures} features of the requested layers; choose a smaller area or fewer layers`,
      );
    }
    budget -= count;
    result.push({ layer, count, json: rows[0].features });
  }
  return result;
}

/** The features of a LayerFeatureText's JSON text. */
export function parseLayerFeatures(json: string, geometry: LayerDef['geometry']): MapFeature[] {
  const rows = JSON.parse(json) as [string | number, string | null, boolean, ...unknown[]][];
  return rows.map((r) => ({
    id: r[0],
    styleValue: r[1],
    synthetic: r[2] === true,
    geometry: geometry === 'point' ? { type: 'Point', coordinates: [Number(r[3]), Number(r[4])] } : (r[3] as Geometry),
  }));
}

/**
 * Features of computed layers (no table) from their registered sources, for the
 * districts of the area or, on a bbox map, those the frame touches. They are the
 * analysis's own answers, so they do not count against the feature cap.
 */
export async function loadComputedFeatures(
  computed: ComputedSources,
  layers: readonly LayerDef[],
  area: MapArea,
  extent: BBox,
  /** The request the map is drawn for (none: nobody's). */
  scope: StatementScope | undefined,
): Promise<LayerFeatures[]> {
  const result: LayerFeatures[] = [];
  for (const layer of layers) {
    const source = layer.table ? undefined : computed.get(layer.id);
    if (!source) continue;
    const features = await source.features(area.districtId ? { district: area.districtId } : { bbox: extent }, scope);
    const by = layer.style.by?.property;
    result.push({
      layer,
      features: features.map((f) => ({
        id: f.id,
        styleValue: by && f.properties[by] != null ? String(f.properties[by]) : null,
        synthetic: f.properties.synthetic === true,
        geometry: f.geometry,
      })),
    });
  }
  return result;
}

/**
 * Administrative units drawn for orientation: the finer units of the area
 * (streets of a district, communities of a street), or, on a bbox map, the
 * districts and streets it touches.
 */
export async function loadContextUnits(db: Db, area: MapArea, extent: BBox): Promise<ContextUnits[]> {
  const select = (table: UnitLayer) =>
    `SELECT t.id, t.name_zh, t.name_en, t.synthetic, ST_AsGeoJSON(t.geom, 6) AS geojson,
            ST_X(ST_PointOnSurface(t.geom)) AS lx, ST_Y(ST_PointOnSurface(t.geom)) AS ly
       FROM ${table} t`;
  type Row = { id: string; name_zh: string; name_en: string; synthetic: boolean; geojson: string; lx: number; ly: number };
  const toUnits = (rows: Row[]): UnitFeature[] =>
    rows.map((r) => ({
      id: r.id,
      name: { zh: r.name_zh, en: r.name_en },
      synthetic: r.synthetic === true,
      geometry: JSON.parse(r.geojson) as Polygon | MultiPolygon,
      labelAt: [Number(r.lx), Number(r.ly)],
    }));

  if (area.request.kind !== 'bbox') {
    if (!area.children) return [];
    const { layer, column } = area.children;
    const { rows } = await db.query<Row>(`${select(layer)} WHERE t.${column} = $1 ORDER BY t.id`, [area.request.id]);
    return [{ layer, units: toUnits(rows), labelled: true }];
  }
  const envelope = 'WHERE t.geom && ST_MakeEnvelope($1, $2, $3, $4, 4326) ORDER BY t.id LIMIT 2000';
  const districts = await db.query<Row>(`${select('districts')} ${envelope}`, [...extent]);
  const streets = await db.query<Row>(`${select('streets')} ${envelope}`, [...extent]);
  return [
    { layer: 'streets', units: toUnits(streets.rows), labelled: true },
    { layer: 'districts', units: toUnits(districts.rows), labelled: false },
  ];
}

/** The registry entry of an administrative layer (always present). */
export function unitLayerDef(layer: UnitLayer): LayerDef {
  return getLayer(layer)!;
}
