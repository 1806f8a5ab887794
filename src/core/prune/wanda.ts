// Wanda (Sun et al. 2023, locuslab/wanda lib/prune.py prune_wanda): score S_ij = |W_ij| · ‖X_j‖₂,
// compare within each output row, no weight update. N:M and V:N:M use the same scores.
import { PruneError, type LayerStats, type Matrix, type PruneResult } from './types.ts';
import { keepNMScaled, keepPerRowScaled, NM_SCALED_MAX_M } from '../linalg/masks.ts';
import { applyKeepMask, prunedCount } from './masks.ts';
import { keepForPattern } from './patternMask.ts';
import { validatePattern, type SparsityPattern } from './patterns.ts';
import { assertFinite, assertLength, assertWeight } from './validate.ts';

/** sqNorm's checks: one finite, non-negative value per input channel. */
export function checkSqNorm(sqNorm: Float64Array, cols: number): void {
  assertLength(sqNorm, cols, 'wanda: sqNorm (one per input channel)');
  assertFinite(sqNorm, 'wanda: sqNorm');
  sqNorm.forEach((value, j) => {
    if (value < 0) throw new PruneError(`wanda: sqNorm[${j}] = ${value} is negative`);
  });
}

/**
 * (C_out, C_in) |W_ij| · sqrt(sqNorm_j). The reference multiplies by sqrt(scaler_row), and
 * scaler_row = sqNorm / n: one constant per layer, so every per-row order is the same.
 */
export function wandaScores(weight: Matrix, sqNorm: Float64Array): Float64Array {
  checkSqNorm(sqNorm, weight.cols);
  const columnNorm = sqNorm.map((value) => Math.sqrt(value));
  const { rows, cols, data } = weight;
  const scores = new Float64Array(data.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let j = 0; j < cols; j++) scores[base + j] = Math.abs(data[base + j]) * columnNorm[j];
  }
  return scores;
}

/** Unstructured: per output row, the ⌊C_in·s⌋ lowest scores are zeroed (sort per row, stable). */
export function wandaPrune(weight: Matrix, stats: Pick<LayerStats, 'sqNorm'>, pattern: SparsityPattern): PruneResult {
  assertWeight(weight, 'wanda');
  validatePattern(pattern, weight.rows, weight.cols);
  const { rows, cols, data } = weight;
  if (pattern.kind === 'unstructured' || (pattern.kind === 'nm' && pattern.m <= NM_SCALED_MAX_M)) {
    // The same float64 scores and choice as wandaScores + keepPerRow / keepNM, a row or a group at
    // a time on the wasm kernels (linalg/masks.ts) instead of a 19 MB score matrix. They need no
    // finite check: |w| ≤ 3.4e38 times sqrt(sqNorm) ≤ 1.4e154 cannot overflow float64.
    checkSqNorm(stats.sqNorm, cols);
    const columnNorm = stats.sqNorm.map(Math.sqrt);
    const keep =
      pattern.kind === 'unstructured'
        ? keepPerRowScaled(data, rows, cols, columnNorm, prunedCount(cols, pattern.sparsity))
        : keepNMScaled(data, rows, cols, columnNorm, pattern.n, pattern.m);
    return applyKeepMask(weight, { rows, cols, data: keep });
  }
  const scores = { rows: weight.rows, cols: weight.cols, data: wandaScores(weight, stats.sqNorm) };
  return applyKeepMask(weight, keepForPattern(scores, pattern, 'row'));
}

