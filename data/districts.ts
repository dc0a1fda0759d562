/**
 * The five demo districts: identity, population, shelter target and the
 * street/town list, each with where the figure comes from. Facts from the
 * plans and the public administrative-division lists are marked as such;
 * anything invented (community counts, community names) says so.
 */

export type DistrictId = 'yuexiu' | 'huadu' | 'wujiang' | 'pingshan' | 'jianghai';
export type StreetKind = 'street' | 'town';
export type CommunityKind = 'community' | 'village';

export interface StreetMeta {
  /** Unique within the district; the street id is `${district}-${slug}`. */
  slug: string;
  /** Full official name: 洪桥街道, 狮岭镇. */
  name_zh: string;
  /** Pinyin with the English unit: Hongqiao Subdistrict, Shiling Town. */
  name_en: string;
  kind: StreetKind;
  /** How many communities/villages the synthetic partition gives this street. */
  communities: number;
  /** How many of those are villages (村); the rest are communities (社区). */
  villages: number;
}

export interface DistrictMeta {
  id: DistrictId;
  adcode: number;
  name_zh: string;
  name_en: string;
  city_zh: string;
  city_en: string;
  /** Residents the population cells add up to, exactly. */
  population: number;
  population_source: string;
  /** True when the population is an estimate rather than a published figure. */
  population_approximate: boolean;
  /** Shelter area per resident the district aims for, m². */
  shelter_target_m2: number;
  target_source: string;
  /** Where the community count comes from (plan figure or synthetic choice). */
  communities_source: string;
  streets: StreetMeta[];
}

/** name_zh without the 街道/镇 suffix, pinyin, kind, communities, villages. */
type StreetRow = [string, string, StreetKind, number, number];

function streets(rows: StreetRow[]): StreetMeta[] {
  return rows.map(([zh, pinyin, kind, communities, villages]) => ({
    slug: pinyin.toLowerCase().replace(/[^a-z0-9]+/g, ''),
    name_zh: zh + (kind === 'street' ? '街道' : '镇'),
    name_en: `${pinyin} ${kind === 'street' ? 'Subdistrict' : 'Town'}`,
    kind,
    communities,
    villages,
  }));
}

