/**
 * Chinese (default) and English. Layer, property and value titles come from the
 * server's catalogue (`/layers`); this file holds only the client's own words.
 */
export type Lang = 'zh' | 'en';
export interface Bilingual {
  zh: string;
  en: string;
}

export const WORDS = {
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
  // Side panel tabs, risk table, nearest shelter, scenario, print
  tabCoverage: { zh: '覆盖分析', en: 'Coverage' },
  tabRisk: { zh: '风险一张表', en: 'Risk table' },
  tabScenario: { zh: '情景推演', en: 'Scenario' },
  tabPrint: { zh: '打印', en: 'Print' },
  riskTable: { zh: '风险点一张表', en: 'Risk points: the one table' },
  pickDistrictRisk: { zh: '请选择一个辖区以查看风险点一张表', en: 'Pick a district to see its risk table' },
  level: { zh: '等级', en: 'Level' },
  allLevels: { zh: '全部等级', en: 'All levels' },
  category: { zh: '类别', en: 'Category' },
  allCategories: { zh: '全部类别', en: 'All categories' },
  street: { zh: '街道/镇', en: 'Street/town' },
  allStreets: { zh: '全部街道/镇', en: 'All streets/towns' },
  overdueOnly: { zh: '仅超期未检查', en: 'Overdue only' },
  nextDue: { zh: '下次检查', en: 'Next due' },
  neverInspected: { zh: '从未检查', en: 'never inspected' },
  daysShort: { zh: '天', en: ' d' },
  asOf: { zh: '截至', en: 'as of' },
  shown: { zh: '显示', en: 'Shown' },
  exportXlsx: { zh: '导出XLSX', en: 'Export XLSX' },
  inspectionsDue: { zh: '待检查（按颜色）', en: 'Inspections due, by colour' },
  overdue: { zh: '超期', en: 'Overdue' },
  dueSoon: { zh: '即将到期', en: 'Due soon' },
  dueIn: { zh: '剩余', en: 'due in' },
  nearestShelter: { zh: '最近避难场所', en: 'Nearest shelter' },
  nearestHint: { zh: '在地图上右键单击或长按，或输入已知地点名称/地址', en: 'Right-click or long-press on the map, or type the name or address of a known place' },
  placeSearch: { zh: '地点名称或地址', en: 'Place name or address' },
  placeNotFound: { zh: '未找到该地点', en: 'No such place' },
  nearestFrom: { zh: '出发点：', en: 'From:' },
  shelter: { zh: '避难场所', en: 'Shelter' },
  distance: { zh: '距离', en: 'Distance' },
  walk: { zh: '步行', en: 'Walk' },
  minutes: { zh: '分钟', en: 'min' },
  freePlaces: { zh: '剩余容量', en: 'Free places' },
  noShelterFound: { zh: '附近没有可用的避难场所', en: 'No usable shelter found' },
  print: { zh: '打印地图', en: 'Print a map' },
  printHint: { zh: '生成带标题和图例的PNG图片（当前打开的图层）', en: 'A PNG with title and legend, of the layers switched on' },
  printView: { zh: '打印当前视图', en: 'Print this view' },
  printCommunity: { zh: '打印社区地图', en: 'Print community map' },
  community: { zh: '社区/村', en: 'Community/village' },
  pickCommunity: { zh: '选择社区/村…', en: 'Choose a community…' },
  printed: { zh: '已下载', en: 'Downloaded' },
  scenario: { zh: '暴雨/台风情景推演', en: 'Rainstorm and typhoon scenarios' },
  rainstorm: { zh: '暴雨', en: 'Rainstorm' },
  typhoon: { zh: '台风预警区', en: 'Typhoon warning area' },
  rainfall: { zh: '雨强', en: 'Rainfall' },
  typhoonLevel: { zh: '台风预警信号', en: 'Typhoon warning signal' },
  typhoonLead: { zh: '预计影响时间', en: 'Expected within' },
  typhoonWind: { zh: '平均风力/阵风（级）', en: 'Mean wind / gusts (Beaufort)' },
  typhoonRain: { zh: '推演雨强（本系统假设）', en: 'Rainfall applied (our assumption)' },
  warningAreaDrawn: { zh: '预警区：已绘制', en: 'Warning area: drawn' },
  warningAreaDistrict: { zh: '预警区：全区（可绘制）', en: 'Warning area: the whole district (or draw one)' },
  drawWarningArea: { zh: '绘制预警区', en: 'Draw the warning area' },
  closeOutdoor: { zh: '关闭预警区内的室外避难场所', en: 'Close outdoor shelters in the warning area' },
  runScenario: { zh: '推演', en: 'Run the scenario' },
  endScenario: { zh: '结束推演', en: 'End the scenario' },
  floodedSpots: { zh: '积水点', en: 'Flooded spots' },
  unusableShelters: { zh: '不可用避难场所', en: 'Shelters unusable' },
  triggeredSites: { zh: '触发的地灾隐患点', en: 'Geohazard sites triggered' },
  losingCover: { zh: '失去覆盖人口', en: 'Residents losing cover' },
  losingPlace: { zh: '失去安置位置人口', en: 'Residents losing a place' },
  before: { zh: '推演前', en: 'Before' },
  after: { zh: '推演后', en: 'After' },
  coveredResidents: { zh: '覆盖人口', en: 'Residents covered' },
  usableShelters: { zh: '可用避难场所', en: 'Usable shelters' },
  alertStreets: { zh: '需预警街道/镇', en: 'Streets/towns to alert' },
  scenarioWhatIf: { zh: '推演仅为假设分析，不修改任何数据', en: 'A what-if: nothing is changed in the data' },
  tabData: { zh: '数据维护', en: 'Data' },
  editPoints: { zh: '编辑点位', en: 'Edit points' },
  addPoint: { zh: '新增点位', en: 'Add a point' },
  editHint: { zh: '点击地图上的要素，在弹窗中选择“编辑”可修改、移动或删除', en: 'Click a feature on the map and choose “Edit” in its popup to change, move or delete it' },
  newFeature: { zh: '新要素', en: 'new feature' },
  pickLocation: { zh: '请在地图上单击选择位置', en: 'Click on the map to place it' },
  placeOnMap: { zh: '在地图上选位置', en: 'Place on the map' },
  location: { zh: '位置', en: 'Location' },
  moved: { zh: '已移动', en: 'moved' },
  save: { zh: '保存', en: 'Save' },
  saveFailed: { zh: '未保存', en: 'Not saved' },
  delete: { zh: '删除', en: 'Delete' },
  confirmDelete: { zh: '确定删除该要素？', en: 'Delete this feature?' },
  deleted: { zh: '已删除', en: 'Deleted' },
  savedAs: { zh: '已保存，版本', en: 'Saved as version' },
  conflict: { zh: '保存冲突：该要素已被他人修改', en: 'Conflict: someone else changed this feature' },
  conflictExplain: { zh: '您编辑期间该要素已被修改。请选择保留哪个版本', en: 'The feature changed while you edited it. Choose which version to keep' },
  mine: { zh: '我的修改', en: 'Mine' },
  theirs: { zh: '当前保存的', en: 'Stored now' },
  keepMine: { zh: '保留我的修改', en: 'Keep mine' },
  takeTheirs: { zh: '采用已保存的版本', en: 'Take the stored version' },
  tookTheirs: { zh: '已载入当前保存的版本', en: 'Loaded the stored version' },
  edit: { zh: '编辑', en: 'Edit' },
  history: { zh: '修改记录', en: 'History' },
  noHistory: { zh: '暂无修改记录', en: 'No changes recorded' },
  people: { zh: '人数', en: 'People' },
  checkIn: { zh: '入住', en: 'Check in' },
  checkOut: { zh: '离开', en: 'Check out' },
  importFile: { zh: '导入文件（GeoJSON、CSV、XLSX）', en: 'Import a file (GeoJSON, CSV, XLSX)' },
  crs: { zh: '坐标系', en: 'Coordinates' },
  crsWgs84: { zh: 'WGS84（GPS）', en: 'WGS84 (GPS)' },
  crsCgcs2000: { zh: 'CGCS2000', en: 'CGCS2000' },
  crsGcj02: { zh: 'GCJ-02（高德/腾讯）', en: 'GCJ-02 (Gaode/Tencent)' },
  crsBd09: { zh: 'BD-09（百度）', en: 'BD-09 (Baidu)' },
  file: { zh: '文件', en: 'File' },
  importFileType: { zh: '请选择 .geojson、.json、.csv 或 .xlsx 文件', en: 'Choose a .geojson, .json, .csv or .xlsx file' },
  dryRun: { zh: '检查（不写入）', en: 'Check (dry run)' },
  importCommit: { zh: '导入', en: 'Import' },
  rows: { zh: '行', en: 'rows' },
  row: { zh: '行号', en: 'Row' },
  field: { zh: '字段', en: 'Field' },
  reason: { zh: '原因', en: 'Reason' },
  importRejected: { zh: '以下行有误，未导入任何数据', en: 'These rows are invalid; nothing was imported' },
  importValid: { zh: '检查通过，可以导入', en: 'All rows are valid; ready to import' },
  imported: { zh: '已导入', en: 'Imported' },
  importFailed: { zh: '导入失败', en: 'Import failed' },
  phaseParsing: { zh: '读取文件', en: 'reading the file' },
  phaseValidating: { zh: '逐行检查', en: 'checking rows' },
  phaseDistricts: { zh: '核对所属区', en: 'checking districts' },
  phaseWriting: { zh: '写入', en: 'writing' },
  phaseDone: { zh: '完成', en: 'done' },
  sheltersFlagged: { zh: '因本次导入不可用的避难场所', en: 'Shelters this import made unusable' },
  sheltersWouldFlag: { zh: '导入后将不可用的避难场所', en: 'Shelters this import would make unusable' },
  importRow: { zh: '导入行', en: 'import row' },
  hazard: { zh: '致灾点', en: 'Hazard' },
  distanceZone: { zh: '距离 / 不可用范围', en: 'Distance / zone' },
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
  opReload: { zh: '整层重新载入', en: 'layer reloaded' },
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
  return formatNumberIn(n, current, digits);
}

