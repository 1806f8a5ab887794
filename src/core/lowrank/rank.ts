// How many singular triplets each factorised layer keeps (docs/lowrank.md#rank-choice):
//   rank         a fixed r
//   energy       the smallest r whose Σ_{i<r} σ_i² reaches the fraction of Σ σ_i² (of W S's spectrum)
//   ratio        per layer, the parameter ratio kept: r = ⌊ratio · C_out · C_in / (C_out + C_in)⌋,
//                SVD-LLM's num_s_after_trunc
//   sensitivity  one global parameter ratio over the chosen layers, ranks allocated greedily by each
//                triplet's relative output error on the calibration inputs per parameter it costs
// A layer is factorised only where r (C_out + C_in) < C_out · C_in; otherwise it stays dense.

export type RankChoice =
  | { kind: 'rank'; rank: number }
  | { kind: 'energy'; energy: number }
  | { kind: 'ratio'; ratio: number }
  | { kind: 'sensitivity'; ratio: number };
export const RANK_CHOICE_KINDS = ['rank', 'energy', 'ratio', 'sensitivity'] as const;

/** The largest rank whose two factors store fewer parameters than W (0 for a 1 × n layer). */
export function maxSavingRank(cOut: number, cIn: number): number {
  return Math.ceil((cOut * cIn) / (cOut + cIn)) - 1;
}

/** Parameters of the two factors (bias not counted). */
export const factorParams = (rank: number, cOut: number, cIn: number): number => rank * (cOut + cIn);

/** The energy rule's rank: the smallest r with Σ_{i<r} σ_i² ≥ energy · Σ σ_i² (at least 1). */
export function energyRank(singularValues: ArrayLike<number>, energy: number): number {
  let total = 0;
  for (let i = 0; i < singularValues.length; i++) total += singularValues[i] ** 2;
  if (total === 0) return 1;
  let kept = 0;
  for (let i = 0; i < singularValues.length; i++) {
    kept += singularValues[i] ** 2;
    // A relative slack of 1e-12 keeps energy 1.0 from asking for more than the spectrum has.
    if (kept >= energy * total * (1 - 1e-12)) return i + 1;
  }
  return singularValues.length;
}

/** SVD-LLM's per-layer rank for a kept parameter ratio (SVDLLM.py: int(m · n · ratio / (m + n))). */
export const ratioRank = (ratio: number, cOut: number, cIn: number): number => Math.floor((cOut * cIn * ratio) / (cOut + cIn));

/** One layer as the global allocation sees it. */
export interface AllocationLayer {
  cOut: number;
  cIn: number;
  /** Each triplet's share of the output error (truncationErrors), in SVD order. */
  errors: ArrayLike<number>;
  /** ‖W X‖²: errors are divided by it, so layers of different scale compare. */
  energy: number;
}

/** A layer's rank from the allocation: null keeps it dense. */
export type AllocatedRank = number | null;

/**
 * Ranks meeting `budget` parameters over all layers (dense where that is cheaper), greedily: every
 * layer starts at rank 1, then the step with the largest relative-error reduction per parameter
 * is taken while it fits — one more triplet (cost C_out + C_in), or back to the dense weight
 * (cost C_out·C_in − r (C_out + C_in), gain every triplet's error still dropped). With errors that
 * fall with the index (SVD-LLM's σ_i²) this is the fractional-knapsack optimum up to the last step.
 */
export function allocateRanks(layers: readonly AllocationLayer[], budget: number): AllocatedRank[] {
  const ranks = layers.map(() => 1);
  const dense = layers.map(() => false);
  let used = layers.reduce((sum, l) => sum + factorParams(1, l.cOut, l.cIn), 0);
  const relative = layers.map((l) => Float64Array.from(l.errors, (e) => (l.energy > 0 ? e / l.energy : 0)));
  const tails = relative.map((errors) => {
    const tail = new Float64Array(errors.length + 1);
    for (let i = errors.length - 1; i >= 0; i--) tail[i] = tail[i + 1] + errors[i];
    return tail;
  });
  for (;;) {
    let best = -1;
    let bestScore = -Infinity;
    let bestToDense = false;
    layers.forEach((layer, i) => {
      if (dense[i]) return;
      const { cOut, cIn } = layer;
      const r = ranks[i];
      const stepCost = cOut + cIn;
      if (r + 1 <= maxSavingRank(cOut, cIn) && used + stepCost <= budget) {
        const score = relative[i][r] / stepCost;
        if (score > bestScore) [best, bestScore, bestToDense] = [i, score, false];
      }
      const denseCost = cOut * cIn - factorParams(r, cOut, cIn);
      if (used + denseCost <= budget) {
        const score = tails[i][r] / denseCost;
        if (score > bestScore) [best, bestScore, bestToDense] = [i, score, true];
      }
    });
    if (best < 0) break;
    const { cOut, cIn } = layers[best];
    if (bestToDense) {
      used += cOut * cIn - factorParams(ranks[best], cOut, cIn);
      dense[best] = true;
    } else {
      used += cOut + cIn;
      ranks[best]++;
    }
  }
  return ranks.map((r, i) => (dense[i] ? null : r));
}
