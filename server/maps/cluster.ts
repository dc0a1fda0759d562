/**
 * Screen-space grid clustering for static maps: points falling in the same
 * `cell`×`cell` pixel square are drawn as one circle with their count when there
 * are at least `minPoints` of them; sparser cells keep their points. The ring of
 * a cluster takes the colour of its most severe member (for risk layers: red
 * over orange over yellow over blue), so a red point is never hidden in a blue
 * cluster.
 */
export interface ScreenPoint {
  x: number;
  y: number;
  color: string;
  /** Severity rank: 0 is the most severe. Ties keep the first point's colour. */
  rank: number;
}

export interface ScreenCluster {
  /** Centre: mean of the members' positions. */
  x: number;
  y: number;
  count: number;
  /** Colour of the most severe member. */
  color: string;
}

export function gridCluster(points: readonly ScreenPoint[], cell: number, minPoints: number): { singles: ScreenPoint[]; clusters: ScreenCluster[] } {
  const cells = new Map<string, ScreenPoint[]>();
  for (const p of points) {
    const key = `${Math.floor(p.x / cell)},${Math.floor(p.y / cell)}`;
    const members = cells.get(key);
    if (members) members.push(p);
    else cells.set(key, [p]);
  }
  const singles: ScreenPoint[] = [];
  const clusters: ScreenCluster[] = [];
  for (const members of cells.values()) {
    if (members.length < minPoints) {
      singles.push(...members);
      continue;
    }
    let sx = 0;
    let sy = 0;
    let worst = members[0];
    for (const m of members) {
      sx += m.x;
      sy += m.y;
      if (m.rank < worst.rank) worst = m;
    }
    clusters.push({ x: sx / members.length, y: sy / members.length, count: members.length, color: worst.color });
  }
  return { singles, clusters };
}
