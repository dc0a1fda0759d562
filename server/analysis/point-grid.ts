import { distanceM, minMetresPerDegreeLon, MIN_METRES_PER_DEGREE_LAT, searchBox } from './geodesy.ts';

/**
 * A static spatial index of lon/lat points: a uniform grid in degrees stored as
 * flat arrays (points sorted by grid cell, one offset per cell). Radius queries
 * and k-nearest queries return exact geodesic distances in metres; the grid only
 * narrows the candidates. Built once per data snapshot, queried millions of times.
 */
export class PointGrid {
  readonly size: number;
  private readonly minLon: number;
  private readonly minLat: number;
  private readonly cellDeg: number;
  private readonly cols: number;
  private readonly rows: number;
  /** offsets[c]..offsets[c+1] index into `order` for grid cell c. */
  private readonly offsets: Int32Array;
  /** Point indices sorted by grid cell. */
  private readonly order: Int32Array;
  private readonly sortedLon: Float64Array;
  private readonly sortedLat: Float64Array;
  /** Lower bound of metres per degree of longitude over the data (for k-nearest stopping). */
  private readonly kxLow: number;

  constructor(
    readonly lons: ArrayLike<number>,
    readonly lats: ArrayLike<number>,
    /** Grid cell size in degrees; default: about two points per cell. */
    cellDeg?: number,
  ) {
    const n = lons.length;
    this.size = n;
    let minLon = Infinity, minLat = Infinity, maxLon = -Infinity, maxLat = -Infinity;
    for (let i = 0; i < n; i++) {
      if (lons[i] < minLon) minLon = lons[i];
      if (lons[i] > maxLon) maxLon = lons[i];
      if (lats[i] < minLat) minLat = lats[i];
      if (lats[i] > maxLat) maxLat = lats[i];
    }
    if (n === 0) minLon = minLat = maxLon = maxLat = 0;
    const w = Math.max(maxLon - minLon, 1e-6);
    const h = Math.max(maxLat - minLat, 1e-6);
    let cell = cellDeg ?? Math.max(Math.sqrt((w * h) / Math.max(n, 1)) * 1.4, 1e-5);
    // keep the grid at most ~4 cells per point (sparse data over a large extent)
    while ((Math.floor(w / cell) + 1) * (Math.floor(h / cell) + 1) > 4 * n + 1024) cell *= 1.5;
    this.minLon = minLon;
    this.minLat = minLat;
    this.cellDeg = cell;
    this.cols = Math.floor(w / cell) + 1;
    this.rows = Math.floor(h / cell) + 1;
    this.kxLow = minMetresPerDegreeLon(Math.max(Math.abs(minLat), Math.abs(maxLat)));

    const cellOf = new Int32Array(n);
    const counts = new Int32Array(this.cols * this.rows + 1);
    for (let i = 0; i < n; i++) {
      const c = this.cellIndex(this.colOf(lons[i]), this.rowOf(lats[i]));
      cellOf[i] = c;
      counts[c + 1]++;
    }
    for (let c = 0; c < this.cols * this.rows; c++) counts[c + 1] += counts[c];
    this.offsets = counts.slice();
    const fill = counts; // reused as write cursors
    this.order = new Int32Array(n);
    // stable: points keep their input order inside a cell (deterministic tie-breaking)
    for (let i = 0; i < n; i++) this.order[fill[cellOf[i]]++] = i;
    this.sortedLon = new Float64Array(n);
    this.sortedLat = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      this.sortedLon[k] = lons[this.order[k]];
      this.sortedLat[k] = lats[this.order[k]];
    }
  }

  private colOf(lon: number): number {
    return Math.min(this.cols - 1, Math.max(0, Math.floor((lon - this.minLon) / this.cellDeg)));
  }

  private rowOf(lat: number): number {
    return Math.min(this.rows - 1, Math.max(0, Math.floor((lat - this.minLat) / this.cellDeg)));
  }

  private cellIndex(col: number, row: number): number {
    return row * this.cols + col;
  }

  /** Calls `visit(index, distanceM)` for every point within `radiusM` of (lon, lat), in grid order. */
  within(lon: number, lat: number, radiusM: number, visit: (index: number, distance: number) => void): void {
    if (this.size === 0) return;
    const { dLon, dLat } = searchBox(lat, radiusM);
    const c0 = this.colOf(lon - dLon), c1 = this.colOf(lon + dLon);
    const r0 = this.rowOf(lat - dLat), r1 = this.rowOf(lat + dLat);
    if (lon + dLon < this.minLon || lat + dLat < this.minLat) return;
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) {
        const cell = this.cellIndex(c, r);
        for (let k = this.offsets[cell], end = this.offsets[cell + 1]; k < end; k++) {
          const d = distanceM(lon, lat, this.sortedLon[k], this.sortedLat[k]);
          if (d <= radiusM) visit(this.order[k], d);
        }
      }
    }
  }

  /**
   * The `n` nearest points to (lon, lat) accepted by `accept`, nearest first
   * (ties: lower index first), optionally no farther than `maxDistanceM`.
   * Writes into `outIndex`/`outDistance` and returns how many were found.
   */
  nearest(
    lon: number,
    lat: number,
    n: number,
    outIndex: Int32Array,
    outDistance: Float64Array,
    accept?: (index: number) => boolean,
    maxDistanceM = Infinity,
  ): number {
    let found = 0;
    if (this.size === 0 || n <= 0) return 0;
    const qc = Math.floor((lon - this.minLon) / this.cellDeg);
    const qr = Math.floor((lat - this.minLat) / this.cellDeg);
    const maxRing = Math.max(this.cols, this.rows) + Math.abs(qc) + Math.abs(qr);
    // distances use the mid-latitude of query and point: bound kx over both
    const kxLow = Math.min(this.kxLow, minMetresPerDegreeLon(Math.abs(lat)));
    for (let ring = 0; ring <= maxRing; ring++) {
      const cLo = qc - ring, cHi = qc + ring, rLo = qr - ring, rHi = qr + ring;
      for (let r = Math.max(rLo, 0); r <= Math.min(rHi, this.rows - 1); r++) {
        const edgeRow = r === rLo || r === rHi;
        for (let c = Math.max(cLo, 0); c <= Math.min(cHi, this.cols - 1); c++) {
          if (!edgeRow && c !== cLo && c !== cHi) continue; // only the ring's border
          const cell = this.cellIndex(c, r);
          for (let k = this.offsets[cell], end = this.offsets[cell + 1]; k < end; k++) {
            const idx = this.order[k];
            if (accept && !accept(idx)) continue;
            const d = distanceM(lon, lat, this.sortedLon[k], this.sortedLat[k]);
            if (d > maxDistanceM) continue;
            if (found === n && (d > outDistance[n - 1] || (d === outDistance[n - 1] && idx > outIndex[n - 1]))) continue;
            // insertion into the sorted best-n list
            let pos = found < n ? found++ : n - 1;
            while (pos > 0 && (outDistance[pos - 1] > d || (outDistance[pos - 1] === d && outIndex[pos - 1] > idx))) {
              outDistance[pos] = outDistance[pos - 1];
              outIndex[pos] = outIndex[pos - 1];
              pos--;
            }
            outDistance[pos] = d;
            outIndex[pos] = idx;
          }
        }
      }
      // Every point outside this ring lies beyond the ring's square; stop when that is farther than the n-th best.
      const gapLon = Math.min(lon - (this.minLon + cLo * this.cellDeg), this.minLon + (cHi + 1) * this.cellDeg - lon);
      const gapLat = Math.min(lat - (this.minLat + rLo * this.cellDeg), this.minLat + (rHi + 1) * this.cellDeg - lat);
      // 0.999: margin for geodesics that bow poleward over long spans
      const bound = 0.999 * Math.min(Math.max(gapLon, 0) * kxLow, Math.max(gapLat, 0) * MIN_METRES_PER_DEGREE_LAT);
      if (found === n && bound > outDistance[n - 1]) break;
      if (bound > maxDistanceM) break;
      if (cLo <= 0 && rLo <= 0 && cHi >= this.cols - 1 && rHi >= this.rows - 1) break; // searched everything
    }
    return found;
  }
}
