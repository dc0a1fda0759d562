import type { Polygon } from 'geojson';
import type { Db, StatementScope } from '../db/types.ts';
import type { AnalysisServices } from '../analysis/service.ts';
import { SHELTER_CLASSES, type ShelterClass } from '../analysis/options.ts';
import type { MapArea } from './area.ts';
import type { BBox, Lang, Overlay } from './params.ts';
import type { LegendSection } from './legend.ts';
import { getLayer } from '../../catalog/layers.ts';

/**
 * The optional analysis overlay of a static map, taken from the shelter
 * coverage analysis itself so the picture and /analysis/coverage never disagree:
 * `gaps` draws the uncovered areas (the coverage service's gapFeatures, the same polygons as
 * /analysis/coverage/gaps), `coverage` the service areas of the shelters that
 * count, each a circle of its class radius — exactly the analysis's rule for
 * "covered" (straight-line distance from a usable shelter of the district).
 */
export type OverlayShapes =
  | { kind: 'gaps'; gaps: { geometry: Polygon; residents: number }[]; synthetic: boolean }
  | { kind: 'coverage'; circles: { lon: number; lat: number; radiusM: number }[]; radii: Record<ShelterClass, number>; synthetic: boolean };

/** The gaps overlay looks like the computed layer of the same polygons (its style and title win when it exists). */
const gapsLayer = getLayer('coverage_gaps');

export const OVERLAY_STYLE = {
  gaps: {
    color: gapsLayer?.style.color ?? '#d7191c',
    fillOpacity: gapsLayer?.style.fillOpacity ?? 0.4,
    lineWidth: gapsLayer?.style.lineWidth ?? 1,
  },
  coverage: { color: '#1a9850', fillOpacity: 0.22 },
} as const;

/** Districts the overlay is computed for: the area's own, or every district a bbox touches. */
async function districtsOf(db: Db, area: MapArea, extent: BBox): Promise<string[]> {
  if (area.districtId) return [area.districtId];
  const { rows } = await db.query<{ id: string }>('SELECT id FROM districts WHERE geom && ST_MakeEnvelope($1, $2, $3, $4, 4326) ORDER BY id', [...extent]);
  return rows.map((r) => r.id);
}

/** `db`: the map's (scopedDb); `scope`: the same request, for the analysis behind the gaps. */
export async function loadOverlay(db: Db, analysis: AnalysisServices, overlay: Overlay, area: MapArea, extent: BBox, scope: StatementScope | undefined): Promise<OverlayShapes> {
  if (overlay === 'gaps') {
    const gaps: { geometry: Polygon; residents: number }[] = [];
    let synthetic = false;
    const fc = await analysis.coverage.gapFeatures(area.districtId ? { district: area.districtId } : { bbox: extent }, scope);
    for (const f of fc.features) {
      gaps.push({ geometry: f.geometry, residents: f.properties.residents });
      synthetic ||= f.properties.synthetic;
    }
    return { kind: 'gaps', gaps, synthetic };
  }
  const districts = await districtsOf(db, area, extent);
  const { radiusM, shelterStatuses } = analysis.options;
  const { rows } = await db.query<{ lon: number; lat: number; shelter_class: ShelterClass; synthetic: boolean }>(
    `SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat, shelter_class, synthetic
       FROM shelters
      WHERE district_id = ANY($1::text[]) AND deleted_at IS NULL AND status = ANY($2::text[])
      ORDER BY id`,
    [districts, [...shelterStatuses]],
  );
  return {
    kind: 'coverage',
    // Largest first, so small circles stay visible on top (they are all one colour anyway).
    circles: rows.map((r) => ({ lon: Number(r.lon), lat: Number(r.lat), radiusM: radiusM[r.shelter_class] })).sort((a, b) => b.radiusM - a.radiusM),
    radii: radiusM,
    synthetic: rows.some((r) => r.synthetic === true),
  };
}

const CLASS_TITLES: Record<ShelterClass, { zh: string; en: string }> = {
  emergency: { zh: '紧急避难场所', en: 'Emergency' },
  fixed: { zh: '固定避难场所', en: 'Fixed' },
  central: { zh: '中心避难场所', en: 'Central' },
};

export function overlaySection(shapes: OverlayShapes, lang: Lang): LegendSection {
  if (shapes.kind === 'gaps') {
    return {
      title: gapsLayer?.title[lang] ?? (lang === 'zh' ? '避难场所覆盖盲区' : 'Shelter coverage gaps'),
      items: [
        {
          kind: 'polygon',
          color: OVERLAY_STYLE.gaps.color,
          fillOpacity: OVERLAY_STYLE.gaps.fillOpacity,
          lineWidth: OVERLAY_STYLE.gaps.lineWidth,
          label: lang === 'zh' ? '无可达避难场所' : 'No shelter in reach',
        },
      ],
    };
  }
  return {
    title: lang === 'zh' ? '避难场所服务范围' : 'Shelter service areas',
    items: SHELTER_CLASSES.map((c) => ({
      kind: 'polygon' as const,
      color: OVERLAY_STYLE.coverage.color,
      fillOpacity: OVERLAY_STYLE.coverage.fillOpacity,
      lineWidth: 0,
      label: `${CLASS_TITLES[c][lang]} ${shapes.radii[c]} m`,
    })),
  };
}
