import { valueTitle } from './vocabulary.ts';

/**
 * The layer registry: ONE typed entry per layer of the one map. Tiles, OGC
 * collections, the /layers catalogue, TileJSON, client styles and the legend are
 * all derived from it; adding a layer is adding an entry here (plus its table).
 */

export type Bilingual = { zh: string; en: string };

/** `datetime`: a moment (timestamptz), written as RFC 3339 in UTC, e.g. 2026-12-05T06:00:00Z. */
export type PropertyType = 'string' | 'integer' | 'number' | 'boolean' | 'date' | 'datetime';

export interface LayerProperty {
  /** Column name in the table and property name in every output (English snake_case). */
  name: string;
  type: PropertyType;
  title: Bilingual;
  /** Allowed values, when the column has a CHECK list. */
  enum?: readonly string[];
  /** Callers may filter on it (`?level=red,orange`, OGC queryables). */
  queryable?: boolean;
  /** Only callers allowed to see restricted data get it (e.g. contact phones). */
  restricted?: boolean;
  /** Must be given when a feature is created. */
  required?: boolean;
  /** Set by the server, never by an edit (e.g. `synthetic`, computed populations). */
  readOnly?: boolean;
  /** Bounds for numbers (inclusive). */
  min?: number;
  max?: number;
}

/** How a feature's colour is chosen: one colour, or by the value of a property. */
export interface LayerStyle {
  /** Default colour (#rrggbb) for fill/stroke/marker. */
  color: string;
  /** Colour per value of `property`; values not listed use `color`. */
  by?: { property: string; colors: Record<string, string> };
  /** Polygons: fill opacity 0..1 (0 = outline only). */
  fillOpacity?: number;
  /** Line width in CSS pixels for lines and polygon outlines. */
  lineWidth?: number;
  /** Marker radius in CSS pixels for points. */
  radius?: number;
}

export interface ClusterRule {
  /** Points are clustered at zooms below this one; individual points from it on. */
  belowZoom: number;
  /** Cluster radius in pixels of a 512 px tile. */
  radius: number;
}

export type GeometryKind = 'point' | 'line' | 'polygon';

export interface LayerDef {
  id: string;
  /** Table the features live in; `null` for computed layers (coverage gaps). */
  table: string | null;
  title: Bilingual;
  description: Bilingual;
  geometry: GeometryKind;
  /** Exposed properties, in output order. Nothing else leaves the server. */
  properties: readonly LayerProperty[];
  /** Type of the `id` column (admin units have text ids). */
  idType: 'integer' | 'string';
  /** `restricted` layers are invisible to callers without permission, everywhere. */
  access: 'public' | 'restricted';
  minzoom: number;
  maxzoom: number;
  cluster?: ClusterRule;
  style: LayerStyle;
  /** Columns searched by free-text `q=` (names, addresses). */
  searchable: readonly string[];
  /** Whether the layer's features are generated (true for all demo features). */
  syntheticData: boolean;
  /** false: planning layers a map shows only when asked (candidate sites); default true. */
  onByDefault?: boolean;
  /**
   * Tables whose rows describe the layer's features (a risk point's inspections): a
   * write to them is a change of the layer, announced as one (server/live/notify.ts).
   */
  describedBy?: readonly string[];
  /**
   * Decimals of longitude/latitude in OGC API output (GeoJSON, CSV); default 7
   * (about 1 cm). Web Mercator output uses 2 decimals (1 cm in metres).
   */
  coordinatePrecision?: number;
}

export const RISK_LEVELS = ['red', 'orange', 'yellow', 'blue'] as const;

/** Shelter planning classes, length-of-stay classes (GB 21734: I ≥ 30 days, II 10–30 days, III < 10 days) and statuses. */
export const SHELTER_CLASSES = ['emergency', 'fixed', 'central'] as const;
export type ShelterClass = (typeof SHELTER_CLASSES)[number];
export const STAY_CLASSES = ['I', 'II', 'III'] as const;
export type StayClass = (typeof STAY_CLASSES)[number];
export const SHELTER_STATUSES = ['open', 'standby', 'closed', 'full'] as const;
export type ShelterStatus = (typeof SHELTER_STATUSES)[number];
export type RiskLevel = (typeof RISK_LEVELS)[number];

