import Feature from 'ol/Feature.js';
import GeoJSON from 'ol/format/GeoJSON.js';
import { Point, type Geometry, type MultiPolygon, type Polygon } from 'ol/geom.js';
import { createEmpty, extend, type Extent } from 'ol/extent.js';
import { fetchJson, type GeoJsonCollection, type LayerInfo } from './api.ts';
import type { Bilingual } from './i18n.ts';

/**
 * Districts, streets and communities as features (from the OGC API): the district
 * picker and its extents, the planner's zoom-to-unit, and the map labels. Tiles
 * cut polygons at tile edges, so a label placed from a tile would repeat on every
 * tile; one label per unit is placed here, at a point inside its largest part.
 */
export interface AdminUnit {
  id: string;
  layer: string;
  name: Bilingual;
  extent: Extent;
  districtId: string | null;
  population: number | null;
  synthetic: boolean;
}

export interface AdminUnits {
  districts: AdminUnit[];
  byId: Map<string, AdminUnit>;
  /** Point features with `label` (set per language), `name_zh`, `name_en`, `layer` and `rank`. */
  labels: Feature<Point>[];
  /** Extent of all districts (EPSG:3857); empty when none loaded. */
  allExtent: Extent;
}

const ADMIN_LAYERS = ['districts', 'streets', 'communities'] as const;

function interiorPoint(geometry: Geometry | undefined): Point | null {
  if (!geometry) return null;
  if (geometry.getType() === 'Polygon') return new Point((geometry as Polygon).getInteriorPoint().getCoordinates().slice(0, 2));
  if (geometry.getType() === 'MultiPolygon') {
    const polys = (geometry as MultiPolygon).getPolygons();
    let best: Polygon | null = null;
    for (const p of polys) if (!best || p.getArea() > best.getArea()) best = p;
    return best ? new Point(best.getInteriorPoint().getCoordinates().slice(0, 2)) : null;
  }
  return null;
}

async function loadLayer(info: LayerInfo): Promise<Feature<Geometry>[]> {
  const href = info.links.find((l) => l.rel === 'items')?.href ?? `/ogc/collections/${info.id}/items`;
  const u = new URL(href, location.href);
  u.searchParams.set('limit', '10000');
  const wanted = ['name_zh', 'name_en', 'district_id', 'population', 'synthetic'];
  u.searchParams.set('properties', wanted.filter((name) => info.properties.some((p) => p.name === name)).join(','));
  const collection = await fetchJson<GeoJsonCollection>(`${u.pathname}${u.search}`, { headers: { Accept: 'application/geo+json' } });
  return new GeoJSON().readFeatures(collection, { featureProjection: 'EPSG:3857' }) as Feature<Geometry>[];
}

export async function loadAdminUnits(catalogue: LayerInfo[]): Promise<AdminUnits> {
  const result: AdminUnits = { districts: [], byId: new Map(), labels: [], allExtent: createEmpty() };
  const present = ADMIN_LAYERS.map((id) => catalogue.find((l) => l.id === id)).filter((l): l is LayerInfo => Boolean(l));
  const loaded = await Promise.all(present.map((info) => loadLayer(info).catch(() => [] as Feature<Geometry>[])));
  present.forEach((info, i) => {
    const rank = ADMIN_LAYERS.indexOf(info.id as (typeof ADMIN_LAYERS)[number]);
    for (const f of loaded[i]) {
      const id = String(f.getId());
      const geometry = f.getGeometry();
      if (!geometry) continue;
      const name = { zh: String(f.get('name_zh') ?? id), en: String(f.get('name_en') ?? f.get('name_zh') ?? id) };
      const unit: AdminUnit = {
        id,
        layer: info.id,
        name,
        extent: geometry.getExtent(),
        districtId: info.id === 'districts' ? id : ((f.get('district_id') as string | undefined) ?? null),
        population: typeof f.get('population') === 'number' ? f.get('population') : null,
        synthetic: f.get('synthetic') === true,
      };
      result.byId.set(`${info.id}:${id}`, unit);
      if (info.id === 'districts') {
        result.districts.push(unit);
        extend(result.allExtent, unit.extent);
      }
      const at = interiorPoint(geometry);
      if (at) result.labels.push(new Feature({ geometry: at, name_zh: name.zh, name_en: name.en, label: name.zh, layer: info.id, rank, district_id: unit.districtId }));
    }
  });
  result.districts.sort((a, b) => a.id.localeCompare(b.id));
  return result;
}
