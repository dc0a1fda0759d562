/**
 * Column headers accepted in CSV/XLSX imports. Bureaus keep their "one table"
 * in Excel with Chinese headers; each is mapped to a registry property name.
 * English property names are accepted as they are. Documented in docs/import.md.
 */
export const HEADER_ALIASES: Record<string, string> = {
  名称: 'name_zh',
  名字: 'name_zh',
  中文名称: 'name_zh',
  英文名称: 'name_en',
  所属区: 'district_id',
  区: 'district_id',
  所属街道: 'street_id',
  街道: 'street_id',
  地址: 'address',
  风险等级: 'level',
  等级: 'level',
  类别: 'category',
  风险类别: 'category',
  责任单位: 'responsible_unit',
  最近检查日期: 'last_inspection',
  类型: 'kind',
  最大积水深度: 'max_depth_cm',
  致涝雨强: 'threshold_mm_h',
  状态: 'status',
  规模: 'scale',
  威胁人数: 'people_threatened',
  潜在经济损失: 'potential_loss_cny',
  专业监测: 'monitored',
  室内室外: 'setting',
  '室内/室外': 'setting',
  场所类别: 'shelter_class',
  避难时长类别: 'stay_class',
  有效避难面积: 'effective_area_m2',
  有效面积: 'effective_area_m2',
  可容纳人数: 'capacity',
  容量: 'capacity',
  联系电话: 'contact_phone',
  重大危险源: 'major_hazard',
  R值: 'r_value',
  人员数: 'personnel',
  管径: 'diameter_mm',
  经度: 'lon',
  纬度: 'lat',
  longitude: 'lon',
  latitude: 'lat',
  lng: 'lon',
  x: 'x',
  y: 'y',
  X坐标: 'x',
  Y坐标: 'y',
};

/** Cell values in Chinese mapped to the stored codes (红 → red …). */
export const VALUE_ALIASES: Record<string, string> = {
  红: 'red',
  红色: 'red',
  重大风险: 'red',
  橙: 'orange',
  橙色: 'orange',
  较大风险: 'orange',
  黄: 'yellow',
  黄色: 'yellow',
  一般风险: 'yellow',
  蓝: 'blue',
  蓝色: 'blue',
  低风险: 'blue',
  室内: 'indoor',
  室外: 'outdoor',
  是: 'true',
  否: 'false',
};

/** District names accepted in the district column. */
export const DISTRICT_ALIASES: Record<string, string> = {
  越秀区: 'yuexiu',
  越秀: 'yuexiu',
  花都区: 'huadu',
  花都: 'huadu',
  武江区: 'wujiang',
  武江: 'wujiang',
  坪山区: 'pingshan',
  坪山: 'pingshan',
  江海区: 'jianghai',
  江海: 'jianghai',
};

export function normaliseHeader(header: string): string {
  const h = header.trim().replace(/^\uFEFF/, '').replace(/[（(].*[)）]$/, '').trim();
  return HEADER_ALIASES[h] ?? HEADER_ALIASES[h.toLowerCase()] ?? h.toLowerCase();
}
