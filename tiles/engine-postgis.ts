import type { Db, QueryOptions } from '../catalog/ports.ts';
import { LAYERS, RISK_LEVELS, type LayerDef } from '../catalog/layers.ts';
import { ANONYMOUS } from '../catalog/access.ts';
import { EMPTY_LAYER, idIsProperty, TILE_DEFAULTS, tileProperties, type TileEngine, type TileGeometryOptions, type TileQuery } from './engine.ts';
import { filterColumn, FILTER_NAMES, type FilterName } from './filters.ts';
import { CLUSTER_FIELDS, cellsPerTile, layerHasLevel, pyramidLastZoom } from './cluster.ts';
import { ident } from '../catalog/sql-names.ts';
import { propertyExpr, propertySqlType } from './layer-sql.ts';
import { liveRowsPredicate, tableFactsOnce, type TableFacts, type TableFactsOnce } from '../catalog/table-facts.ts';
import { MERCATOR_HALF_WORLD } from './tile-coords.ts';
import { cellSizeSql, levelCountName, pointOfCellSql, pyramidCellsSql, pyramidFiltersSql, type PyramidFilter } from './pyramid-sql.ts';

/**
 * The PostGIS engine: ST_AsMVT / ST_AsMVTGeom on a real PostgreSQL server. The
 * SQL of every layer (per visibility: public callers, callers who may see
 * restricted fields) is built once, when the engine starts, from the registry; a
 * request only binds z/x/y and the filter values.
 *
 * Every table keeps its geometry in Web Mercator too (`geom3857`, generated, GiST
 * indexed; migration 008), so a tile is searched and drawn in its own coordinates:
 * the statement is the straightforward ST_AsMVT a competent user would write.
 *
 * Clustered point layers (same rule as the in-process engine, see cluster.ts):
 * - from `belowZoom` on, one statement draws the points unless the tile holds more
 *   than `denseTilePoints`, decided once (a one-time filter) from the count pyramid:
 *   the tile is one cell of the pyramid three zooms up (8 cells per tile), a few rows.
 *   Past the pyramid's reach a count that stops at `denseTilePoints + 1` decides. So a
 *   tile drawn point by point costs the straightforward ST_AsMVT plus an index probe;
 * - a dense tile answers `dense` and no features, and a second statement clusters it;
 *   below `belowZoom` that statement is the only one. The cells are clustered: mean
 *   position per cell, point_count, counts per level — read from the count pyramid
 *   up to its last zoom (z14), aggregated from the points past it.
 */
export interface LayerStatement {
  /**
   * Unclustered layers: the statement for every zoom. Clustered layers: the points of a tile
   * from `belowZoom` on, unless it is dense (past the pyramid's reach, counted from the table).
   */
  text: string;
  /**
   * Clustered layers, from `belowZoom` on: the points of the tile unless it is dense, the
   * density read from the count pyramid (the tile is one cell of the pyramid a few zooms up).
   * Both points statements return `dense` beside `mvt`; a dense tile's mvt is empty.
   */
  pointsText?: string;
  /** Clustered layers: the tile's clusters read from the count pyramid (z0 to its last zoom). */
  clusteredText?: string;
  /** Clustered layers: the tile's clusters aggregated from its points (dense tiles past the pyramid's last zoom). */
  aggregateText?: string;
  /** Which filters fill the parameters after the fixed ones. */
  filters: FilterName[];
  clustered: boolean;
}

export interface BoundStatement {
  text: string;
  values: unknown[];
}

export class PostgisEngine implements TileEngine {
  readonly kind = 'postgis' as const;
  private readonly opts: TileGeometryOptions;
  private statements?: Promise<Map<string, LayerStatement>>;

  constructor(
    private readonly db: Db,
    options: Partial<TileGeometryOptions> & {
      layers?: readonly LayerDef[];
      /** The app's schema facts (read here when not given). */
      tableFacts?: TableFactsOnce;
    } = {},
  ) {
    const { layers, tableFacts, ...rest } = options;
    this.opts = { ...TILE_DEFAULTS, ...rest };
    this.layers = layers ?? LAYERS;
    this.tableFacts = tableFacts ?? tableFactsOnce(db, this.layers);
  }

  private readonly layers: readonly LayerDef[];
  private readonly tableFacts: TableFactsOnce;

  /** Reads the schema once and builds every layer's statements; later calls reuse them. */
  start(): Promise<Map<string, LayerStatement>> {
    this.statements ??= this.tableFacts().then((info) => {
      const map = new Map<string, LayerStatement>();
      for (const layer of this.layers) {
        if (!layer.table) continue;
        for (const restricted of [false, true]) map.set(statementKey(layer.id, restricted), buildStatement(layer, info.get(layer.table), restricted, this.opts));
      }
      return map;
    });
    // A failed start (database not reachable) is retried by the next request.
    this.statements.catch(() => (this.statements = undefined));
    return this.statements;
  }

