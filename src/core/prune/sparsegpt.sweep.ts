// SparseGPT's column sweep (IST-DASLab/sparsegpt fasterprune) on the wasm SIMD kernels
// (src/core/linalg/wasm/sparsegpt.c, gemm.c). W, U and the mask stay in the module's memory for
// the whole layer; per block of columns:
//   1. the mask: the OBS scores W²/U_jj² on the current weights, then the block threshold
//      (unstructured), or per group of M columns N:M / V:N:M;
//   2. the column loop `sparsegpt_sweep`, row by row (rows are independent once the mask is
//      chosen): q, err = (w − q)/U_ii, W[r, i+1:blockEnd] −= err·U[i, i+1:blockEnd], losses;
//   3. the lazy batch update W[:, blockEnd:] −= Err · U[block, blockEnd:] as one GEMM.
// Every weight sees the float32 operations of sparsegptUpdate.ref.ts in the same order, so the
// result is bit-identical to that reference (sparsegpt.sweep.test.ts). GPTQ's sweep is the same
// loop with q = Q(w) in place of the mask (`quantization`, quant/gptq.ts), and SparseGPT's wbits
// path both: q = Q(kept w), pruned weights 0.
import { WasmArena, type Region } from '../linalg/wasmKernels.ts';
import type { KeepMask, Matrix } from './types.ts';
import type { SparsityPattern } from './patterns.ts';
import { keepVNM } from './vnm.ts';
import { blockGroupKeep } from './sparsegpt.setup.ts';

/** The largest M the sweep kernel chooses N:M for by itself (its per-row score buffer). */
const NM_IN_SWEEP_MAX_M = 64;

/** Sees each mask choice: the scores (rows × span) of columns [column, column + span) before the choice. */
export type MaskChoiceObserver = (scores: Float32Array, column: number, span: number) => void;

/**
 * GPTQ's quantiser in the sweep: column i's kept value q becomes Q(q) with the scale and zero of
 * (row, columnGroup[i]) in the tables, as they stand when the column is swept.
 */
export interface SweepQuantization {
  maxq: number;
  /** Columns of the tables. */
  groups: number;
  /** (rows × groups) scales and zero points; the sweep works on copies. */
  scales: Float32Array;
  zeros: Float32Array;
  /** (cols) table column of each weight column. */
  columnGroup: Int32Array;
  /**
   * At the start of each block [i1, i2), before its first column: refit table entries from the
   * current weights (rows × cols, the layer as the earlier blocks left it), GPTQ's dynamic groups.
   */
  onBlockStart?: (weights: Float32Array, i1: number, i2: number, scales: Float32Array, zeros: Float32Array) => void;
  /**
   * Columns from this one on are swept but kept in float (QUIK's fp_features, quant/quik.ts): q = w,
   * so their error is 0; they still take the earlier columns' updates. Only without a sparsity pattern.
   */
  floatFrom?: number;
}

export interface SweepResult {
  weight: Matrix;
  keep: KeepMask;
  /** (rows) Σ over pruned (or quantized) columns of (w − q)² / U_ii², halved (the reference's Losses). */
  losses: Float32Array;
  /** With quantization: the tables after the last block (every group as it was fitted) and the codes (rows × cols, sweep order). */
  quantTables?: { scales: Float32Array; zeros: Float32Array; codes: Uint8Array };
}

