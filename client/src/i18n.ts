/**
 * Chinese (default) and English. Layer, property and value titles come from the
 * server's catalogue (`/layers`); this file holds only the client's own words.
 */
export type Lang = 'zh' | 'en';
export interface Bilingual {
  zh: string;
  en: string;
}

const WORDS = {
  appTitle: { zh: '应急管理一张图', en: 'Emergency management one map' },
  layers: { zh: '图层', en: 'Layers' },
  legend: { zh: '图例', en: 'Legend' },
  language: { zh: 'English', en: '中文' },
  languageTitle: { zh: '切换到英文', en: 'Switch to Chinese' },
  synthetic: { zh: '合成数据', en: 'Synthetic data' },
  syntheticBadge: { zh: '演示数据为合成数据，非真实位置', en: 'Demo data is synthetic, not real locations' },
  syntheticFeature: { zh: '此要素为合成的演示数据', en: 'This feature is synthetic demo data' },
  syntheticOutline: { zh: '虚线边界：合成划分', en: 'Dashed outline: synthetic partition' },
  restricted: { zh: '受限', en: 'restricted' },
  close: { zh: '关闭', en: 'Close' },
  yes: { zh: '是', en: 'yes' },
  no: { zh: '否', en: 'no' },
  cluster: { zh: '聚合', en: 'Cluster' },
  clusterLegend: { zh: '聚合点：数字为点数，外圈为最高风险等级', en: 'Cluster: number of points; ring = highest level inside' },
  points: { zh: '个点', en: 'points' },
  zoomIn: { zh: '放大查看', en: 'Zoom in' },
  shelterSize: { zh: '圆大小表示容量，条形表示入住率', en: 'Size = capacity; bar = occupancy' },
  occupancy: { zh: '入住率', en: 'Occupancy' },
  allDistricts: { zh: '全部辖区', en: 'All districts' },
  district: { zh: '辖区', en: 'District' },
  loading: { zh: '加载中…', en: 'Loading…' },
  serverUnreachable: { zh: '无法连接服务器，正在重试…', en: 'Cannot reach the server; retrying…' },
  tilesFallback: { zh: '矢量瓦片服务不可用，改用要素服务', en: 'Vector tiles unavailable; using the feature service' },
  apiKey: { zh: '密钥', en: 'API key' },
  apiKeyTitle: { zh: '输入API密钥以查看受限图层（危险化学品企业等）', en: 'Enter an API key to see restricted layers (hazardous-chemical enterprises …)' },
  apiKeySave: { zh: '使用', en: 'Use' },
  apiKeyForget: { zh: '退出', en: 'Sign out' },
  apiKeyActive: { zh: '已使用密钥', en: 'Key in use' },
  keyRejected: { zh: 'API密钥无效或已撤销，已改为匿名访问。', en: 'The API key is not valid (or was revoked); continuing without it.' },
  // Planner panel
  coverage: { zh: '避难场所覆盖分析', en: 'Shelter coverage' },
  pickDistrict: { zh: '请选择一个辖区以查看覆盖分析', en: 'Pick a district to see its shelter coverage' },
  coveredPct: { zh: '覆盖率', en: 'Covered' },
  uncovered: { zh: '未覆盖人口', en: 'Residents uncovered' },
  areaPerResident: { zh: '人均避难面积', en: 'Shelter area per resident' },
  target: { zh: '目标', en: 'target' },
  unsheltered: { zh: '容量不足无处安置', en: 'No place after allocation' },
  byStreet: { zh: '按街道/镇', en: 'By street/town' },
  byCommunity: { zh: '按社区/村', en: 'By community/village' },
  unitName: { zh: '名称', en: 'Name' },
  residents: { zh: '常住人口', en: 'Residents' },
  noResidents: { zh: '无常住人口', en: 'no residents' },
  coveredShort: { zh: '覆盖率', en: 'Covered' },
  uncoveredShort: { zh: '未覆盖', en: 'Uncovered' },
  m2PerResident: { zh: '人均m²', en: 'm²/resident' },
  shortfall: { zh: '面积缺口m²', en: 'Shortfall m²' },
  unshelteredShort: { zh: '无处安置', en: 'No place' },
  meetsTarget: { zh: '达标', en: 'meets target' },
  belowTarget: { zh: '未达标', en: 'below target' },
  chartTitle: { zh: '人均避难面积（m²/人），竖线为目标', en: 'Shelter area per resident (m²), line = target' },
  overlays: { zh: '分析图层', en: 'Analysis overlays' },
  radiusCircles: { zh: '服务半径', en: 'Service radii' },
  gapPolygons: { zh: '覆盖盲区', en: 'Coverage gaps' },
  choropleth: { zh: '人均面积达标情况', en: 'm²/resident vs target' },
  exportCsv: { zh: '导出CSV', en: 'Export CSV' },
  drawArea: { zh: '绘制区域统计', en: 'Draw an area' },
  drawHint: { zh: '在地图上单击绘制多边形，双击结束', en: 'Click on the map to draw a polygon; double-click to finish' },
  cancel: { zh: '取消', en: 'Cancel' },
  areaSummary: { zh: '区域统计', en: 'Area summary' },
  area: { zh: '面积', en: 'Area' },
  siting: { zh: '新建避难场所选址', en: 'Siting new shelters' },
  sitingK: { zh: '新建数量', en: 'New shelters' },
  runSiting: { zh: '计算选址', en: 'Find sites' },
  residentsGained: { zh: '新增覆盖人口', en: 'Residents newly served' },
  capacityAware: { zh: '考虑容量(按可安置人数)', en: 'Capacity-aware (places, not radius)' },
  proposedSite: { zh: '建议选址', en: 'Proposed site' },
  unavailable: { zh: '该分析服务暂不可用', en: 'This analysis is not available on the server yet' },
  failed: { zh: '分析失败', en: 'Analysis failed' },
  working: { zh: '计算中…', en: 'Working…' },
  total: { zh: '合计', en: 'Total' },
  dataChanged: { zh: '数据已更新，分析结果可能已过时。', en: 'The data changed; these results may be out of date.' },
  recalculate: { zh: '重新计算', en: 'Recalculate' },
  syntheticAnalysis: { zh: '基于合成的人口与场所数据', en: 'Based on synthetic population and shelter data' },
  // Wall mode
  live: { zh: '实时', en: 'Live' },
  reconnecting: { zh: '连接中断，正在重连…', en: 'Connection lost; reconnecting…' },
  liveChanges: { zh: '最新动态', en: 'Latest changes' },
  noChanges: { zh: '暂无变更', en: 'No changes yet' },
  shelterOccupancy: { zh: '避难场所入住', en: 'Shelter occupancy' },
  opInsert: { zh: '新增', en: 'new' },
  opUpdate: { zh: '更新', en: 'updated' },
  opDelete: { zh: '删除', en: 'removed' },
  opOccupancy: { zh: '入住变化', en: 'occupancy' },
  opImport: { zh: '批量导入', en: 'import' },
  upgraded: { zh: '升级为', en: 'raised to' },
} satisfies Record<string, Bilingual>;

