// SparseGPT (Frantar & Alistarh 2023), following IST-DASLab/sparsegpt sparsegpt.py
// SparseGPT.fasterprune step by step: dead inputs, damping, Hinv = upper Cholesky of H⁻¹, blocks
// of 128 columns with an adaptive mask per block, the column loop with OBS error propagation
// and the lazy batch update. Differences from the reference are listed in docs/pruning.md:
// factorisations in float64, sparsity 0 returns W untouched, and a V:N:M extension. The sweep
// runs on the wasm SIMD kernels (sparsegpt.sweep.ts, docs/cpu-linalg.md).
import type { LayerStats, Matrix, PruneResult } from './types.ts';
import { fullMask } from './masks.ts';
import { validatePattern, type SparsityPattern } from './patterns.ts';
import { sparseGptOpening, validateSparseGptOptions } from './sparsegpt.setup.ts';
import { sparseGptSweep, type MaskChoiceObserver } from './sparsegpt.sweep.ts';
import { assertFinite, assertLength, assertWeight } from './validate.ts';

export interface SparseGptOptions {
  /** Columns per block (reference default 128). N:M / V:N:M need M to divide it. */
  blockSize?: number;
  /** Damping λ = percDamp · mean(diag H) (reference default 0.01). */
  percDamp?: number;
  /** Sees the scores behind every mask choice (tests measure how close each choice was). */
  onMaskChoice?: MaskChoiceObserver;
}

export interface SparseGptResult extends PruneResult {
  /** (C_out) the reference's `Losses`: Σ over pruned columns of (w − q)² / U_ii², halved. */
  losses: Float32Array;
}

export function sparseGptPrune(
  weight: Matrix,
  stats: Pick<LayerStats, 'hessian'>,
  pattern: SparsityPattern,
  options: SparseGptOptions = {},
): SparseGptResult {
  const { blockSize = 128, percDamp = 0.01, onMaskChoice } = options;
  const { rows, cols } = weight;
  assertWeight(weight, 'SparseGPT');
  validatePattern(pattern, rows, cols);
  validateSparseGptOptions(pattern, blockSize, percDamp);
  assertLength(stats.hessian, cols * cols, 'SparseGPT: hessian (C_in x C_in)');
  assertFinite(stats.hessian, 'SparseGPT: hessian', cols);

  if (pattern.kind === 'unstructured' && pattern.sparsity === 0) {
    // The reference would still prune the lowest score of every block (mask = tmp <= sorted[0]).
    return { weight: { rows, cols, data: Float32Array.from(weight.data) }, keep: fullMask(rows, cols), losses: new Float32Array(rows) };
  }
  const { weights, hinvUpper } = sparseGptOpening(weight, stats.hessian, percDamp);
  return sparseGptSweep(weights, hinvUpper, rows, cols, pattern, blockSize, onMaskChoice);
}
