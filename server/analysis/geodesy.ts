/**
 * Distances in metres on the WGS84 ellipsoid, never in degrees.
 *
 * For the short distances of shelter analysis (≤ 50 km) the two points are
 * projected onto the plane tangent at their mid-latitude using the ellipsoid's
 * radii of curvature there (meridian M and prime vertical N). The error against
 * the geodesic (what PostGIS `geography` computes) grows with (d/R)²: about a
 * millimetre at 5 km and a few metres at 50 km. No antimeridian handling: the
 * data are in China.
 */
const A = 6378137;
const F = 1 / 298.257223563;
const E2 = F * (2 - F);
const RAD = Math.PI / 180;

/** Metres per degree of longitude (kx) and latitude (ky) at `lat`. */
export function metresPerDegree(lat: number): { kx: number; ky: number } {
  const phi = lat * RAD;
  const s = Math.sin(phi);
  const w = 1 - E2 * s * s;
  const n = A / Math.sqrt(w);
  const m = (A * (1 - E2)) / (w * Math.sqrt(w));
  return { kx: n * Math.cos(phi) * RAD, ky: m * RAD };
}

/** Distance in metres between two lon/lat points (WGS84). */
export function distanceM(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const phi = ((lat1 + lat2) / 2) * RAD;
  const s = Math.sin(phi);
  const w = 1 - E2 * s * s;
  const sw = Math.sqrt(w);
  const dx = (lon2 - lon1) * RAD * (A / sw) * Math.cos(phi);
  const dy = (lat2 - lat1) * RAD * ((A * (1 - E2)) / (w * sw));
  return Math.sqrt(dx * dx + dy * dy);
}

/** Smallest metres per degree of latitude anywhere (at the equator). */
export const MIN_METRES_PER_DEGREE_LAT = metresPerDegree(0).ky;

/** A lower bound of metres per degree of longitude anywhere between the equator and |lat|. */
export function minMetresPerDegreeLon(absLat: number): number {
  return A * Math.cos(Math.min(89.9, absLat) * RAD) * RAD;
}

/** Degrees of latitude and longitude that surely contain every point within `radiusM` of (lon, lat). */
export function searchBox(lat: number, radiusM: number): { dLon: number; dLat: number } {
  const dLat = (radiusM / MIN_METRES_PER_DEGREE_LAT) * 1.0001;
  const dLon = (radiusM / minMetresPerDegreeLon(Math.abs(lat) + dLat)) * 1.0001;
  return { dLon, dLat };
}
