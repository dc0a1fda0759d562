import type { Feature, FeatureCollection, Polygon } from 'geojson';
import type { Db } from '../db/types.ts';
import type { ShelterClass, ShelterStatus } from './options.ts';
import { gapsQuery } from './params.ts';
import { shelterAnalysisFor } from './service.ts';

/**
 * The computed `coverage_gaps` layer for the tile engine: uncovered areas of one
 * district (or of every district) as GeoJSON polygons with the layer's
 * properties. Uses the same cached analysis as /analysis/coverage/gaps, so a
 * tile and the endpoint never disagree; results are keyed on the data version.
 */
export interface CoverageGapProperties {
  district_id: string;
  rank: number;
  residents: number;
  area_m2: number;
  cells: number;
  synthetic: boolean;
}

export interface CoverageGapOptions {
  /** Service radius per class, metres (defaults: the analysis options). */
  radii?: Partial<Record<ShelterClass, number>>;
  /** Shelter statuses that count (default: open, standby, full). */
  statuses?: readonly ShelterStatus[];
  /** Shelters to leave out by id (e.g. exposed to a hazard). */
  excludeShelters?: readonly number[];
}

export async function coverageGapFeatures(db: Db, district?: string, options: CoverageGapOptions = {}): Promise<FeatureCollection<Polygon, CoverageGapProperties>> {
  const service = shelterAnalysisFor(db);
  const districts = district
    ? [district]
    : (await db.query<{ id: string }>('SELECT id FROM districts ORDER BY id')).rows.map((r) => r.id);
  const query: Record<string, string> = { district: '' };
  for (const [cls, r] of Object.entries(options.radii ?? {})) if (r !== undefined) query[`radius_${cls}`] = String(r);
  if (options.statuses) query.shelter_status = options.statuses.join(',');
  if (options.excludeShelters?.length) query.exclude_shelters = options.excludeShelters.join(',');
  const features: Feature<Polygon, CoverageGapProperties>[] = [];
  for (const id of districts) {
    const q = gapsQuery.parse({ ...query, district: id });
    const result = await service.gaps(q);
    for (const gap of result.gaps) {
      const { geometry, ...props } = gap;
      features.push({ type: 'Feature', id: `${id}-${gap.rank}`, geometry, properties: { district_id: id, ...props } });
    }
  }
  return { type: 'FeatureCollection', features };
}
