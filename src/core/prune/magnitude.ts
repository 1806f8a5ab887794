// Magnitude pruning: score |W_ij|. The comparison group is the layer by default (wanda's
// prune_magnitude), or each output row, or global across layers (magnitudePruneGlobal).
import { keepNMScaled, NM_SCALED_MAX_M } from '../linalg/masks.ts';
import type { Matrix, PruneResult } from './types.ts';
import { applyKeepMask, keepGlobal } from './masks.ts';
import { keepForPattern, type ComparisonGroup } from './patternMask.ts';
import { validatePattern, validateSparsity, type SparsityPattern } from './patterns.ts';
import { assertWeight } from './validate.ts';

export function magnitudeScores(weight: Matrix): Float32Array {
  const scores = new Float32Array(weight.data.length);
  for (let i = 0; i < scores.length; i++) scores[i] = Math.abs(weight.data[i]);
  return scores;
}

export function magnitudePrune(weight: Matrix, pattern: SparsityPattern, group: ComparisonGroup = 'layer'): PruneResult {
  assertWeight(weight, 'magnitude');
  validatePattern(pattern, weight.rows, weight.cols);
  const { rows, cols } = weight;
  if (pattern.kind === 'nm' && pattern.m <= NM_SCALED_MAX_M) {
    // |w|·1 in float64 orders exactly as |w| in float32 (linalg/masks.ts: keepNM's rule).
    return applyKeepMask(weight, { rows, cols, data: keepNMScaled(weight.data, rows, cols, new Float64Array(cols).fill(1), pattern.n, pattern.m) });
  }
  const scores = { rows, cols, data: magnitudeScores(weight) };
  return applyKeepMask(weight, keepForPattern(scores, pattern, group));
}

/** One threshold for all `weights` together: exactly ⌊Σnumel·s⌋ of their weights are pruned. */
export function magnitudePruneGlobal(weights: Matrix[], sparsity: number): PruneResult[] {
  validateSparsity(sparsity);
  weights.forEach((weight, i) => assertWeight(weight, `magnitude (global), layer ${i}`));
  const scores = weights.map((weight) => ({ rows: weight.rows, cols: weight.cols, data: magnitudeScores(weight) }));
  const keeps = keepGlobal(scores, sparsity);
  return weights.map((weight, i) => applyKeepMask(weight, keeps[i]));
}