export function sparseGptSweep(
  weights: Float32Array,
  hinvUpper: Float32Array,
  rows: number,
  cols: number,
  pattern: SparsityPattern | null,
  blockSize: number,
  onMaskChoice?: MaskChoiceObserver,
  quantization?: SweepQuantization,
): SweepResult {
  if (quantization?.floatFrom !== undefined && pattern !== null) throw new Error('sparseGptSweep: floatFrom (QUIK) runs without a sparsity pattern only');
  const arena = new WasmArena();
  const width = Math.min(blockSize, cols);
  const r = {
    w: arena.region('f32', rows * cols),
    u: arena.region('f32', cols * cols),
    keep: arena.region('u8', rows * cols),
    err: arena.region('f32', rows * width),
    scores: arena.region('f32', rows * width),
    scratch: arena.region('f32', rows * width),
    blockLoss: arena.region('f32', rows),
  };
  const tableSize = quantization ? rows * quantization.groups : 0;
  const q = {
    scale: arena.region('f32', tableSize),
    zero: arena.region('f32', tableSize),
    group: arena.region('i32', quantization ? cols : 0),
    codes: arena.region('u8', quantization ? rows * cols : 0),
  };
  arena.ready();
  arena.view(r.w).set(weights);
  arena.view(r.u).set(hinvUpper);
  arena.view(r.keep).fill(1);
  if (quantization) {
    arena.view(q.scale).set(quantization.scales);
    arena.view(q.zero).set(quantization.zeros);
    arena.view(q.group).set(quantization.columnGroup);
  }
  // A null scale table pointer switches quantization off in the kernel.
  const quantArgs = quantization ? ([q.scale.ptr, q.zero.ptr, quantization.groups, q.group.ptr, quantization.maxq, q.codes.ptr] as const) : ([0, 0, 0, 0, 0, 0] as const);
  const losses = new Float32Array(rows);
  const k = arena.k;
  const f32 = (region: Region<'f32'>, length: number) => arena.view(region).subarray(0, length);

  for (let i1 = 0; i1 < cols; i1 += blockSize) {
    const i2 = Math.min(i1 + blockSize, cols);
    const span = i2 - i1;
    const blockLoss = arena.view(r.blockLoss);
    blockLoss.fill(0);
    const sweep = (from: number, to: number, keepN = 0, groupM = 0) =>
      k.sparsegpt_sweep(rows, cols, r.w.ptr, r.u.ptr, r.keep.ptr, r.err.ptr, span, i1, i2, from, to, r.blockLoss.ptr, keepN, groupM, ...quantArgs);
    quantization?.onBlockStart?.(arena.view(r.w), i1, i2, arena.view(q.scale), arena.view(q.zero));
    if (pattern === null) {
      // GPTQ: nothing pruned. QUIK: the float columns [floatFrom, cols) with the quantiser off.
      const split = Math.max(i1, Math.min(i2, quantization?.floatFrom ?? cols));
      if (split > i1) sweep(i1, split);
      if (split < i2) k.sparsegpt_sweep(rows, cols, r.w.ptr, r.u.ptr, r.keep.ptr, r.err.ptr, span, i1, i2, split, i2, r.blockLoss.ptr, 0, 0, 0, 0, 0, 0, 0, 0);
    } else if (pattern.kind === 'unstructured') {
      k.obs_scores(rows, cols, r.w.ptr, r.u.ptr, i1, span, r.scores.ptr);
      const scores = f32(r.scores, rows * span);
      onMaskChoice?.(Float32Array.from(scores), i1, span);
      // fasterprune: thresh = sort(tmp.flatten())[int(numel * s)]; mask = tmp <= thresh (ties pruned too).
      f32(r.scratch, rows * span).set(scores);
      const rank = Math.min(Math.floor(rows * span * pattern.sparsity), rows * span - 1);
      const threshold = k.select_kth(r.scratch.ptr, rows * span, rank);
      k.keep_above(rows, cols, r.scores.ptr, span, threshold, r.keep.ptr, i1);
      sweep(i1, i2);
    } else if (pattern.kind === 'block') {
      // SparseByteNN's 1×4 / 4×1 groups: one choice per block of columns as for unstructured,
      // on the group sums of the OBS scores (blockGroupKeep), then the same column loop.
      k.obs_scores(rows, cols, r.w.ptr, r.u.ptr, i1, span, r.scores.ptr);
      const scores = f32(r.scores, rows * span);
      onMaskChoice?.(Float32Array.from(scores), i1, span);
      const blockKeep = blockGroupKeep(scores, rows, span, pattern);
      const keep = arena.view(r.keep);
      for (let row = 0; row < rows; row++) keep.set(blockKeep.subarray(row * span, (row + 1) * span), row * cols + i1);
      sweep(i1, i2);
    } else if (pattern.kind === 'nm' && pattern.m <= NM_IN_SWEEP_MAX_M && !onMaskChoice) {
      // N:M is chosen per row, so the sweep chooses it itself, row by row (the same choice as below).
      sweep(i1, i2, pattern.n, pattern.m);
    } else {
      // N:M (and the V:N:M extension) at every column i with i % M == 0, on the weights as the
      // columns before it left them: per row prune the M − N lowest of columns i..i+M−1.
      const m = pattern.m;
      for (let c0 = i1; c0 < i2; c0 += m) {
        k.obs_scores(rows, cols, r.w.ptr, r.u.ptr, c0, m, r.scores.ptr);
        if (onMaskChoice) onMaskChoice(Float32Array.from(f32(r.scores, rows * m)), c0, m);
        if (pattern.kind === 'nm') k.keep_nm(rows, cols, r.scores.ptr, m, pattern.n, m, r.keep.ptr, c0);
        else {
          const group = keepVNM({ rows, cols: m, data: f32(r.scores, rows * m) }, pattern.v, m).data;
          const keep = arena.view(r.keep);
          for (let row = 0; row < rows; row++) keep.set(group.subarray(row * m, (row + 1) * m), row * cols + c0);
        }
        sweep(c0, c0 + m);
      }
    }
    const blockLosses = arena.view(r.blockLoss);
    for (let row = 0; row < rows; row++) losses[row] = Math.fround(losses[row] + blockLosses[row] / 2);
    // W[:, i2:] −= Err1 · Hinv[i1:i2, i2:]
    if (i2 < cols) k.sgemm_sub(rows, cols - i2, span, r.err.ptr, span, r.u.ptr + 4 * (i1 * cols + i2), cols, r.w.ptr + 4 * i2, cols);
  }
  return {
    weight: { rows, cols, data: Float32Array.from(arena.view(r.w)) },
    keep: { rows, cols, data: Uint8Array.from(arena.view(r.keep)) },
    losses,
    ...(quantization ? { quantTables: { scales: Float32Array.from(arena.view(q.scale)), zeros: Float32Array.from(arena.view(q.zero)), codes: Uint8Array.from(arena.view(q.codes)) } } : {}),
  };
}
