import gcoordModule from 'gcoord';

/**
 * gcoord converts between WGS84, GCJ-02 (Chinese web maps) and BD-09 (Baidu).
 * Its published type declarations export nothing, so this module gives the
 * runtime object the small typed surface we use.
 */
export type CoordSystem = 'WGS84' | 'GCJ02' | 'BD09';

interface Gcoord {
  transform(input: [number, number], from: CoordSystem, to: CoordSystem): [number, number];
  WGS84: CoordSystem;
  GCJ02: CoordSystem;
  BD09: CoordSystem;
}

export const gcoord = gcoordModule as unknown as Gcoord;

export function transformPosition(p: [number, number], from: CoordSystem, to: CoordSystem): [number, number] {
  return gcoord.transform([p[0], p[1]], gcoord[from], gcoord[to]);
}
