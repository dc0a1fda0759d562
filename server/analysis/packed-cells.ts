import type { PopulationCell } from './model.ts';

/**
 * Population cells as columns of typed arrays, for sending to a worker thread.
 * postMessage copies an array of objects field by field on the main thread
 * (measured ~28 ms for Huadu's 4,140 cells on the loaded machine, holding every
 * other request); typed arrays are copied as blocks of memory. Packed once per
 * snapshot (the snapshot never changes), unpacked on the worker.
 */
export interface PackedCells {
  id: Float64Array;
  lon: Float64Array;
  lat: Float64Array;
  residents: Float64Array;
  /** Index into `units`, -1 for none. */
  street: Int32Array;
  community: Int32Array;
  units: string[];
}

const packed = new WeakMap<readonly PopulationCell[], PackedCells>();

export function packCells(cells: readonly PopulationCell[]): PackedCells {
  const known = packed.get(cells);
  if (known) return known;
  const n = cells.length;
  const units: string[] = [];
  const unitIndex = new Map<string, number>();
  const indexOf = (u: string | null) => {
    if (u === null) return -1;
    let i = unitIndex.get(u);
    if (i === undefined) unitIndex.set(u, (i = units.push(u) - 1));
    return i;
  };
  const p: PackedCells = {
    id: new Float64Array(n),
    lon: new Float64Array(n),
    lat: new Float64Array(n),
    residents: new Float64Array(n),
    street: new Int32Array(n),
    community: new Int32Array(n),
    units,
  };
  for (let i = 0; i < n; i++) {
    const c = cells[i];
    p.id[i] = c.id;
    p.lon[i] = c.lon;
    p.lat[i] = c.lat;
    p.residents[i] = c.residents;
    p.street[i] = indexOf(c.streetId);
    p.community[i] = indexOf(c.communityId);
  }
  packed.set(cells, p);
  return p;
}

/**
 * Packs the cells written as JSON text, `[[id, residents, lon, lat, street_id,
 * community_id], …]` (server/analysis/snapshot.ts): the same arrays packCells
 * gives for the same cells.
 */
export function packCellsFromJson(json: string): PackedCells {
  const rows = JSON.parse(json) as [number, number, number, number, string | null, string | null][];
  return packCells(rows.map(([id, residents, lon, lat, streetId, communityId]) => ({ id, residents, lon, lat, streetId, communityId })));
}

/** The cells as objects; packCells gives back `p` for them, without packing again. */
export function unpackCells(p: PackedCells): PopulationCell[] {
  const out: PopulationCell[] = new Array(p.id.length);
  for (let i = 0; i < p.id.length; i++) {
    out[i] = {
      id: p.id[i],
      lon: p.lon[i],
      lat: p.lat[i],
      residents: p.residents[i],
      streetId: p.street[i] < 0 ? null : p.units[p.street[i]],
      communityId: p.community[i] < 0 ? null : p.units[p.community[i]],
    };
  }
  packed.set(out, p);
  return out;
}
