import type { MultiPolygon, Polygon } from 'geojson';
import type { Db } from '../db/types.ts';
import type { Bilingual } from '../../catalog/layers.ts';
import { HttpProblem } from '../http/problem.ts';
import type { AreaRequest, BBox } from './params.ts';

/**
 * The area a static map shows: an administrative unit (district, street/town,
 * community/village) with its outline, or a plain bbox. Besides the outline it
 * says which finer units to draw inside for orientation (streets in a district,
 * communities in a street).
 */
export type UnitLayer = 'districts' | 'streets' | 'communities';

export interface MapArea {
  request: AreaRequest;
  /** Name printed in the title. */
  name: Bilingual;
  /** lon/lat extent of the outline (or the requested bbox). */
  bbox: BBox;
  /** Outline of the unit; null for a bbox. */
  outline: Polygon | MultiPolygon | null;
  /** District the unit lies in (the unit itself for a district); null for a bbox. */
  districtId: string | null;
  /** Registry layer of the unit itself; null for a bbox. */
  unitLayer: UnitLayer | null;
  /** Whether the outline is synthetic (street and community partitions of the demo are). */
  synthetic: boolean;
  /** Finer units drawn inside, with labels; null when there are none. */
  children: { layer: UnitLayer; column: 'district_id' | 'street_id' } | null;
}

interface UnitRow {
  name_zh: string;
  name_en: string;
  synthetic: boolean;
  geojson: string;
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
  [k: string]: unknown;
}

const extentColumns = 'ST_AsGeoJSON(u.geom, 6) AS geojson, ST_XMin(u.geom) AS xmin, ST_YMin(u.geom) AS ymin, ST_XMax(u.geom) AS xmax, ST_YMax(u.geom) AS ymax';

const UNIT_SQL: Record<UnitLayer, string> = {
  districts: `SELECT u.id AS district_id, u.name_zh, u.name_en, u.city_zh, u.city_en, u.synthetic, ${extentColumns}
                FROM districts u WHERE u.id = $1`,
  streets: `SELECT u.district_id, u.name_zh, u.name_en, u.synthetic, d.name_zh AS district_zh, d.name_en AS district_en, ${extentColumns}
              FROM streets u JOIN districts d ON d.id = u.district_id WHERE u.id = $1`,
  communities: `SELECT u.district_id, u.name_zh, u.name_en, u.synthetic, d.name_zh AS district_zh, s.name_zh AS street_zh, s.name_en AS street_en, ${extentColumns}
                  FROM communities u JOIN streets s ON s.id = u.street_id JOIN districts d ON d.id = u.district_id WHERE u.id = $1`,
};

const UNIT_OF: Record<'district' | 'street' | 'community', UnitLayer> = { district: 'districts', street: 'streets', community: 'communities' };

function formatBBoxTitle([minLon, minLat, maxLon, maxLat]: BBox): Bilingual {
  const f = (n: number) => n.toFixed(3);
  const range = `${f(minLon)}–${f(maxLon)}°E, ${f(minLat)}–${f(maxLat)}°N`;
  return { zh: `指定范围 ${range}`, en: `Area ${range}` };
}

/** 坪山区 + 坪山街道 + 坪山街道第一社区 → 坪山区坪山街道第一社区: a part already naming its parent replaces it. */
export function joinNames(parts: readonly unknown[]): string {
  const names = parts.map(String);
  return names.filter((n, i) => !(i + 1 < names.length && names[i + 1].startsWith(n))).join('');
}

export async function resolveArea(db: Db, request: AreaRequest): Promise<MapArea> {
  if (request.kind === 'bbox') {
    return { request, name: formatBBoxTitle(request.bbox), bbox: request.bbox, outline: null, districtId: null, unitLayer: null, synthetic: false, children: null };
  }
  const unitLayer = UNIT_OF[request.kind];
  const { rows } = await db.query<UnitRow>(UNIT_SQL[unitLayer], [request.id]);
  const row = rows[0];
  if (!row) {
    throw new HttpProblem(404, 'Not found', `no ${request.kind} "${request.id}"`, [{ name: request.kind, reason: `no ${request.kind} with this id` }]);
  }
  const name: Bilingual =
    unitLayer === 'districts'
      ? { zh: `${row.city_zh}${row.name_zh}`, en: `${row.name_en}, ${row.city_en}` }
      : unitLayer === 'streets'
        ? { zh: joinNames([row.district_zh, row.name_zh]), en: `${row.name_en}, ${row.district_en}` }
        : { zh: joinNames([row.district_zh, row.street_zh, row.name_zh]), en: `${row.name_en}, ${row.street_en}` };
  return {
    request,
    name,
    bbox: [row.xmin, row.ymin, row.xmax, row.ymax],
    outline: JSON.parse(row.geojson) as Polygon | MultiPolygon,
    districtId: String(row.district_id),
    unitLayer,
    synthetic: row.synthetic === true,
    children:
      unitLayer === 'districts'
        ? { layer: 'streets', column: 'district_id' }
        : unitLayer === 'streets'
          ? { layer: 'communities', column: 'street_id' }
          : null,
  };
}