export type Word = keyof typeof WORDS;

let current: Lang = 'zh';
const listeners = new Set<(lang: Lang) => void>();

export function lang(): Lang {
  return current;
}

export function setLang(next: Lang): void {
  if (next === current) return;
  current = next;
  document.documentElement.lang = next === 'zh' ? 'zh-CN' : 'en';
  for (const l of listeners) l(next);
}

/** Calls `fn` now and whenever the language changes. */
export function onLang(fn: (lang: Lang) => void): void {
  listeners.add(fn);
  fn(current);
}

export function t(word: Word): string {
  return WORDS[word][current];
}

/** The current language's text of a bilingual title from the server. */
export function pick(text: Bilingual | undefined | null): string {
  if (!text) return '';
  return text[current] || text.zh || text.en;
}

const numberFormats = new Map<string, Intl.NumberFormat>();
export function formatNumber(n: number, digits = 0): string {
  const key = `${current}|${digits}`;
  let f = numberFormats.get(key);
  if (!f) numberFormats.set(key, (f = new Intl.NumberFormat(current === 'zh' ? 'zh-CN' : 'en-GB', { maximumFractionDigits: digits, minimumFractionDigits: 0 })));
  return f.format(n);
}

export function formatTime(d: Date, seconds = true): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}${seconds ? `:${p(d.getSeconds())}` : ''}`;
}
