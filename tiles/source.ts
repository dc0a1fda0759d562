import type { Geometry } from 'geojson';
import type { Db, StatementScope } from '../catalog/ports.ts';
import type { LayerDef } from '../catalog/layers.ts';
import { idIsProperty } from './engine.ts';
import { ident } from '../catalog/sql-names.ts';
import { propertyExpr } from './layer-sql.ts';
import { liveRowsPredicate, tableFactsOnce, type TableFacts, type TableFactsOnce } from '../catalog/table-facts.ts';
import { LAYERS, RISK_LEVELS } from '../catalog/layers.ts';
import { ComputedSources } from '../catalog/computed-sources.ts';
import { filterColumn, type TileFilters } from './filters.ts';
import { layerHasLevel } from './cluster.ts';
import { cellSizeSql, levelCountName, pointOfCellSql, pyramidCellsSql } from './pyramid-sql.ts';

/**
 * Where the in-process engine gets its features: the database (DbFeatureSource,
 * tables and computed layers) or plain arrays (MemoryFeatureSource, for synthetic layers in tests and benches).
 * Properties are every registry property of the layer, restricted ones included;
 * the engine drops what a caller may not see when it encodes a tile.
 */
export interface SourceFeature {
  id: number | string;
  properties: Record<string, unknown>;
  geometry: Geometry;
}

export interface FeatureSource {
  /** Every live feature of the layer; `scope`: the request it is read for (none: nobody's). */
  loadLayer(layer: LayerDef, scope?: StatementScope): Promise<SourceFeature[]>;
  /** One feature by id, or null when it no longer exists (deleted). */
  loadFeature(layer: LayerDef, id: number | string, scope?: StatementScope): Promise<SourceFeature | null>;
}

/**
 * A cell of a clustered layer's count pyramid (tile_cluster_cells) as a tile reads
 * it: the live points of the cell that pass the tile's filters.
 */
export interface PyramidCell {
  cx: number;
  cy: number;
  n: number;
  /** Sums of the points' Web Mercator coordinates (metres). */
  mx: number;
  my: number;
  /** Points per risk level (RISK_LEVELS order); zeros on a layer without levels. */
  levels: number[];
  /** The point itself when the cell holds one. */
  point?: SourceFeature;
}

/** Cells cx0..cx1 × cy0..cy1 (inclusive) of one zoom. */
export interface CellBox {
  cx0: number;
  cx1: number;
  cy0: number;
  cy1: number;
}

/** A source that can read the count pyramid of clustered point layers (the database's). */
export interface PyramidSource {
  /**
   * The non-empty cells of zoom `z` (`cellsPerTile` cells per tile side) in
   * [cx0, cx1] × [cy0, cy1], each with its point when it holds one, in one snapshot.
   */
  pyramidCells(layer: LayerDef, z: number, cellsPerTile: number, box: CellBox, filters: TileFilters, scope?: StatementScope): Promise<PyramidCell[]>;
}

export function isPyramidSource(source: FeatureSource): source is FeatureSource & PyramidSource {
  return typeof (source as Partial<PyramidSource>).pyramidCells === 'function';
}

interface FeatureRow {
  id: number | string;
  geojson: string;
  [prop: string]: unknown;
}

export class DbFeatureSource implements FeatureSource {
  constructor(
    private readonly db: Db,
    private readonly layers: readonly LayerDef[] = LAYERS,
    /** Where computed layers come from (the server registers them). */
    private readonly computed: ComputedSources = new ComputedSources(),
    /** The app's schema facts (read here when not given). */
    private readonly tableFacts: TableFactsOnce = tableFactsOnce(db, layers),
  ) {}

  private async select(layer: LayerDef, where: string, params: unknown[], scope: StatementScope | undefined): Promise<SourceFeature[]> {
    if (!layer.table) {
      const computed = (await this.computed.get(layer.id)?.features(undefined, scope)) ?? [];
      // Text ids of computed features are also their `id` property.
      return computed.map((f) => ({ id: String(f.id), properties: { id: String(f.id), ...f.properties }, geometry: f.geometry }));
    }
    const info = (await this.tableFacts(scope)).get(layer.table);
    const props = layer.properties.map((p) => `${propertyExpr(p)} AS ${ident(p.name)}`);
    // 9 decimals of a degree is 0.1 mm: below one tile unit at every zoom we serve.
    const sql = `SELECT t.id, ${props.join(', ')}, ST_AsGeoJSON(t.geom, 9) AS geojson
                   FROM ${ident(layer.table)} t WHERE true${liveRowsPredicate(info)}${where} ORDER BY t.id`;
    const rows = await this.db.query<FeatureRow>(sql, params, { scope });
    return rows.rows.map((row) => toFeature(layer, row));
  }

  loadLayer(layer: LayerDef, scope?: StatementScope): Promise<SourceFeature[]> {
    return this.select(layer, '', [], scope);
  }

