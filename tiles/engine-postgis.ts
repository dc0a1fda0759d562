import type { Db } from '../server/db/types.ts';
import { ANONYMOUS, LAYERS, RISK_LEVELS, type LayerDef } from './layers.ts';
import { EMPTY_LAYER, idIsProperty, TILE_DEFAULTS, tileProperties, type TileEngine, type TileGeometryOptions, type TileQuery } from './engine.ts';
import { filterColumn, FILTER_NAMES, type FilterName } from './filters.ts';
import { CLUSTER_FIELDS, cellsPerTile, layerHasLevel } from './cluster.ts';
import { ident, liveRowsPredicate, propertyExpr, propertySqlType, readTableInfo, type TableInfo } from './layer-sql.ts';
import { MERCATOR_HALF_WORLD, worldXToLon, worldYToLat, type TileCoord } from './tile-coords.ts';

/**
 * The PostGIS engine: ST_AsMVT / ST_AsMVTGeom on a real PostgreSQL server. The
 * SQL of every layer (one statement per layer and visibility: public callers,
 * callers who may see restricted fields) is built once, when the engine starts,
 * from the registry; a request only binds z/x/y and the filter values.
 *
 * Clustered layers use one statement that decides per tile, in SQL, between
 * individual points and grid clusters with the same rule as the in-process engine
 * (see cluster.ts): mean position per cell, point_count, counts per level.
 */
