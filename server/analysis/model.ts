import type { ShelterClass, ShelterStatus, StayClass } from './options.ts';

/** Residents of one population cell, placed at a point inside the cell (ST_PointOnSurface). */
export interface PopulationCell {
  id: number;
  lon: number;
  lat: number;
  residents: number;
  streetId: string | null;
  communityId: string | null;
}

export interface Shelter {
  id: number;
  name_zh: string;
  name_en: string | null;
  lon: number;
  lat: number;
  shelterClass: ShelterClass;
  /** Length-of-stay class (GB 21734), when recorded. */
  stayClass?: StayClass | null;
  setting: 'indoor' | 'outdoor';
  status: ShelterStatus;
  /** false when stored as unusable (hazard zone, scenario, editor's flag; migration 009); absent = usable. */
  usable?: boolean;
  effectiveAreaM2: number;
  /** Stated capacity (people). */
  capacity: number;
  /** People housed now. */
  occupancy: number;
  /** Street and community the shelter lies in (column, else the polygon that covers it). */
  streetId: string | null;
  communityId: string | null;
}

export interface AdminUnit {
  id: string;
  name_zh: string;
  name_en: string;
}

export interface DistrictInfo {
  id: string;
  name_zh: string;
  name_en: string;
  /** Shelter area per resident the district aims for, m². */
  targetM2: number;
  targetSource: string;
}

/** Everything the analyses read about one district, loaded in a few statements and cached per data version. */
export interface DistrictSnapshot {
  district: DistrictInfo;
  /** Ordered by id. */
  cells: PopulationCell[];
  /** Every shelter not deleted, ordered by id (filters by status are applied per request). */
  shelters: Shelter[];
  streets: AdminUnit[];
  communities: AdminUnit[];
  dataVersion: number;
}
