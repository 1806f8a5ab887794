// SparseGPT (Frantar & Alistarh 2023), following IST-DASLab/sparsegpt sparsegpt.py
// SparseGPT.fasterprune step by step: dead inputs, damping, Hinv = upper Cholesky of H⁻¹, blocks
// of 128 columns with an adaptive mask per block, the column loop with OBS error propagation
// and the lazy batch update. Differences from the reference are listed in docs/pruning.md:
// factorisations in float64, sparsity 0 returns W untouched, and a V:N:M extension. The sweep
// runs on the wasm SIMD kernels (sparsegpt.sweep.ts, docs/cpu-linalg.md). With `quantize`, the
// reference's wbits path (a Quantizer on the SparseGPT object): every kept weight is quantized in
// the same sweep, q = Q(w), and pruned weights stay exactly 0 (docs/quantization.md).
import type { LayerStats, Matrix, PruneResult } from './types.ts';
import type { Granularity, IntGrid, QuantizedWeight } from '../quant/types.ts';
import { prepareSweepQuantization, readQuantized } from '../quant/gptq.ts';
import { validateGrid } from '../quant/rtn.ts';
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
  /**
   * Prune and quantize in one sweep (fasterprune with a quantizer, the reference's `--wbits`):
   * per row or per tensor as the reference (the quantiser fitted on the original W); groups are
   * the lab's extension, refitted as GPTQ's dynamic groups.
   */
  quantize?: { grid: IntGrid; granularity: Granularity; mseClip?: boolean };
}

export interface SparseGptResult extends PruneResult {
  /** (C_out) the reference's `Losses`: Σ over all columns of (w − q)² / U_ii², halved. */
  losses: Float32Array;
  /** With `quantize`: the codes of `weight` (pruned weights have code = zero point). */
  quantized?: QuantizedWeight;
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

  // The reference would still prune the lowest score of every block (mask = tmp <= sorted[0]).
  const nothingPruned = (pattern.kind === 'unstructured' || pattern.kind === 'block') && pattern.sparsity === 0;
  if (options.quantize) {
    validateGrid(options.quantize.grid, 'SparseGPT + quantization');
    const { weights, hinvUpper } = sparseGptOpening(weight, stats.hessian, percDamp);
    const prepared = prepareSweepQuantization(weight, weights, options.quantize, null, 'SparseGPT + quantization');
    const swept = sparseGptSweep(weights, hinvUpper, rows, cols, nothingPruned ? null : pattern, blockSize, onMaskChoice, prepared.sweep);
    const { quantized, weight: dequantized } = readQuantized(swept.weight, swept.quantTables!, prepared, options.quantize.grid, null);
    return { weight: dequantized, keep: swept.keep, losses: swept.losses, quantized };
  }
  if (nothingPruned) {
    return { weight: { rows, cols, data: Float32Array.from(weight.data) }, keep: fullMask(rows, cols), losses: new Float32Array(rows) };
  }
  const { weights, hinvUpper } = sparseGptOpening(weight, stats.hessian, percDamp);
  return sparseGptSweep(weights, hinvUpper, rows, cols, pattern, blockSize, onMaskChoice);
}
