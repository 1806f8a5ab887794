// OWL, outlier-weighted layerwise sparsity (Yin et al. 2024), following luuyin/OWL
// lib/prune_all.py: check_outlier_mean and the all_layer_ratio lines of prune_wanda_outlier.
// One entry per transformer block; the mean is the plain mean over blocks (the reference's
// blocks all have the same parameter count, and it shifts by the plain mean).
import type { Matrix } from '../types.ts';
import { wandaScores } from '../wanda.ts';
import { assertWeight } from '../validate.ts';
import { MAX_LAYER_SPARSITY, plainMean, shiftToMean, validateTarget } from './redistribute.ts';

/** OWL's defaults: Hyper_m = 5 (llama7b_wanda_owll.sh; main.py's default is 3), Lamda = 0.08. */
export const OWL_HYPER_M = 5;
export const OWL_LAMBDA = 0.08;

export interface OwlLinear {
  weight: Matrix;
  /** (C_in) Σ_t x² of its inputs (LayerStats.sqNorm). */
  sqNorm: Float64Array;
}

/**
 * D = #{A > M·mean(A)} / numel(A), A = the Wanda scores of all linears of one block together. A
 * fraction; the reference reports percent (×100), which the min–max normalisation cancels.
 */
export function owlOutlierRatio(block: readonly OwlLinear[], hyperM = OWL_HYPER_M): number {
  const scores = block.map((linear, i) => {
    assertWeight(linear.weight, `OWL: block linear ${i}`);
    return wandaScores(linear.weight, linear.sqNorm);
  });
  const count = scores.reduce((sum, s) => sum + s.length, 0);
  const mean = scores.reduce((sum, s) => s.reduce((acc, v) => acc + v, sum), 0) / count;
  const threshold = mean * hyperM;
  let outliers = 0;
  for (const s of scores) for (const v of s) if (v > threshold) outliers++;
  return outliers / count;
}

export interface OwlOptions {
  lambda?: number;
  /** Upper bound per block; the reference only lifts s <= 0 to 0.01 and has none. */
  maxSparsity?: number;
}

/**
 * sparsity_ℓ = 1 − (D̂_ℓ − mean D̂ + 1 − S), D̂ = (D − min D) · 2λ / (max D − min D), the
 * reference's exact expression. Its plain mean is S. When a block falls outside
 * [0, maxSparsity] all blocks are shifted by one constant and clamped so the mean stays S (the
 * reference would set s <= 0 to 0.01 and let the mean drift). Equal D everywhere (the
 * reference divides by zero) gives the uniform allocation.
 */
export function owlAllocation(outlierRatios: readonly number[], target: number, options: OwlOptions = {}): number[] {
  const { lambda = OWL_LAMBDA, maxSparsity = MAX_LAYER_SPARSITY } = options;
  validateTarget(target, 'OWL allocation', maxSparsity);
  const lo = Math.min(...outlierRatios);
  const hi = Math.max(...outlierRatios);
  if (!(hi > lo)) return outlierRatios.map(() => target);
  const normalised = outlierRatios.map((d) => (d - lo) * ((1 / (hi - lo)) * lambda * 2));
  const mean = plainMean(normalised);
  const sparsity = normalised.map((d) => 1 - (d - mean + (1 - target)));
  return shiftToMean(sparsity, target, 0, maxSparsity);
}
