import type { Geometry } from 'geojson';
import { geometryBBox } from '../geo/bbox.ts';
import type { LayerDef } from '../../catalog/layers.ts';
import type { ArchiveFormat, ArchiveJson } from '../../tiles/archive/archive.ts';
import { writeArchive, type ExportProgress, type ExportResult } from './export.ts';

/**
 * Exports over HTTP from a running server: the same tiles a wall would fetch,
 * without opening the database (which, embedded, belongs to the server process).
 */
export async function fetchTilesFrom(o: {
  server: string;
  layers: readonly LayerDef[];
  bbox?: [number, number, number, number];
  district?: string;
  minzoom: number;
  maxzoom: number;
  format: ArchiveFormat;
  out: string;
  onProgress?: (p: ExportProgress) => void;
}): Promise<ExportResult> {
  const base = o.server.replace(/\/+$/, '');
  const ids = o.layers.map((l) => l.id).join(',');
  const getJson = async (url: string) => {
    const res = await fetch(url, { headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    return res.json();
  };
  let bbox = o.bbox;
  if (!bbox) {
    const boxes = await Promise.all(
      o.district!.split(',').map(async (id) => geometryBBox(((await getJson(`${base}/ogc/collections/districts/items/${encodeURIComponent(id)}?f=json`)) as { geometry: Geometry }).geometry)),
    );
    bbox = [Math.min(...boxes.map((b) => b![0])), Math.min(...boxes.map((b) => b![1])), Math.max(...boxes.map((b) => b![2])), Math.max(...boxes.map((b) => b![3]))];
  }
  const tj = (await getJson(`${base}/tiles/${ids}.json`)) as { name: string; description: string; attribution: string; vector_layers: ArchiveJson['vector_layers'] };
  return writeArchive({
    layers: o.layers,
    bbox,
    minzoom: o.minzoom,
    maxzoom: o.maxzoom,
    format: o.format,
    out: o.out,
    concurrency: 8,
    onProgress: o.onProgress,
    name: tj.name,
    description: tj.description,
    attribution: tj.attribution,
    vectorLayers: tj.vector_layers,
    render: async ({ z, x, y }) => {
      const res = await fetch(`${base}/tiles/${ids}/${z}/${x}/${y}.mvt`);
      if (res.status === 204) return null;
      if (!res.ok) throw new Error(`tile ${z}/${x}/${y}: HTTP ${res.status}`);
      return new Uint8Array(await res.arrayBuffer());
    },
  });
}