function formatNumberIn(n: number, language: Lang, digits: number): string {
  const key = `${language}|${digits}`;
  let f = numberFormats.get(key);
  if (!f) numberFormats.set(key, (f = new Intl.NumberFormat(language === 'zh' ? 'zh-CN' : 'en-GB', { maximumFractionDigits: digits, minimumFractionDigits: 0 })));
  return f.format(n);
}

/**
 * English nouns printed after a count that change with it (WORDS holds their plural);
 * Chinese nouns do not change, so "1 行" and "2 行".
 */
const EN_SINGULAR: Partial<Record<Word, string>> = { rows: 'row', points: 'point' };
const enPlurals = new Map<number, Intl.PluralRules>();

/** `n` and its noun in `language` as formatNumber shows it: "1 row", "2 rows", "1.5 rows", "1 行". */
export function countPhrase(n: number, noun: Word, language: Lang, digits = 0): string {
  let word = WORDS[noun][language];
  if (language === 'en' && EN_SINGULAR[noun]) {
    let rules = enPlurals.get(digits);
    // the same rounding as the number shown, so "1" (from 1.04) takes the singular
    if (!rules) enPlurals.set(digits, (rules = new Intl.PluralRules('en-GB', { maximumFractionDigits: digits, minimumFractionDigits: 0 })));
    if (rules.select(n) === 'one') word = EN_SINGULAR[noun]!;
  }
  return `${formatNumberIn(n, language, digits)} ${word}`;
}

/** `n` and its noun in the current language. */
export function formatCount(n: number, noun: Word, digits = 0): string {
  return countPhrase(n, noun, current, digits);
}

export function formatTime(d: Date, seconds = true): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}${seconds ? `:${p(d.getSeconds())}` : ''}`;
}
