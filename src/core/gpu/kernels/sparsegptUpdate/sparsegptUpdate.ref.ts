// CPU reference for SparseGPT's weight update (Frantar & Alistarh 2023, IST-DASLab/sparsegpt,
// SparseGPT.fasterprune), in f32 arithmetic (every operation rounded with Math.fround) and
// plain loops. U is the upper Cholesky factor of H⁻¹ (cols × cols). For a block of columns
// [blockStart, blockEnd), one column i after another:
//   q = w with pruned entries zeroed;  err = (w − q) / U_ii
//   W[:, j] −= err · U[i, j]   for j in i … blockEnd−1          (the rank-1 update)
// then the block's columns become Q (kept weights as updated, pruned ones 0) and the lazy
// batch update carries the block's error to the columns after it:
//   W[:, blockEnd:] −= Err[:, block] · U[block, blockEnd:]
// Which weights are pruned: either a keep mask given up front (fasterprune's `mask` argument)
// or N:M chosen inside the block, as fasterprune does when prunen != 0: at every column i with
// i % M == 0 (i counted within the block), per row, score W²/U_jj² on the current W for
// columns i … i+M−1 and prune all but the N highest (lower column index first among ties).
// Shipped CPU path (prune/sparsegpt.sweep.ts, wasm SIMD, row by row): the same float32
// operations in the same order — bit-identical weights and masks (sparsegpt.sweep.test.ts) —
// with one choice settled on its side: it skips err = 0 (W − 0·U would turn a −0 weight into
// +0), where this reference and the WGSL subtract ±0. Values compare equal; only zero signs
// can differ. Non-finite input never reaches either: sparseGptPrune refuses NaN/Inf first.
import { comparePruneOrder, type PrunePattern } from '../pruneOrder';

const f = Math.fround;

export interface SparseGptStateRef {
  rows: number;
  cols: number;
  /** (rows, cols), updated in place. */
  weights: Float32Array;
  /** (cols, cols), upper triangular. */
  hinvUpper: Float32Array;
  /** (rows, cols), 1 keep / 0 pruned; chosen block by block in N:M mode. */
  keepMask: Uint8Array;
  /** N:M pattern, or null when keepMask was given. */
  nm: { keepN: number; groupM: number } | null;
}

export function createSparseGptStateRef(weights: Float32Array, hinvUpper: Float32Array, rows: number, cols: number, pattern: PrunePattern): SparseGptStateRef {
  if (weights.length !== rows * cols) throw new Error(`sparsegpt ref: weights has ${weights.length} values, expected ${rows}×${cols}`);
  if (hinvUpper.length !== cols * cols) throw new Error(`sparsegpt ref: hinvUpper has ${hinvUpper.length} values, expected ${cols}×${cols}`);
  return {
    rows,
    cols,
    weights: Float32Array.from(weights),
    hinvUpper,
    keepMask: pattern.kind === 'mask' ? Uint8Array.from(pattern.keepMask) : new Uint8Array(rows * cols).fill(1),
    nm: pattern.kind === 'nm' ? { keepN: pattern.n, groupM: pattern.m } : null,
  };
}

/** Chooses N:M for one row's group of columns [start, end) from W²/U_jj² (fasterprune's tmp). */
function chooseNmGroup(s: SparseGptStateRef, row: number, start: number, end: number): void {
  const { cols, weights, hinvUpper, keepMask } = s;
  const score = (j: number) => {
    const w = weights[row * cols + j];
    const d = hinvUpper[j * cols + j];
    return f(f(w * w) / f(d * d));
  };
  const group = [];
  for (let j = start; j < end; j++) group.push(j);
  group.sort((a, b) => comparePruneOrder(score(a), a, score(b), b));
  group.forEach((j, rank) => (keepMask[row * cols + j] = rank < group.length - s.nm!.keepN ? 0 : 1));
}

/** The column-by-column part for block [blockStart, blockEnd). Returns Err (rows, blockEnd − blockStart). */
export function sparsegptBlockRef(s: SparseGptStateRef, blockStart: number, blockEnd: number): Float32Array {
  const { rows, cols, weights: W, hinvUpper: U, keepMask } = s;
  const width = blockEnd - blockStart;
  const err = new Float32Array(rows * width);
  const q = new Float32Array(rows * width);
  for (let i = 0; i < width; i++) {
    const col = blockStart + i;
    if (s.nm && i % s.nm.groupM === 0) {
      for (let r = 0; r < rows; r++) chooseNmGroup(s, r, col, Math.min(col + s.nm.groupM, blockEnd));
    }
    const d = U[col * cols + col];
    for (let r = 0; r < rows; r++) {
      const w = W[r * cols + col];
      const kept = keepMask[r * cols + col] === 1 ? w : 0;
      const e = f(f(w - kept) / d);
      q[r * width + i] = kept;
      err[r * width + i] = e;
      for (let j = col; j < blockEnd; j++) W[r * cols + j] = f(W[r * cols + j] - f(e * U[col * cols + j]));
    }
  }
  for (let r = 0; r < rows; r++) for (let i = 0; i < width; i++) W[r * cols + blockStart + i] = q[r * width + i];
  return err;
}

/** The lazy batch update: W[:, blockEnd:] −= Err · U[block, blockEnd:]. */
export function sparsegptLazyUpdateRef(s: SparseGptStateRef, err: Float32Array, blockStart: number, blockEnd: number): void {
  const { rows, cols, weights: W, hinvUpper: U } = s;
  const width = blockEnd - blockStart;
  // Each sum runs over k in order (as in the kernel); k is the outer loop only so that U is
  // read along its rows.
  const sum = new Float32Array(cols - blockEnd);
  for (let r = 0; r < rows; r++) {
    sum.fill(0);
    for (let k = 0; k < width; k++) {
      const e = err[r * width + k];
      const uRow = (blockStart + k) * cols;
      for (let c = blockEnd; c < cols; c++) sum[c - blockEnd] = f(sum[c - blockEnd] + f(e * U[uRow + c]));
    }
    for (let c = blockEnd; c < cols; c++) W[r * cols + c] = f(W[r * cols + c] - sum[c - blockEnd]);
  }
}

/** All blocks of blockSize columns, as fasterprune's outer loop. */
export function sparsegptPruneRef(s: SparseGptStateRef, blockSize: number): void {
  for (let start = 0; start < s.cols; start += blockSize) {
    const end = Math.min(start + blockSize, s.cols);
    sparsegptLazyUpdateRef(s, sparsegptBlockRef(s, start, end), start, end);
  }
}
