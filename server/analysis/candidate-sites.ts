import type { Queryable } from '../db/types.ts';
import type { ShelterClass } from './options.ts';
import type { Candidate } from './siting.ts';

/**
 * Candidate sites (the `candidate_sites` layer: parks, squares, school
 * playgrounds, stadiums) as siting candidates. A site smaller than the minimum
 * site of the proposed class (GB 50413 §8.2.9) cannot hold such a shelter and
 * is skipped, with the reason; a site of unknown area is kept and said to be
 * unchecked. A site's capacity comes from its own area where known.
 */

export interface SkippedSite {
  id: number;
  name_zh: string;
  name_en: string | null;
  kind: string;
  area_m2: number | null;
  reason: string;
}

export async function districtHasSites(db: Queryable, districtId: string): Promise<boolean> {
  const r = await db.query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM candidate_sites WHERE district_id = $1 AND deleted_at IS NULL) AS any', [districtId]);
  return r.rows[0].any;
}

export async function siteCandidates(
  db: Queryable,
  districtId: string,
  cls: ShelterClass,
  minAreaM2: number,
): Promise<{ list: Candidate[]; skipped: SkippedSite[] }> {
  const r = await db.query<{ id: number; name_zh: string; name_en: string | null; kind: string; area_m2: string | number | null; ownership: string | null; lon: number; lat: number }>(
    `SELECT id::int8 AS id, name_zh, name_en, kind, area_m2, ownership, ST_X(geom) AS lon, ST_Y(geom) AS lat
       FROM candidate_sites WHERE district_id = $1 AND deleted_at IS NULL ORDER BY id`,
    [districtId],
  );
  const list: Candidate[] = [];
  const skipped: SkippedSite[] = [];
  for (const row of r.rows) {
    const area = row.area_m2 === null ? null : Number(row.area_m2);
    const site = { name_zh: row.name_zh, name_en: row.name_en, kind: row.kind, area_m2: area, ownership: row.ownership };
    if (area !== null && area < minAreaM2) {
      skipped.push({ id: Number(row.id), name_zh: row.name_zh, name_en: row.name_en, kind: row.kind, area_m2: area, reason: `site area ${area} m² is below the ${minAreaM2} m² minimum site of ${cls === 'emergency' ? 'an' : 'a'} ${cls} shelter (GB 50413 §8.2.9)` });
      continue;
    }
    list.push({ lon: Number(row.lon), lat: Number(row.lat), source: 'candidate_sites', id: Number(row.id), site });
  }
  return { list, skipped };
}

/** How a proposed site's size was checked, for the answer. */
export function siteAreaCheck(c: Candidate, cls: ShelterClass, minAreaM2: number) {
  if (!c.site) return undefined;
  const known = c.site.area_m2 !== null;
  return {
    name_zh: c.site.name_zh,
    name_en: c.site.name_en,
    kind: c.site.kind,
    ownership: c.site.ownership,
    area_m2: c.site.area_m2,
    min_area_m2: minAreaM2,
    large_enough: known ? true : null,
    area_check: known ? `${c.site.area_m2} m² ≥ ${minAreaM2} m², the minimum site of ${cls === 'emergency' ? 'an' : 'a'} ${cls} shelter (GB 50413 §8.2.9)` : 'site area unknown: not checked',
  };
}
