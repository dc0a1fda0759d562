import type { PopulationCell } from './model.ts';
import type { Reach } from './reach.ts';

/**
 * Two-step floating catchment area (2SFCA; Luo & Wang 2003) with optional
 * distance decay (E2SFCA):
 *   step 1, per shelter j:  R_j = S_j / Σ_{k: d_kj ≤ r_j} P_k · W(d_kj)
 *   step 2, per cell i:     A_i = Σ_{j: d_ij ≤ r_j} R_j · W(d_ij)
 * S_j is the shelter's effective area (m²), P_k the cell's residents, r_j the
 * shelter's class radius. A_i is shelter area accessible per resident (m²), to
 * compare with the target: a street next to a big park is not called short of
 * shelter just because the park lies across its boundary.
 * Invariant: Σ_i P_i · A_i = Σ of S_j over shelters with someone in reach.
 */
export type Decay = 'none' | 'gaussian' | 'steps';

const E_HALF = Math.exp(-0.5);

/** Weight of a resident at distance d from a shelter of radius r (0 beyond r). */
export function decayWeight(decay: Decay, d: number, r: number): number {
  if (d > r) return 0;
  switch (decay) {
    case 'none':
      return 1;
    case 'gaussian': {
      // Dai (2010): Gaussian kernel rescaled to 1 at the shelter and 0 at the radius
      const t = d / r;
      return (Math.exp(-0.5 * t * t) - E_HALF) / (1 - E_HALF);
    }
    case 'steps':
      // Luo & Qi (2009) E2SFCA: three zones with Gaussian weights 1, 0.68, 0.22
      return d <= r / 3 ? 1 : d <= (2 * r) / 3 ? 0.68 : 0.22;
  }
}

export interface CatchmentResult {
  /** Per shelter: weighted residents in its catchment. */
  demand: Float64Array;
  /** Per shelter: m² per weighted resident of its catchment; NaN when no one is in reach. */
  ratio: Float64Array;
  /** Per cell: accessible shelter area per resident, m². */
  access: Float64Array;
}

export function twoStepCatchment(
  cells: readonly Pick<PopulationCell, 'residents'>[],
  reach: Reach,
  /** Supply of each shelter of the reach (effective area, m²). */
  supply: ArrayLike<number>,
  decay: Decay,
): CatchmentResult {
  const { shelterCount, shelterStart, cellOf, distOf, radiusOf } = reach;
  const demand = new Float64Array(shelterCount);
  const ratio = new Float64Array(shelterCount);
  const access = new Float64Array(reach.cellCount);
  for (let j = 0; j < shelterCount; j++) {
    let sum = 0;
    for (let k = shelterStart[j]; k < shelterStart[j + 1]; k++) sum += cells[cellOf[k]].residents * decayWeight(decay, distOf[k], radiusOf[j]);
    demand[j] = sum;
    ratio[j] = sum > 0 ? supply[j] / sum : NaN;
  }
  for (let j = 0; j < shelterCount; j++) {
    if (!(demand[j] > 0)) continue;
    for (let k = shelterStart[j]; k < shelterStart[j + 1]; k++) access[cellOf[k]] += ratio[j] * decayWeight(decay, distOf[k], radiusOf[j]);
  }
  return { demand, ratio, access };
}