export const DISTRICTS: readonly DistrictMeta[] = [
  {
    id: 'yuexiu',
    adcode: 440104,
    name_zh: '越秀区',
    name_en: 'Yuexiu District',
    city_zh: '广州市',
    city_en: 'Guangzhou',
    population: 1_038_672,
    population_source:
      '7th national population census (2020), resident population of Yuexiu District as best known: 1,038,672 (approximate; not checked against the bulletin offline)',
    population_approximate: true,
    shelter_target_m2: 1.5,
    target_source: 'Yuexiu District 14th Five-Year emergency-management plan: 1.5 m² of shelter area per resident',
    communities_source: 'synthetic: 3 communities per street (the real district has about 220); names invented',
    streets: streets([
      ['洪桥', 'Hongqiao', 'street', 3, 0],
      ['北京', 'Beijing', 'street', 3, 0],
      ['六榕', 'Liurong', 'street', 3, 0],
      ['流花', 'Liuhua', 'street', 3, 0],
      ['光塔', 'Guangta', 'street', 3, 0],
      ['人民', 'Renmin', 'street', 3, 0],
      ['东山', 'Dongshan', 'street', 3, 0],
      ['农林', 'Nonglin', 'street', 3, 0],
      ['梅花村', 'Meihuacun', 'street', 3, 0],
      ['黄花岗', 'Huanghuagang', 'street', 3, 0],
      ['华乐', 'Huale', 'street', 3, 0],
      ['建设', 'Jianshe', 'street', 3, 0],
      ['大塘', 'Datang', 'street', 3, 0],
      ['珠光', 'Zhuguang', 'street', 3, 0],
      ['大东', 'Dadong', 'street', 3, 0],
      ['白云', 'Baiyun', 'street', 3, 0],
      ['登峰', 'Dengfeng', 'street', 3, 0],
      ['矿泉', 'Kuangquan', 'street', 3, 0],
    ]),
  },
  {
    id: 'huadu',
    adcode: 440114,
    name_zh: '花都区',
    name_en: 'Huadu District',
    city_zh: '广州市',
    city_en: 'Guangzhou',
    population: 1_107_200,
    population_source:
      'Huadu District 14th Five-Year emergency-management plan: about 1,107,200 residents (the 2020 census counted about 1.64 million resident population; the plan’s figure is used here)',
    population_approximate: false,
    shelter_target_m2: 1.0,
    target_source: 'Huadu District plan, binding indicator: 1 m² of shelter area per resident',
    communities_source: 'synthetic: 5 communities per street, 4 per town (1 community + 3 villages); names invented',
    streets: streets([
      ['新华', 'Xinhua', 'street', 5, 0],
      ['新雅', 'Xinya', 'street', 5, 0],
      ['秀全', 'Xiuquan', 'street', 5, 0],
      ['花城', 'Huacheng', 'street', 5, 0],
      ['狮岭', 'Shiling', 'town', 4, 3],
      ['炭步', 'Tanbu', 'town', 4, 3],
      ['赤坭', 'Chini', 'town', 4, 3],
      ['花山', 'Huashan', 'town', 4, 3],
      ['花东', 'Huadong', 'town', 4, 3],
      ['梯面', 'Timian', 'town', 4, 3],
    ]),
  },
  {
    id: 'wujiang',
    adcode: 440203,
    name_zh: '武江区',
    name_en: 'Wujiang District',
    city_zh: '韶关市',
    city_en: 'Shaoguan',
    population: 400_000,
    population_source:
      'approximate estimate, about 400,000 residents: the 2020 census figure for Wujiang could not be checked offline (Shaoguan city 2,855,131; neighbouring Zhenjiang 364,319 and Qujiang 290,455 in 2020; Wujiang about 318,500 at the end of 2018)',
    population_approximate: true,
    shelter_target_m2: 1.5,
    target_source: 'none in the Wujiang plan: GB 21734-2008 default (more than 1.5 m² of effective area per person)',
    communities_source: 'synthetic: 5 communities per street, 4 per town (1 community + 3 villages); names invented',
    streets: streets([
      ['新华', 'Xinhua', 'street', 5, 0],
      ['惠民', 'Huimin', 'street', 5, 0],
      ['重阳', 'Chongyang', 'town', 4, 3],
      ['西联', 'Xilian', 'town', 4, 3],
      ['西河', 'Xihe', 'town', 4, 3],
      ['龙归', 'Longgui', 'town', 4, 3],
      ['江湾', 'Jiangwan', 'town', 4, 3],
    ]),
  },
  {
    id: 'pingshan',
    adcode: 440310,
    name_zh: '坪山区',
    name_en: 'Pingshan District',
    city_zh: '深圳市',
    city_en: 'Shenzhen',
    population: 551_333,
    population_source:
      '7th national population census (2020), resident population of Pingshan District as best known: 551,333 (approximate; not checked against the bulletin offline)',
    population_approximate: true,
    shelter_target_m2: 1.5,
    target_source: 'Pingshan District 14th Five-Year emergency-management plan: 1.5 m² of shelter area per person',
    communities_source: 'Pingshan plan: 6 streets, 23 communities (the split per street and the names are synthetic)',
    streets: streets([
      ['坪山', 'Pingshan', 'street', 4, 0],
      ['马峦', 'Maluan', 'street', 4, 0],
      ['碧岭', 'Biling', 'street', 3, 0],
      ['石井', 'Shijing', 'street', 4, 0],
      ['坑梓', 'Kengzi', 'street', 4, 0],
      ['龙田', 'Longtian', 'street', 4, 0],
    ]),
  },
  {
    id: 'jianghai',
    adcode: 440704,
    name_zh: '江海区',
    name_en: 'Jianghai District',
    city_zh: '江门市',
    city_en: 'Jiangmen',
    population: 364_700,
    population_source:
      '7th national population census (2020): about 364,700 residents (reported as 36.47万 in a secondary summary of the census; approximate)',
    population_approximate: true,
    shelter_target_m2: 1.5,
    target_source: 'none in the Jianghai plan: GB 21734-2008 default (more than 1.5 m² of effective area per person)',
    communities_source:
      'Jianghai plan: 3 streets, 42 villages/communities (the split per street, the village/community mix and the names are synthetic)',
    streets: streets([
      ['外海', 'Waihai', 'street', 15, 9],
      ['礼乐', 'Lile', 'street', 15, 8],
      ['江南', 'Jiangnan', 'street', 12, 2],
    ]),
  },
];

export function streetId(district: DistrictId, slug: string): string {
  return `${district}-${slug}`;
}

const ZH_NUMERALS = ['〇', '一', '二', '三', '四', '五', '六', '七', '八', '九', '十'];

/** 1..99 in Chinese numerals: 3 → 三, 12 → 十二, 20 → 二十. */
export function chineseNumeral(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 99) throw new Error(`numeral out of range: ${n}`);
  if (n <= 10) return ZH_NUMERALS[n];
  const tens = Math.floor(n / 10);
  const ones = n % 10;
  return (tens === 1 ? '' : ZH_NUMERALS[tens]) + '十' + (ones ? ZH_NUMERALS[ones] : '');
}
