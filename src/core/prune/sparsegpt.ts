// SparseGPT (Frantar & Alistarh 2023), following IST-DASLab/sparsegpt sparsegpt.py
// SparseGPT.fasterprune step by step: dead inputs, damping, Hinv = upper Cholesky of H⁻¹, blocks
// of 128 columns with an adaptive mask per block, the column loop with OBS error propagation
// and the lazy batch update. Differences from the reference are listed in docs/pruning.md:
// factorisations in float64, sparsity 0 returns W untouched, and a V:N:M extension.
import type { KeepMask, LayerStats, Matrix, PruneResult } from './types.ts';
import { fullMask, keepNM } from './masks.ts';
import { validatePattern, type SparsityPattern } from './patterns.ts';
import { blockThresholdKeep, obsScores, sparseGptOpening, validateSparseGptOptions } from './sparsegpt.setup.ts';
import { cpuObsKernels, type ObsUpdateKernels } from './sparsegpt.update.ts';
import { assertFinite, assertLength, assertWeight } from './validate.ts';
import { keepVNM } from './vnm.ts';

export interface SparseGptOptions {
  /** Columns per block (reference default 128). N:M / V:N:M need M to divide it. */
  blockSize?: number;
  /** Damping λ = percDamp · mean(diag H) (reference default 0.01). */
  percDamp?: number;
  /** The two OBS updates; the CPU reference loops unless a faster backend is passed. */
  kernels?: ObsUpdateKernels;
}

export interface SparseGptResult extends PruneResult {
  /** (C_out) the reference's `Losses`: Σ over pruned columns of (w − q)² / U_ii², halved. */
  losses: Float32Array;
}

/** Shared state of one fasterprune run. W is updated in place; U = hinv is read-only. */
interface ObsState {
  rows: number;
  cols: number;
  weight: Float32Array;
  hinv: Float32Array;
  keep: KeepMask;
  losses: Float32Array;
  kernels: ObsUpdateKernels;
}

export function sparseGptPrune(
  weight: Matrix,
  stats: Pick<LayerStats, 'hessian'>,
  pattern: SparsityPattern,
  options: SparseGptOptions = {},
): SparseGptResult {
  const { blockSize = 128, percDamp = 0.01, kernels = cpuObsKernels } = options;
  const { rows, cols } = weight;
  assertWeight(weight, 'SparseGPT');
  validatePattern(pattern, rows, cols);
  validateSparseGptOptions(pattern, blockSize, percDamp);
  assertLength(stats.hessian, cols * cols, 'SparseGPT: hessian (C_in x C_in)');
  assertFinite(stats.hessian, 'SparseGPT: hessian', cols);

  const losses = new Float32Array(rows);
  if (pattern.kind === 'unstructured' && pattern.sparsity === 0) {
    // The reference would still prune the lowest score of every block (mask = tmp <= sorted[0]).
    return { weight: { rows, cols, data: Float32Array.from(weight.data) }, keep: fullMask(rows, cols), losses };
  }
  const { weights: data, hinvUpper: hinv } = sparseGptOpening(weight, stats.hessian, percDamp);
  const state: ObsState = { rows, cols, weight: data, hinv, keep: fullMask(rows, cols), losses, kernels };
  for (let blockStart = 0; blockStart < cols; blockStart += blockSize) {
    pruneBlock(state, pattern, blockStart, Math.min(blockStart + blockSize, cols));
  }
  return { weight: { rows, cols, data }, keep: state.keep, losses };
}

/** One block [i1, i2): choose the mask, walk its columns, then the lazy update of the rest. */
function pruneBlock(state: ObsState, pattern: SparsityPattern, i1: number, i2: number): void {
  const { rows, cols, weight, hinv, keep, losses, kernels } = state;
  const width = i2 - i1;
  const errBlock = new Float32Array(rows * width); // Err1
  const blockLosses = new Float32Array(rows * width); // Losses1
  const err = new Float32Array(rows);
  const kept = new Float32Array(rows); // q, the column after pruning (Q1[:, i])
  if (pattern.kind === 'unstructured') selectBlockMask(state, i1, i2, pattern.sparsity);
  for (let i = 0; i < width; i++) {
    const column = i1 + i;
    if (pattern.kind !== 'unstructured' && i % pattern.m === 0) selectGroupMask(state, pattern, column);
    const d = hinv[column * cols + column];
    const dSquared = Math.fround(d * d);
    for (let r = 0; r < rows; r++) {
      const w = weight[r * cols + column];
      const q = keep.data[r * cols + column] === 1 ? w : 0;
      const difference = Math.fround(w - q);
      kept[r] = q;
      blockLosses[r * width + i] = Math.fround(Math.fround(difference * difference) / dSquared);
      err[r] = Math.fround(difference / d);
      errBlock[r * width + i] = err[r];
    }
    kernels.updateBlockColumns(weight, rows, cols, err, hinv, column, i2);
    for (let r = 0; r < rows; r++) weight[r * cols + column] = kept[r]; // W[:, i1:i2] = Q1
  }
  for (let r = 0; r < rows; r++) {
    let rowLoss = 0;
    for (let i = 0; i < width; i++) rowLoss = Math.fround(rowLoss + blockLosses[r * width + i]);
    losses[r] = Math.fround(losses[r] + rowLoss / 2);
  }
  kernels.lazyBatchUpdate(weight, rows, cols, errBlock, hinv, i1, i2);
}

/** OBS saliency of the current weights in columns [c0, c0 + width). */
function blockScores(state: ObsState, c0: number, width: number): Float32Array {
  return obsScores({ data: state.weight, stride: state.cols, offset: c0 }, state.rows, state.hinv, state.cols, c0, width);
}

/** Unstructured: the block's keep mask by the reference's threshold rule (blockThresholdKeep). */
function selectBlockMask(state: ObsState, i1: number, i2: number, sparsity: number): void {
  const width = i2 - i1;
  const blockKeep = blockThresholdKeep(blockScores(state, i1, width), sparsity);
  for (let r = 0; r < state.rows; r++) {
    state.keep.data.set(blockKeep.subarray(r * width, (r + 1) * width), r * state.cols + i1);
  }
}

/**
 * N:M at every column i with i % M == 0: per row prune the M − N lowest scores of columns
 * i..i+M−1 (topk(tmp, prunen, largest=False)). V:N:M (lab extension): VENOM's selection on the
 * same scores, chosen at the group's first column and then compensated like N:M.
 */
function selectGroupMask(state: ObsState, pattern: Exclude<SparsityPattern, { kind: 'unstructured' }>, c0: number): void {
  const { rows, cols, keep } = state;
  const m = pattern.m;
  const scores = { rows, cols: m, data: blockScores(state, c0, m) };
  const groupKeep = pattern.kind === 'nm' ? keepNM(scores, pattern.n, m) : keepVNM(scores, pattern.v, m);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < m; i++) keep.data[r * cols + c0 + i] = groupKeep.data[r * m + i];
  }
}
