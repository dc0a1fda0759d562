/**
 * Distances in metres on the WGS84 ellipsoid, never in degrees.
 *
 * For the short distances of shelter analysis the two points are projected
 * onto the plane tangent at their mid-latitude using the ellipsoid's radii of
 * curvature there (meridian M and prime vertical N): fast, and within about a
 * millimetre of the geodesic (what PostGIS `geography` computes) up to 10 km.
 * Beyond 10 km Vincenty's inverse formula takes over, so distances to far
 * shelters are exact too. No antimeridian handling: the data are in China.
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

/** Above this (metres) the tangent-plane estimate hands over to Vincenty's geodesic. */
const FLAT_LIMIT_M = 10_000;

/** Distance in metres between two lon/lat points (WGS84). */
export function distanceM(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const phi = ((lat1 + lat2) / 2) * RAD;
  const s = Math.sin(phi);
  const w = 1 - E2 * s * s;
  const sw = Math.sqrt(w);
  const dx = (lon2 - lon1) * RAD * (A / sw) * Math.cos(phi);
  const dy = (lat2 - lat1) * RAD * ((A * (1 - E2)) / (w * sw));
  const flat = Math.sqrt(dx * dx + dy * dy);
  return flat <= FLAT_LIMIT_M ? flat : (vincenty(lon1, lat1, lon2, lat2) ?? flat);
}

/** Vincenty's inverse formula on WGS84 (sub-millimetre); null when it does not converge (nearly antipodal points). */
export function vincenty(lon1: number, lat1: number, lon2: number, lat2: number): number | null {
  const b = A * (1 - F);
  const L = (lon2 - lon1) * RAD;
  const U1 = Math.atan((1 - F) * Math.tan(lat1 * RAD));
  const U2 = Math.atan((1 - F) * Math.tan(lat2 * RAD));
  const sinU1 = Math.sin(U1), cosU1 = Math.cos(U1), sinU2 = Math.sin(U2), cosU2 = Math.cos(U2);
  let lambda = L;
  for (let iter = 0; iter < 200; iter++) {
    const sinL = Math.sin(lambda), cosL = Math.cos(lambda);
    const sinSigma = Math.sqrt((cosU2 * sinL) ** 2 + (cosU1 * sinU2 - sinU1 * cosU2 * cosL) ** 2);
    if (sinSigma === 0) return 0;
    const cosSigma = sinU1 * sinU2 + cosU1 * cosU2 * cosL;
    const sigma = Math.atan2(sinSigma, cosSigma);
    const sinAlpha = (cosU1 * cosU2 * sinL) / sinSigma;
    const cos2Alpha = 1 - sinAlpha * sinAlpha;
    const cos2SigmaM = cos2Alpha !== 0 ? cosSigma - (2 * sinU1 * sinU2) / cos2Alpha : 0;
    const C = (F / 16) * cos2Alpha * (4 + F * (4 - 3 * cos2Alpha));
    const prev = lambda;
    lambda = L + (1 - C) * F * sinAlpha * (sigma + C * sinSigma * (cos2SigmaM + C * cosSigma * (-1 + 2 * cos2SigmaM * cos2SigmaM)));
    if (Math.abs(lambda - prev) < 1e-12) {
      const u2 = (cos2Alpha * (A * A - b * b)) / (b * b);
      const bigA = 1 + (u2 / 16384) * (4096 + u2 * (-768 + u2 * (320 - 175 * u2)));
      const bigB = (u2 / 1024) * (256 + u2 * (-128 + u2 * (74 - 47 * u2)));
      const deltaSigma =
        bigB * sinSigma * (cos2SigmaM + (bigB / 4) * (cosSigma * (-1 + 2 * cos2SigmaM * cos2SigmaM) - (bigB / 6) * cos2SigmaM * (-3 + 4 * sinSigma * sinSigma) * (-3 + 4 * cos2SigmaM * cos2SigmaM)));
      return b * bigA * (sigma - deltaSigma);
    }
  }
  return null;
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