  /**
   * The pyramid's rows of the cells, summed over the levels and districts the
   * filters allow (the pyramid is kept per level and district for them); a cell
   * of one point brings that point, found through the index inside the cell, with
   * the properties `loadLayer` gives it. The statement of the ST_AsMVT engine's
   * clustered tiles (tiles/engine-postgis.ts), returning rows instead of a tile.
   */
  async pyramidCells(layer: LayerDef, z: number, cellsPerTile: number, box: CellBox, filters: TileFilters, scope?: StatementScope): Promise<PyramidCell[]> {
    if (!layer.table || !layer.cluster) throw new Error(`layer ${layer.id} has no count pyramid`);
    const info = (await this.tableFacts(scope)).get(layer.table);
    const hasLevel = layerHasLevel(layer);
    const levelColumn = filterColumn(layer, 'level');
    const districtColumn = filterColumn(layer, 'district');
    // $1 layer, $2 z, $3 cells per tile, $4-$7 the box, $8 levels, $9 districts (null: all).
    const props = layer.properties.map((p) => `${propertyExpr(p)} AS ${ident(p.name)}`);
    const pointFilters =
      `true${liveRowsPredicate(info)}` +
      (levelColumn ? ` AND ($8::text[] IS NULL OR t.${ident(levelColumn)} = ANY($8::text[]))` : '') +
      (districtColumn ? ` AND ($9::text[] IS NULL OR t.${ident(districtColumn)} = ANY($9::text[]))` : '');
    const cells = pyramidCellsSql({
      layer: '$1',
      z: '$2::int',
      cx: ['$4::int', '$5::int'],
      cy: ['$6::int', '$7::int'],
      filters: [
        { column: 'level', values: '$8::text[]' },
        { column: 'district', values: '$9::text[]' },
      ],
      levels: hasLevel,
    });
    const sql = `WITH cells AS (${cells})
SELECT c.*, t.id, ${props.join(', ')}, ST_AsGeoJSON(t.geom, 9) AS geojson
  FROM cells c LEFT JOIN LATERAL (
    ${pointOfCellSql(ident(layer.table), cellSizeSql('$2', '$3'), pointFilters)}) t ON true`;
    const rows = await this.db.query<FeatureRow & { cx: number; cy: number; n: number; sx: number; sy: number; [level: `level_${number}`]: number }>(sql, [
      layer.id,
      z,
      cellsPerTile,
      box.cx0,
      box.cx1,
      box.cy0,
      box.cy1,
      levelColumn && filters.level ? [...filters.level] : null,
      districtColumn && filters.district ? [...filters.district] : null,
    ], { scope });
    return rows.rows.map((r) => ({
      cx: Number(r.cx),
      cy: Number(r.cy),
      n: Number(r.n),
      mx: Number(r.sx),
      my: Number(r.sy),
      levels: RISK_LEVELS.map((_, i) => (hasLevel ? Number(r[levelCountName(i) as `level_${number}`]) : 0)),
      ...(r.id !== null && r.id !== undefined ? { point: toFeature(layer, r) } : {}),
    }));
  }

  async loadFeature(layer: LayerDef, id: number | string, scope?: StatementScope): Promise<SourceFeature | null> {
    if (!layer.table) return (await this.loadLayer(layer, scope)).find((f) => f.id === id) ?? null;
    const cast = layer.idType === 'integer' ? '::int8' : '::text';
    const [feature] = await this.select(layer, ` AND t.id = $1${cast}`, [String(id)], scope);
    return feature ?? null;
  }
}

function toFeature(layer: LayerDef, row: FeatureRow): SourceFeature {
  const properties: Record<string, unknown> = {};
  if (idIsProperty(layer)) properties.id = row.id;
  for (const p of layer.properties) properties[p.name] = row[p.name] ?? null;
  return { id: layer.idType === 'integer' ? Number(row.id) : String(row.id), properties, geometry: JSON.parse(row.geojson) };
}

/** Features held in memory, keyed by layer id; `set`/`delete` then `featureChanged` mimic a write. */
export class MemoryFeatureSource implements FeatureSource {
  private readonly byLayer = new Map<string, Map<number | string, SourceFeature>>();

  constructor(initial: Record<string, SourceFeature[]> = {}) {
    for (const [layer, features] of Object.entries(initial)) for (const f of features) this.set(layer, f);
  }

  set(layerId: string, feature: SourceFeature): void {
    let m = this.byLayer.get(layerId);
    if (!m) this.byLayer.set(layerId, (m = new Map()));
    m.set(feature.id, feature);
  }

  delete(layerId: string, id: number | string): void {
    this.byLayer.get(layerId)?.delete(id);
  }

  async loadLayer(layer: LayerDef): Promise<SourceFeature[]> {
    return [...(this.byLayer.get(layer.id)?.values() ?? [])];
  }

  async loadFeature(layer: LayerDef, id: number | string): Promise<SourceFeature | null> {
    return this.byLayer.get(layer.id)?.get(id) ?? null;
  }
}