/** The four colours of graded risk; kept distinct on light and dark backgrounds. */
export const RISK_COLORS: Record<RiskLevel, string> = {
  red: '#e02020',
  orange: '#ff8c00',
  yellow: '#f2c500',
  blue: '#2f7bff',
};

/** Why a shelter is not usable (shelters.unusable_reason): inside an active hazard's zone, closed
 *  for a running scenario, or flagged by an editor. */
export const UNUSABLE_REASONS = ['hazard_zone', 'scenario', 'editor'] as const;

/** Kinds of open space that may become a shelter (candidate_sites.kind). */
export const CANDIDATE_SITE_KINDS = ['park', 'square', 'school_playground', 'stadium', 'other'] as const;

export const DISTRICT_IDS = ['yuexiu', 'huadu', 'wujiang', 'pingshan', 'jianghai'] as const;

// Properties every feature layer shares.
const p = (name: string, type: PropertyType, zh: string, en: string, extra: Partial<LayerProperty> = {}): LayerProperty => ({
  name,
  type,
  title: { zh, en },
  ...extra,
});
const nameZh = p('name_zh', 'string', '名称', 'Name (Chinese)', { required: true });
const nameEn = p('name_en', 'string', '英文名称', 'Name (English)');
const district = p('district_id', 'string', '所属区', 'District', { queryable: true, enum: DISTRICT_IDS, required: true });
const street = p('street_id', 'string', '所属街道/镇', 'Street or town', { queryable: true });
const address = p('address', 'string', '地址', 'Address');
const synthetic = p('synthetic', 'boolean', '合成数据', 'Synthetic data', { readOnly: true });
const level = p('level', 'string', '风险等级', 'Risk level', { enum: RISK_LEVELS, queryable: true, required: true });
const contactPhone = p('contact_phone', 'string', '联系电话', 'Contact phone', { restricted: true });
const status = (values: readonly string[]) => p('status', 'string', '状态', 'Status', { enum: values, queryable: true });

const adminUnit = (
  id: string,
  table: string,
  zh: string,
  en: string,
  extra: readonly LayerProperty[],
  zoom: [number, number],
  style: LayerStyle,
): LayerDef => ({
  id,
  table,
  title: { zh, en },
  description: { zh: `${zh}边界`, en: `${en} boundaries` },
  geometry: 'polygon',
  idType: 'string',
  properties: [nameZh, nameEn, ...extra, p('population', 'integer', '常住人口', 'Residents', { readOnly: true }), synthetic],
  access: 'public',
  minzoom: zoom[0],
  maxzoom: zoom[1],
  style,
  searchable: ['name_zh', 'name_en'],
  syntheticData: table !== 'districts',
});