export interface LayerStatement {
  text: string;
  /** Which filters fill the parameters after z/x/y, the search box and (clusters) the cell parameters. */
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
    options: Partial<TileGeometryOptions> & { layers?: readonly LayerDef[] } = {},
  ) {
    const { layers, ...rest } = options;
    this.opts = { ...TILE_DEFAULTS, ...rest };
    this.layers = layers ?? LAYERS;
  }

  private readonly layers: readonly LayerDef[];

  /** Reads the schema once and builds every layer's statements; later calls reuse them. */
  start(): Promise<Map<string, LayerStatement>> {
    this.statements ??= readTableInfo(this.db, this.layers).then((info) => {
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

  /** The statement and values that render `query`: what the bench runs directly to compare. */
  async bind({ layer, tile, filters, who }: TileQuery): Promise<BoundStatement> {
    const stmt = (await this.start()).get(statementKey(layer.id, who.canSeeRestricted));
    if (!stmt) throw new Error(`layer ${layer.id} has no table to tile`);
    const n = stmt.clustered ? cellsPerTile(layer.cluster!) : 0;
    // Points are searched one cell beyond the tile (whole neighbour cells), other features one buffer beyond.
    const margin = stmt.clustered ? 1 / n : this.opts.buffer / this.opts.extent;
    const values: unknown[] = [tile.z, tile.x, tile.y, ...searchBox(tile, margin)];
    if (stmt.clustered) values.push(n, tile.z < layer.cluster!.belowZoom, this.opts.denseTilePoints);
    for (const name of stmt.filters) values.push(filters[name] ? [...filters[name]!] : null);
    return { text: stmt.text, values };
  }

  async renderLayer(query: TileQuery): Promise<Uint8Array> {
    const { text, values } = await this.bind(query);
    const r = await this.db.query<{ mvt: Uint8Array | null }>(text, values);
    const mvt = r.rows[0]?.mvt;
    return mvt && mvt.length ? mvt : EMPTY_LAYER;
  }

  featureChanged(): void {
    // Every tile is read from the database; nothing to refresh.
  }
}

/** [west, south, east, north] of the tile grown by `margin` tiles, clamped to the Mercator world. */
export function searchBox({ z, x, y }: TileCoord, margin: number): [number, number, number, number] {
  const n = 2 ** z;
  const clamp = (v: number) => Math.min(1, Math.max(0, v));
  return [
    worldXToLon(clamp((x - margin) / n)),
    worldYToLat(clamp((y + 1 + margin) / n)),
    worldXToLon(clamp((x + 1 + margin) / n)),
    worldYToLat(clamp((y - margin) / n)),
  ];
}

function statementKey(layerId: string, restricted: boolean): string {
  return `${layerId}|${restricted ? 'all' : 'public'}`;
}

const W = MERCATOR_HALF_WORLD;

export function buildStatement(layer: LayerDef, info: TableInfo | undefined, restricted: boolean, opts: TileGeometryOptions): LayerStatement {
  const props = tileProperties(layer, { ...ANONYMOUS, canSeeRestricted: restricted });
  const table = ident(layer.table!);
  const name = layer.id.replace(/'/g, "''");
  const textId = idIsProperty(layer);
  const filters = FILTER_NAMES.filter((f) => filterColumn(layer, f) !== null);
  const clustered = !!layer.cluster && layer.geometry === 'point';
  // $1-$3 z/x/y, $4-$7 the search box (west, south, east, north); clusters: $8 cells per tile, $9 forced, $10 dense limit.
  const first = clustered ? 11 : 8;
  // The tile plus its margin in lon/lat, computed by the caller: transforming a Mercator
  // envelope that touches the antimeridian would wrap to -180 and miss everything.
  const searchEnvelope = 'ST_MakeEnvelope($4::float8, $5::float8, $6::float8, $7::float8, 4326)';
  const filterSql = filters
    .map((f, i) => ` AND ($${first + i}::text[] IS NULL OR t.${ident(filterColumn(layer, f)!)} = ANY($${first + i}::text[]))`)
    .join('');
  const where = `true${liveRowsPredicate(info)}${filterSql}`;
  const propCols = props.map((p) => `${propertyExpr(p)} AS ${ident(p.name)}`);
  const idCol = `t.id${textId ? '::text' : ''} AS id`;
  const asMvt = `ST_AsMVT(mvt, '${name}', ${opts.extent}, 'geom'${textId ? '' : ", 'id'"})`;
  const env = `ST_TileEnvelope($1::int, $2::int, $3::int)`;
  const geom = (g: string) => `ST_AsMVTGeom(${g}, ${env}, ${opts.extent}, ${opts.buffer}, true)`;

  if (!clustered) {
    const text = `SELECT ${asMvt} AS mvt FROM (
  SELECT ${[idCol, ...propCols].join(', ')}, ${geom('ST_Transform(t.geom, 3857)')} AS geom
    FROM ${table} t
   WHERE t.geom && ${searchEnvelope} AND ${where}
) mvt WHERE mvt.geom IS NOT NULL`;
    return { text, filters, clustered };
  }

  // Cells are numbered over the whole world at this zoom: cx = floor(world x * 2^z * n), from
  // Mercator metres computed arithmetically (cheaper than ST_Transform for every point).
  // The search box is the tile plus one cell, so every cell that can reach the buffer is complete.
  // Only id, level and position are aggregated; properties are read for the points shown.
  const hasLevel = layerHasLevel(layer);
  const names = props.map((p) => ident(p.name));
  const clusterNames = [CLUSTER_FIELDS.cluster, CLUSTER_FIELDS.pointCount, ...(hasLevel ? RISK_LEVELS : []), CLUSTER_FIELDS.highestLevel].map(ident);
  const clusterTypes = ['boolean', 'int8', ...(hasLevel ? RISK_LEVELS.map(() => 'int8') : []), 'text'];
  const cell = `(${2 * W} / (2 ^ $1::int * $8::int))`;
  const maxLat = 85.0511287798066;
  // Individual points: their properties, cluster columns NULL (NULLs are not encoded).
  const pointCols = [...propCols, ...clusterNames.map((c, i) => `NULL::${clusterTypes[i]} AS ${c}`)];
  // Clusters: properties NULL, then cluster, point_count, the count per level, the highest level.
  const clusterValues = [
    ...props.map((p) => `NULL::${propertySqlType(p)}`),
    'true',
    'c.n',
    ...(hasLevel ? RISK_LEVELS.map((l) => `c.${ident(l)}`) : []),
    hasLevel ? `CASE ${RISK_LEVELS.map((l) => `WHEN c.${ident(l)} > 0 THEN '${l}'`).join(' ')} END` : 'NULL::text',
  ];
  const text = `WITH pts AS (
  SELECT t.id${hasLevel ? ', t.level' : ''},
         ST_X(t.geom) * ${W / 180} AS mx,
         ln(tan(pi() / 4 + radians(least(greatest(ST_Y(t.geom), -${maxLat}), ${maxLat})) / 2)) * ${W / Math.PI} AS my
    FROM ${table} t
   WHERE t.geom && ${searchEnvelope} AND ${where}
), k AS (
  SELECT p.*, floor((p.mx + ${W}) / ${cell}) AS cx, floor((${W} - p.my) / ${cell}) AS cy
    FROM pts p
), cells AS (
  SELECT k.cx, k.cy, count(*) AS n, avg(k.mx) AS mx, avg(k.my) AS my, min(k.id) AS one_id
         ${hasLevel ? RISK_LEVELS.map((l) => `, count(*) FILTER (WHERE k.level = '${l}') AS ${ident(l)}`).join('') : ''}
    FROM k
   WHERE k.cx BETWEEN $2::int * $8::int - 1 AND ($2::int + 1) * $8::int
     AND k.cy BETWEEN $3::int * $8::int - 1 AND ($3::int + 1) * $8::int
   GROUP BY k.cx, k.cy
), mode AS (
  SELECT $9::boolean OR coalesce(sum(c.n) FILTER (WHERE c.cx >= $2::int * $8::int AND c.cx < ($2::int + 1) * $8::int
                                                    AND c.cy >= $3::int * $8::int AND c.cy < ($3::int + 1) * $8::int), 0) > $10::int AS clustered
    FROM cells c
), shown AS (
  SELECT k.id FROM k, mode
   WHERE NOT mode.clustered
     AND k.cx BETWEEN $2::int * $8::int - 1 AND ($2::int + 1) * $8::int
     AND k.cy BETWEEN $3::int * $8::int - 1 AND ($3::int + 1) * $8::int
  UNION ALL
  SELECT c.one_id FROM cells c, mode WHERE mode.clustered AND c.n = 1
), features AS (
  SELECT t.id, ${pointCols.join(', ')}, ST_Transform(t.geom, 3857) AS g
    FROM shown s JOIN ${table} t ON t.id = s.id
  UNION ALL
  SELECT NULL${textId ? '::text' : '::int8'}, ${clusterValues.join(', ')}, ST_SetSRID(ST_MakePoint(c.mx, c.my), 3857)
    FROM cells c, mode WHERE mode.clustered AND c.n > 1
)
SELECT ${asMvt} AS mvt FROM (
  SELECT f.id, ${[...names, ...clusterNames].map((c) => `f.${c}`).join(', ')}, ${geom('f.g')} AS geom
    FROM features f
) mvt WHERE mvt.geom IS NOT NULL`;
  return { text, filters, clustered };
}