  /**
   * The statement and values that render `query` (what the bench runs directly to compare).
   * On a clustered layer from `belowZoom` on it draws the points and answers, in its `dense`
   * column, whether the tile holds too many of them to draw: then `bindClusters` renders it.
   */
  async bind({ layer, tile, filters, who }: TileQuery): Promise<BoundStatement> {
    const stmt = await this.statement(layer, who);
    const filterValues = stmt.filters.map((name) => (filters[name] ? [...filters[name]!] : null));
    // $1-$3 z/x/y, $4 the buffer as a fraction of the tile (the search margin of drawn features).
    const values: unknown[] = [tile.z, tile.x, tile.y, this.opts.buffer / this.opts.extent];
    if (!stmt.clustered) return { text: stmt.text, values: [...values, ...filterValues] };
    if (tile.z < layer.cluster!.belowZoom) return this.bindClusters({ layer, tile, filters, who });
    // $5 the dense-tile limit, filters from $6.
    const text = densityFromPyramid(layer, tile.z) ? stmt.pointsText! : stmt.text;
    return { text, values: [...values, this.opts.denseTilePoints, ...filterValues] };
  }

  /** A clustered layer's tile as clusters: from the pyramid up to its last zoom, past it aggregated from the points. */
  async bindClusters({ layer, tile, filters, who }: TileQuery): Promise<BoundStatement> {
    const stmt = await this.statement(layer, who);
    const filterValues = stmt.filters.map((name) => (filters[name] ? [...filters[name]!] : null));
    // $1-$3 z/x/y, $4 buffer fraction, $5 cells per tile, filters from $6.
    const values: unknown[] = [tile.z, tile.x, tile.y, this.opts.buffer / this.opts.extent, cellsPerTile(layer.cluster!), ...filterValues];
    const text = tile.z <= pyramidLastZoom(layer.cluster!) ? stmt.clusteredText! : stmt.aggregateText!;
    return { text, values };
  }

  private async statement(layer: LayerDef, who: TileQuery['who']): Promise<LayerStatement> {
    const stmt = (await this.start()).get(statementKey(layer.id, who.canSeeRestricted));
    if (!stmt) throw new Error(`layer ${layer.id} has no table to tile`);
    return stmt;
  }

  async renderLayer(query: TileQuery): Promise<Uint8Array> {
    const { text, values } = await this.bind(query);
    const options: QueryOptions = query.scope ? { ...PREPARED, scope: query.scope } : PREPARED;
    let r = await this.db.query<{ mvt: Uint8Array | null; dense?: boolean }>(text, values, options);
    if (r.rows[0]?.dense) {
      // Too many points to draw: the tile is clustered (a second, small statement).
      const clusters = await this.bindClusters(query);
      r = await this.db.query<{ mvt: Uint8Array | null }>(clusters.text, clusters.values, options);
    }
    const mvt = r.rows[0]?.mvt;
    return mvt && mvt.length ? mvt : EMPTY_LAYER;
  }

  featureChanged(): void {
    // Every tile is read from the database; nothing to refresh.
  }
}

// The statements are the few texts built at start(), run for every uncached tile: prepared once
// per connection, PostgreSQL parses them once instead of per tile (catalog/ports.ts QueryOptions).
const PREPARED = { prepare: true } as const;

function statementKey(layerId: string, restricted: boolean): string {
  return `${layerId}|${restricted ? 'all' : 'public'}`;
}

const W = MERCATOR_HALF_WORLD;

