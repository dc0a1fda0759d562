import type { Geometry } from 'geojson';
import type { Db } from '../catalog/ports.ts';
import type { LayerDef } from '../catalog/layers.ts';
import { idIsProperty } from './engine.ts';
import { ident } from '../catalog/sql-names.ts';
import { propertyExpr } from './layer-sql.ts';
import { liveRowsPredicate, readTableFacts, type TableFacts } from '../catalog/table-facts.ts';
import { LAYERS } from '../catalog/layers.ts';
import { ComputedSources } from '../catalog/computed-sources.ts';

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
  /** Every live feature of the layer. */
  loadLayer(layer: LayerDef): Promise<SourceFeature[]>;
  /** One feature by id, or null when it no longer exists (deleted). */
  loadFeature(layer: LayerDef, id: number | string): Promise<SourceFeature | null>;
}

interface FeatureRow {
  id: number | string;
  geojson: string;
  [prop: string]: unknown;
}

export class DbFeatureSource implements FeatureSource {
  private tableInfo?: Promise<Map<string, TableFacts>>;

  constructor(
    private readonly db: Db,
    private readonly layers: readonly LayerDef[] = LAYERS,
    /** Where computed layers come from (the server registers them). */
    private readonly computed: ComputedSources = new ComputedSources(),
  ) {}

  private async select(layer: LayerDef, where: string, params: unknown[]): Promise<SourceFeature[]> {
    if (!layer.table) {
      const computed = (await this.computed.get(layer.id)?.features()) ?? [];
      // Text ids of computed features are also their `id` property.
      return computed.map((f) => ({ id: String(f.id), properties: { id: String(f.id), ...f.properties }, geometry: f.geometry }));
    }
    this.tableInfo ??= readTableFacts(this.db, this.layers);
    const info = (await this.tableInfo).get(layer.table);
    const props = layer.properties.map((p) => `${propertyExpr(p)} AS ${ident(p.name)}`);
    // 9 decimals of a degree is 0.1 mm: below one tile unit at every zoom we serve.
    const sql = `SELECT t.id, ${props.join(', ')}, ST_AsGeoJSON(t.geom, 9) AS geojson
                   FROM ${ident(layer.table)} t WHERE true${liveRowsPredicate(info)}${where} ORDER BY t.id`;
    const rows = await this.db.query<FeatureRow>(sql, params);
    return rows.rows.map((row) => toFeature(layer, row));
  }

  loadLayer(layer: LayerDef): Promise<SourceFeature[]> {
    return this.select(layer, '', []);
  }

  async loadFeature(layer: LayerDef, id: number | string): Promise<SourceFeature | null> {
    if (!layer.table) return (await this.loadLayer(layer)).find((f) => f.id === id) ?? null;
    const cast = layer.idType === 'integer' ? '::int8' : '::text';
    const [feature] = await this.select(layer, ` AND t.id = $1${cast}`, [String(id)]);
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
