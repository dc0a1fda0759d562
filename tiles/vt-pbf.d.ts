// Types for vt-pbf 3 (the package ships none): serialises geojson-vt tiles to MVT.
declare module 'vt-pbf' {
  export interface GeojsonVtLikeFeature {
    type: 1 | 2 | 3;
    geometry: [number, number][] | [number, number][][];
    tags: Record<string, unknown> | null;
    id?: number | string;
  }
  export interface GeojsonVtLikeTile {
    features: GeojsonVtLikeFeature[];
  }
  export function fromGeojsonVt(layers: Record<string, GeojsonVtLikeTile>, options?: { version?: number; extent?: number }): Uint8Array;
  const vtpbf: { fromGeojsonVt: typeof fromGeojsonVt };
  export default vtpbf;
}
