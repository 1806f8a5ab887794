// Sensitivity-based allocation, following Edge-LLM's layer-wise unified compression
// (GATECH-EIC/Edge-LLM pruning/pruning_schedular.py get_pruning_schedular): each layer's output
// error when it alone is pruned at several ratios, s_ℓ = the mean error, u = 1 − minmax(s),
// p_ℓ = u_ℓ / Σu · S·L. The mean is the plain mean over layers (S·L in the reference).
import { PruneError } from '../types.ts';
import { fillProportionalThenEvenly, validateTarget } from './redistribute.ts';

/** The pruning ratios the reference measures each layer at. */
export const SENSITIVITY_RATIOS = [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9];
export const SENSITIVITY_MAX_SPARSITY = 0.95;

/**
 * errors[ℓ][k]: layer ℓ's output error with only that layer pruned at ratio k. The reference
 * does not clamp (p can exceed 1); here p is capped at maxSparsity and the excess goes to the
 * other layers in proportion to u (then evenly, if only layers with u = 0 are left).
 */
export function sensitivityAllocation(errors: readonly (readonly number[])[], target: number, maxSparsity = SENSITIVITY_MAX_SPARSITY): number[] {
  validateTarget(target, 'sensitivity allocation', maxSparsity);
  const meanError = errors.map((row, layer) => {
    if (row.length === 0 || !row.every(Number.isFinite)) {
      throw new PruneError(`sensitivity allocation: layer ${layer} needs finite errors, got [${row.join(', ')}]`);
    }
    return row.reduce((sum, e) => sum + e, 0) / row.length;
  });
  const lo = Math.min(...meanError);
  const hi = Math.max(...meanError);
  if (!(hi > lo)) return meanError.map(() => target);
  const robustness = meanError.map((s) => 1 - (s - lo) / (hi - lo));
  const robustnessSum = robustness.reduce((sum, u) => sum + u, 0);
  const budget = target * errors.length;
  const ratios = robustness.map((u) => (u / robustnessSum) * budget);
  if (ratios.every((p) => p <= maxSparsity)) return ratios;
  const caps = ratios.map(() => maxSparsity);
  return fillProportionalThenEvenly(robustness, caps.map(() => 0), caps, budget);
}