export function buildStatement(layer: LayerDef, info: TableFacts | undefined, restricted: boolean, opts: TileGeometryOptions): LayerStatement {
  const props = tileProperties(layer, { ...ANONYMOUS, canSeeRestricted: restricted });
  const table = ident(layer.table!);
  const name = layer.id.replace(/'/g, "''");
  const textId = idIsProperty(layer);
  const filters = FILTER_NAMES.filter((f) => filterColumn(layer, f) !== null);
  const clustered = !!layer.cluster && layer.geometry === 'point';
  const propCols = props.map((p) => `${propertyExpr(p)} AS ${ident(p.name)}`);
  const idCol = `t.id${textId ? '::text' : ''} AS id`;
  const asMvt = `ST_AsMVT(mvt, '${name}', ${opts.extent}, 'geom'${textId ? '' : ", 'id'"})`;
  const env = `ST_TileEnvelope($1::int, $2::int, $3::int)`;
  // The tile grown by the buffer: what can reach the drawn area (ST_AsMVTGeom drops the rest).
  const searchEnv = `ST_TileEnvelope($1::int, $2::int, $3::int, margin => $4::float8)`;
  // No `WHERE geom IS NOT NULL` around it: ST_AsMVT skips rows whose geometry is NULL (the
  // bytes are the same), and PostgreSQL pushes such a condition down into the scan, where it
  // computes ST_AsMVTGeom a second time for every row: 0.2–0.4 ms on a tile of 437 points.
  const geom = (g: string) => `ST_AsMVTGeom(${g}, ${env}, ${opts.extent}, ${opts.buffer}, true)`;
  const where = (first: number, alias = 't') =>
    `true${liveRowsPredicate(info, alias)}` +
    filters.map((f, i) => ` AND ($${first + i}::text[] IS NULL OR ${alias}.${ident(filterColumn(layer, f)!)} = ANY($${first + i}::text[]))`).join('');

  if (!clustered) {
    // $1-$3 z/x/y, $4 buffer fraction, filters from $5.
    const text = `SELECT ${asMvt} AS mvt FROM (
  SELECT ${[idCol, ...propCols].join(', ')}, ${geom('t.geom3857')} AS geom
    FROM ${table} t
   WHERE t.geom3857 && ${searchEnv} AND ${where(5)}
) mvt`;
    return { text, filters, clustered };
  }

  // Individual points carry the cluster columns as NULLs (not encoded), so every
  // tile of the layer has the same columns whichever way it is drawn.
  const hasLevel = layerHasLevel(layer);
  const clusterNames = [CLUSTER_FIELDS.cluster, CLUSTER_FIELDS.pointCount, ...(hasLevel ? RISK_LEVELS : []), CLUSTER_FIELDS.highestLevel].map(ident);
  const clusterTypes = ['boolean', 'int8', ...(hasLevel ? RISK_LEVELS.map(() => 'int8') : []), 'text'];
  const pointCols = [idCol, ...propCols, ...clusterNames.map((c, i) => `NULL::${clusterTypes[i]} AS ${c}`)];
  const clusterValues = [
    `NULL${textId ? '::text' : '::int8'}`,
    ...props.map((p) => `NULL::${propertySqlType(p)}`),
    'true',
    'c.n',
    ...(hasLevel ? RISK_LEVELS.map((_, i) => `c.${levelCountName(i)}`) : []),
    hasLevel ? `CASE ${RISK_LEVELS.map((l, i) => `WHEN c.${levelCountName(i)} > 0 THEN '${l}'`).join(' ')} END` : 'NULL::text',
  ];
  const columns = ['id', ...props.map((p) => ident(p.name)), ...clusterNames].map((c) => `f.${c}`).join(', ');

  // Cells are numbered over the whole world at this zoom: cx = floor((x + W) / cell size),
  // $5 cells per tile. The search box is the tile plus one cell, so every cell that can
  // reach the buffer is complete. Single-point cells show the point itself.
  const cell = cellSizeSql('$1', '$5');
  const cellsOf = (first: number) => `pts AS (
  SELECT t.id${hasLevel ? ', t.level' : ''}, ST_X(t.geom3857) AS mx, ST_Y(t.geom3857) AS my,
         floor((ST_X(t.geom3857) + ${W}) / ${cell}) AS cx, floor((${W} - ST_Y(t.geom3857)) / ${cell}) AS cy
    FROM ${table} t
   WHERE t.geom3857 && ST_TileEnvelope($1::int, $2::int, $3::int, margin => 1.0 / $5::int) AND $4::float8 >= 0 AND ${where(first)}
), cells AS (
  SELECT k.cx, k.cy, count(*) AS n, avg(k.mx) AS mx, avg(k.my) AS my, min(k.id) AS one_id
         ${hasLevel ? RISK_LEVELS.map((l, i) => `, count(*) FILTER (WHERE k.level = '${l}') AS ${levelCountName(i)}`).join('') : ''}
    FROM pts k
   WHERE k.cx BETWEEN $2::int * $5::int - 1 AND ($2::int + 1) * $5::int
     AND k.cy BETWEEN $3::int * $5::int - 1 AND ($3::int + 1) * $5::int
   GROUP BY k.cx, k.cy
)`;
  const clusterFeatures = `SELECT ${pointCols.join(', ')}, t.geom3857 AS g
    FROM cells c JOIN ${table} t ON t.id = c.one_id WHERE c.n = 1
  UNION ALL
  SELECT ${clusterValues.join(', ')}, ST_SetSRID(ST_MakePoint(c.mx, c.my), 3857)
    FROM cells c WHERE c.n > 1`;

  // The count pyramid (tile_cluster_cells, kept by triggers; migrations 008, 011): per
  // cell, the rows of the filtered levels and districts are summed. A cell holding a
  // single point shows that point, found through the index inside the cell. Every tile
  // below belowZoom reads it, and so does a dense tile from belowZoom to its last zoom.
  // $1-$3 z/x/y, $4 buffer fraction (typed only), $5 cells per tile, filters from `first`.
  const pyramidFilters = (first: number): PyramidFilter[] =>
    filters.map((f, i) => ({ column: f === 'level' ? 'level' : 'district', values: `$${first + i}::text[]` }));
  // ($4, the buffer, is not used here, but every statement of a layer takes the same parameters.)
  const pyramidCells = `cells AS (
  SELECT p.*, p.sx / p.n AS mx, p.sy / p.n AS my FROM (${pyramidCellsSql({
    layer: `'${name}'`,
    z: '$1::int',
    cx: ['$2::int * $5::int - 1', '($2::int + 1) * $5::int'],
    cy: ['$3::int * $5::int - 1', '($3::int + 1) * $5::int'],
    filters: pyramidFilters(6),
    levels: hasLevel,
  })}) p WHERE $4::float8 >= 0
)`;
  const pyramidFeatures = `SELECT ${pointCols.join(', ')}, t.geom3857 AS g
    FROM cells c CROSS JOIN LATERAL (
      ${pointOfCellSql(table, cell, where(6))}) t
  UNION ALL
  SELECT ${clusterValues.join(', ')}, ST_SetSRID(ST_MakePoint(c.mx, c.my), 3857)
    FROM cells c WHERE c.n > 1`;
  const asTile = `SELECT ${asMvt} AS mvt FROM (
  SELECT ${columns}, ${geom('f.g')} AS geom FROM features f
) mvt`;
  const clusteredText = `WITH ${pyramidCells}, features AS (
  ${pyramidFeatures}
)
${asTile}`;
  // Past the pyramid's last zoom a dense tile's points are aggregated (same parameters).
  const aggregateText = `WITH ${cellsOf(6)}, features AS (
  ${clusterFeatures}
)
${asTile}`;

  // From belowZoom on, the points of the tile, drawn one by one unless there are more than
  // $5 (the dense-tile limit; filters from $6): then the statement answers dense = true and
  // no features, and the engine asks for the clusters. The density is evaluated once (an
  // InitPlan, so a one-time filter switches the points off). The points carry the cluster
  // columns as NULLs (not encoded), so every tile of the layer has the same columns.
  // A point belongs to the tile its cell lies in, as in the in-process engine. Cells nest
  // across zooms and a tile is 2^k cells wide, so the tile is exactly one cell of the pyramid
  // k zooms up: its density is that cell's few rows (one per level and district).
  const k = Math.log2(cellsPerTile(layer.cluster!));
  const denseFromPyramid = `dense AS (
  SELECT coalesce(sum(c.n), 0) > $5::int AS yes FROM tile_cluster_cells c
   WHERE c.layer = '${name}' AND c.z = $1::int - ${k} AND c.cx = $2::int AND c.cy = $3::int${pyramidFiltersSql(pyramidFilters(6))}
)`;
  // ...past the pyramid's reach, a count of the table that stops at the limit + 1.
  const denseFromCount = `dense AS (
  SELECT count(*) > $5::int AS yes FROM (
    SELECT 1 FROM ${table} d WHERE d.geom3857 && ${env} AND ${where(6, 'd')} LIMIT $5::int + 1) s
)`;
  const pointsUnlessDense = (dense: string) => `WITH ${dense}
SELECT (SELECT yes FROM dense) AS dense, ${asMvt} AS mvt FROM (
  SELECT ${pointCols.join(', ')}, ${geom('t.geom3857')} AS geom
    FROM ${table} t
   WHERE NOT (SELECT yes FROM dense) AND t.geom3857 && ${searchEnv} AND ${where(6)}
) mvt`;
  return { text: pointsUnlessDense(denseFromCount), pointsText: pointsUnlessDense(denseFromPyramid), clusteredText, aggregateText, filters, clustered };
}

/**
 * Whether the density of tile z/x/y can be read from the count pyramid: the tile is one
 * cell k zooms up (2^k cells per tile), which the pyramid holds up to its last zoom.
 */
export function densityFromPyramid(layer: LayerDef, z: number): boolean {
  const up = z - Math.log2(cellsPerTile(layer.cluster!));
  return up >= 0 && up <= pyramidLastZoom(layer.cluster!);
}
