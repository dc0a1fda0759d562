import { getLayer, RISK_LEVELS, DISTRICT_IDS, type LayerDef } from '../../../catalog/layers.ts';
import type { SourceFeature } from '../../../tiles/source.ts';

/**
 * Synthetic risk points for the large-layer test and bench, with the properties
 * of the real `risk_points` layer and lengths like the demo data's. Most points
 * sit in five clumps around the demo districts (people and risk concentrate in
 * towns), the rest spread over the surrounding region. Deterministic per seed.
 */
export const SYNTHETIC_LAYER: LayerDef = getLayer('risk_points')!;

const CENTRES: [number, number][] = [
  [113.27, 23.13], // Yuexiu
  [113.22, 23.40], // Huadu
  [113.59, 24.80], // Wujiang
  [114.35, 22.70], // Pingshan
  [113.12, 22.55], // Jianghai
];

const CATEGORIES = ['production_safety', 'fire', 'hazardous_chemicals', 'construction', 'gas', 'crowded_place', 'traffic', 'flood', 'geohazard', 'other'];
const UNITS = ['街道办事处', '区应急管理局', '区住房和城乡建设局', '区消防救援大队', '区交通运输局', '燃气公司'];

export function syntheticRiskPoints(count: number, seed = 1): SourceFeature[] {
  let s = seed >>> 0 || 1;
  const rand = () => {
    // xorshift32: fast, deterministic, good enough for positions
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const features: SourceFeature[] = [];
  for (let i = 1; i <= count; i++) {
    let lon: number;
    let lat: number;
    const d = Math.floor(rand() * 5);
    if (rand() < 0.7) {
      lon = CENTRES[d][0] + gauss() * 0.05;
      lat = CENTRES[d][1] + gauss() * 0.05;
    } else {
      lon = 112.5 + rand() * 2.5;
      lat = 22 + rand() * 3;
    }
    // Levels skewed like real registers: few red, many blue.
    const r = rand();
    const level = r < 0.05 ? RISK_LEVELS[0] : r < 0.2 ? RISK_LEVELS[1] : r < 0.5 ? RISK_LEVELS[2] : RISK_LEVELS[3];
    const month = 1 + Math.floor(rand() * 12);
    const day = 1 + Math.floor(rand() * 28);
    features.push({
      id: i,
      geometry: { type: 'Point', coordinates: [lon, lat] },
      properties: {
        name_zh: `合成风险点第${i}号仓储区`,
        name_en: `Synthetic risk point ${i}`,
        district_id: DISTRICT_IDS[d],
        street_id: `${DISTRICT_IDS[d]}-s${1 + Math.floor(rand() * 8)}`,
        level,
        category: CATEGORIES[Math.floor(rand() * CATEGORIES.length)],
        level_source: rand() < 0.5 ? 'assessed' : 'manual',
        responsible_unit: UNITS[Math.floor(rand() * UNITS.length)],
        last_inspection: `2026-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`,
        address: `合成地址${Math.floor(rand() * 900 + 100)}号`,
        synthetic: true,
      },
    });
  }
  return features;
}