export const LAYERS: readonly LayerDef[] = [
  adminUnit(
    'districts',
    'districts',
    '区',
    'District',
    [p('adcode', 'integer', '行政区划代码', 'Administrative code'), p('shelter_target_m2', 'number', '人均避难面积目标(m²)', 'Shelter target (m²/resident)')],
    [0, 16],
    { color: '#3d4b5c', fillOpacity: 0, lineWidth: 2.5 },
  ),
  adminUnit('streets', 'streets', '街道/镇', 'Street / town', [district, p('kind', 'string', '类型', 'Kind', { enum: ['street', 'town'] })], [8, 16], {
    color: '#6b7a8c',
    fillOpacity: 0,
    lineWidth: 1.5,
  }),
  adminUnit(
    'communities',
    'communities',
    '社区/村',
    'Community / village',
    [district, street, p('kind', 'string', '类型', 'Kind', { enum: ['community', 'village'] })],
    [11, 16],
    { color: '#9aa7b5', fillOpacity: 0, lineWidth: 1 },
  ),
  {
    id: 'risk_points',
    table: 'risk_points',
    describedBy: ['risk_inspections'],
    title: { zh: '风险点与危险源', en: 'Risk points and hazard sources' },
    description: { zh: '按红橙黄蓝四色分级的风险点', en: 'Risk points graded in four colours (red, orange, yellow, blue)' },
    geometry: 'point',
    idType: 'integer',
    properties: [
      nameZh,
      nameEn,
      district,
      street,
      level,
      p('category', 'string', '类别', 'Category', {
        queryable: true,
        required: true,
        enum: ['production_safety', 'fire', 'hazardous_chemicals', 'construction', 'gas', 'crowded_place', 'traffic', 'flood', 'geohazard', 'other'],
      }),
      p('level_source', 'string', '定级方式', 'Level source', { enum: ['assessed', 'manual'], readOnly: true }),
      p('responsible_unit', 'string', '责任单位', 'Responsible unit', { required: true }),
      p('last_inspection', 'date', '最近检查日期', 'Last inspection'),
      address,
      synthetic,
    ],
    access: 'public',
    minzoom: 0,
    maxzoom: 18,
    cluster: { belowZoom: 12, radius: 60 },
    style: { color: RISK_COLORS.blue, by: { property: 'level', colors: RISK_COLORS }, radius: 6 },
    searchable: ['name_zh', 'name_en', 'address', 'responsible_unit'],
    syntheticData: true,
  },
  {
    id: 'flood_points',
    table: 'flood_points',
    title: { zh: '内涝易发点', en: 'Flood-prone spots' },
    description: { zh: '内涝黑点、排水隐患点', en: 'Waterlogging black spots and drainage hazard points' },
    geometry: 'point',
    idType: 'integer',
    properties: [
      nameZh,
      nameEn,
      district,
      street,
      p('kind', 'string', '类型', 'Kind', { enum: ['black_spot', 'drainage_hazard', 'waterlogging'], queryable: true, required: true }),
      p('max_depth_cm', 'number', '最大积水深度(cm)', 'Max depth (cm)', { min: 0, max: 1000 }),
      p('threshold_mm_h', 'number', '致涝雨强(mm/h)', 'Flooding rainfall threshold (mm/h)', { min: 0.1, max: 500 }),
      status(['active', 'treated']),
      address,
      synthetic,
    ],
    access: 'public',
    minzoom: 0,
    maxzoom: 18,
    style: { color: '#00a6d6', by: { property: 'kind', colors: { black_spot: '#005f99', drainage_hazard: '#00a6d6', waterlogging: '#3cc0e6' } }, radius: 5 },
    searchable: ['name_zh', 'name_en', 'address'],
    syntheticData: true,
  },
  {
    id: 'geohazard_sites',
    table: 'geohazard_sites',
    title: { zh: '地质灾害隐患点', en: 'Geohazard sites' },
    description: { zh: '崩塌、滑坡、塌陷、地面沉降与危险边坡', en: 'Rockfall, landslide, collapse, subsidence and dangerous slopes' },
    geometry: 'point',
    idType: 'integer',
    properties: [
      nameZh,
      nameEn,
      district,
      street,
      p('kind', 'string', '类型', 'Kind', { enum: ['rockfall', 'landslide', 'collapse', 'subsidence', 'dangerous_slope'], queryable: true, required: true }),
      p('scale', 'string', '规模', 'Scale', { enum: ['small', 'medium', 'large', 'huge'], queryable: true, required: true }),
      p('people_threatened', 'integer', '威胁人数', 'People threatened', { min: 0, max: 10_000_000 }),
      p('potential_loss_cny', 'number', '潜在经济损失(元)', 'Potential loss (CNY)', { min: 0, max: 1e13 }),
      p('monitored', 'boolean', '专业监测', 'Monitored', { queryable: true }),
      status(['active', 'treated']),
      address,
      synthetic,
    ],
    access: 'public',
    minzoom: 0,
    maxzoom: 18,
    style: {
      color: '#8c5a2b',
      by: { property: 'kind', colors: { rockfall: '#8c5a2b', landslide: '#a0522d', collapse: '#6e3b1f', subsidence: '#b07d4f', dangerous_slope: '#c49a6c' } },
      radius: 5,
    },
    searchable: ['name_zh', 'name_en', 'address'],
    syntheticData: true,
  },
  {
    id: 'shelters',
    table: 'shelters',
    describedBy: ['shelter_checkins'],
    title: { zh: '应急避难场所', en: 'Emergency shelters' },
    description: { zh: '室内、室外应急避难场所，含有效面积、容量、状态与入住人数', en: 'Indoor and outdoor shelters with effective area, capacity, status and occupancy' },
    geometry: 'point',
    idType: 'integer',
    properties: [
      nameZh,
      nameEn,
      district,
      street,
      p('setting', 'string', '室内/室外', 'Indoor/outdoor', { enum: ['indoor', 'outdoor'], queryable: true, required: true }),
      p('shelter_class', 'string', '场所类别', 'Shelter class', { enum: [...SHELTER_CLASSES], queryable: true, required: true }),
      p('stay_class', 'string', '避难时长类别', 'Length-of-stay class', { enum: [...STAY_CLASSES] }),
      p('effective_area_m2', 'number', '有效避难面积(m²)', 'Effective area (m²)', { required: true, min: 1, max: 1e8 }),
      p('capacity', 'integer', '可容纳人数', 'Capacity (people)', { required: true, min: 0, max: 10_000_000 }),
      p('occupancy', 'integer', '已入住人数', 'People housed', { readOnly: true }),
      status([...SHELTER_STATUSES]),
      p('usable', 'boolean', '可用', 'Usable', { queryable: true }),
      p('unusable_reason', 'string', '不可用原因', 'Why unusable', { enum: UNUSABLE_REASONS, queryable: true, readOnly: true }),
      p('unusable_note', 'string', '不可用说明', 'Unusable: note'),
      p('unusable_since', 'datetime', '不可用起始时间', 'Unusable since', { readOnly: true }),
      address,
      contactPhone,
      synthetic,
    ],
    access: 'public',
    minzoom: 0,
    maxzoom: 18,
    style: { color: '#1a9850', by: { property: 'status', colors: { open: '#1a9850', standby: '#66bd63', full: '#d73027', closed: '#7f7f7f' } }, radius: 7 },
    searchable: ['name_zh', 'name_en', 'address'],
    syntheticData: true,
  },
  {
    id: 'hazard_sources',
    table: 'hazard_sources',
    describedBy: ['hazard_assessments', 'hazard_substances'],
    title: { zh: '危险化学品企业', en: 'Hazardous-chemical enterprises' },
    description: { zh: '生产、储存、加油加气、经营企业及重大危险源', en: 'Production, storage, gas-station and trading enterprises; major hazard sources' },
    geometry: 'point',
    idType: 'integer',
    properties: [
      nameZh,
      nameEn,
      district,
      street,
      p('kind', 'string', '类型', 'Kind', { enum: ['production', 'storage', 'gas_station', 'trading'], queryable: true, required: true }),
      p('major_hazard', 'boolean', '重大危险源', 'Major hazard source', { queryable: true }),
      p('r_value', 'number', 'R值', 'R value (GB 18218)', { min: 0, max: 1e6 }),
      level,
      address,
      contactPhone,
      synthetic,
    ],
    access: 'restricted',
    minzoom: 0,
    maxzoom: 18,
    cluster: { belowZoom: 12, radius: 60 },
    style: { color: '#7b3294', by: { property: 'level', colors: RISK_COLORS }, radius: 6 },
    searchable: ['name_zh', 'name_en', 'address'],
    syntheticData: true,
  },
  {
    id: 'resources',
    table: 'resources',
    title: { zh: '应急资源', en: 'Emergency resources' },
    description: { zh: '救援队伍、消防站、物资仓库、加油站、水库', en: 'Rescue teams, fire stations, material depots, petrol stations, reservoirs' },
    geometry: 'point',
    idType: 'integer',
    properties: [
      nameZh,
      nameEn,
      district,
      street,
      p('kind', 'string', '类型', 'Kind', { enum: ['rescue_team', 'fire_station', 'material_depot', 'petrol_station', 'reservoir'], queryable: true, required: true }),
      p('personnel', 'integer', '人员数', 'Personnel', { min: 0, max: 1_000_000 }),
      address,
      contactPhone,
      synthetic,
    ],
    access: 'public',
    minzoom: 0,
    maxzoom: 18,
    style: {
      color: '#4d4d4d',
      by: {
        property: 'kind',
        colors: { rescue_team: '#c51b7d', fire_station: '#b2182b', material_depot: '#8073ac', petrol_station: '#e08214', reservoir: '#2166ac' },
      },
      radius: 5,
    },
    searchable: ['name_zh', 'name_en', 'address'],
    syntheticData: true,
  },
  {
    id: 'candidate_sites',
    table: 'candidate_sites',
    title: { zh: '避难场所备选场地', en: 'Candidate shelter sites' },
    description: {
      zh: '可改建为应急避难场所的公园、广场、学校操场、体育场等开敞空间，含面积与权属',
      en: 'Parks, squares, school playgrounds and stadiums that could become shelters, with area and ownership',
    },
    geometry: 'point',
    idType: 'integer',
    properties: [
      nameZh,
      nameEn,
      district,
      street,
      p('kind', 'string', '类型', 'Kind', { enum: CANDIDATE_SITE_KINDS, queryable: true, required: true }),
      p('area_m2', 'number', '可用场地面积(m²)', 'Usable open area (m²)', { min: 1, max: 1e8 }),
      p('ownership', 'string', '权属', 'Ownership', { enum: ['public', 'collective', 'private'], queryable: true }),
      address,
      synthetic,
    ],
    access: 'public',
    minzoom: 0,
    maxzoom: 18,
    style: {
      color: '#7570b3',
      by: { property: 'kind', colors: { park: '#4d9221', square: '#7570b3', school_playground: '#e7298a', stadium: '#d95f02', other: '#666666' } },
      radius: 5,
    },
    searchable: ['name_zh', 'name_en', 'address'],
    syntheticData: true,
    onByDefault: false,
  },
  {
    id: 'networks',
    table: 'networks',
    title: { zh: '管网', en: 'Pipelines and networks' },
    description: { zh: '燃气管网、输油管道、排水管网', en: 'Gas network, oil pipelines, drainage network' },
    geometry: 'line',
    idType: 'integer',
    properties: [
      nameZh,
      nameEn,
      district,
      p('kind', 'string', '类型', 'Kind', { enum: ['gas_pipeline', 'oil_pipeline', 'drainage'], queryable: true, required: true }),
      p('diameter_mm', 'integer', '管径(mm)', 'Diameter (mm)', { min: 1, max: 10_000 }),
      synthetic,
    ],
    access: 'public',
    minzoom: 8,
    maxzoom: 18,
    style: { color: '#555555', by: { property: 'kind', colors: { gas_pipeline: '#e6550d', oil_pipeline: '#54278f', drainage: '#3182bd' } }, lineWidth: 2 },
    searchable: ['name_zh', 'name_en'],
    syntheticData: true,
  },
  {
    id: 'population',
    table: 'population_cells',
    title: { zh: '人口分布', en: 'Population' },
    description: { zh: '网格常住人口', en: 'Residents per grid cell' },
    geometry: 'polygon',
    idType: 'integer',
    properties: [district, street, p('community_id', 'string', '所属社区', 'Community', { queryable: true }), p('residents', 'integer', '常住人口', 'Residents', { required: true, min: 0, max: 10_000_000 }), synthetic],
    access: 'public',
    minzoom: 8,
    maxzoom: 16,
    style: { color: '#fdae6b', fillOpacity: 0.35, lineWidth: 0 },
    searchable: [],
    syntheticData: true,
  },
  {
    id: 'coverage_gaps',
    table: null,
    title: { zh: '避难场所覆盖盲区', en: 'Shelter coverage gaps' },
    description: {
      zh: '所有可用应急避难场所服务半径以外的有人口区域（由覆盖分析计算）',
      en: 'Populated areas outside the service radius of every usable shelter (computed by the coverage analysis)',
    },
    geometry: 'polygon',
    idType: 'string',
    properties: [
      district,
      p('rank', 'integer', '排序(按人口)', 'Rank (by residents)'),
      p('residents', 'integer', '未覆盖人口', 'Uncovered residents'),
      p('area_m2', 'number', '面积(m²)', 'Area (m²)'),
      p('cells', 'integer', '人口网格数', 'Population cells'),
      synthetic,
    ],
    access: 'public',
    minzoom: 8,
    maxzoom: 16,
    style: { color: '#d7191c', fillOpacity: 0.4, lineWidth: 1 },
    searchable: [],
    syntheticData: true,
  },
];

const byId = new Map(LAYERS.map((l) => [l.id, l]));

export function getLayer(id: string): LayerDef | undefined {
  return byId.get(id);
}

/** Legend entries of a layer: one per coloured value, or one for the layer. */
export function legendEntries(layer: LayerDef): { value: string | null; color: string; title: Bilingual }[] {
  if (!layer.style.by) return [{ value: null, color: layer.style.color, title: layer.title }];
  return Object.entries(layer.style.by.colors).map(([value, color]) => ({ value, color, title: valueTitle(value) }));
}
