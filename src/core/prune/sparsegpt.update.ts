// The two OBS weight updates of SparseGPT's column loop (IST-DASLab/sparsegpt fasterprune), as
// plain CPU reference loops: float32 data and float32 accumulation, like the reference's torch
// float32 matmuls. These are the parts a faster backend replaces; sparsegpt.ts calls them through
// the ObsUpdateKernels interface.
//
// Layouts: weight (rows, cols) row-major; hinv (cols, cols) row-major, the upper Cholesky factor
// U of H⁻¹; err vectors/blocks as documented per function.

export interface ObsUpdateKernels {
  updateBlockColumns: typeof updateBlockColumns;
  lazyBatchUpdate: typeof lazyBatchUpdate;
}

/**
 * W[:, column:blockEnd] −= err ⊗ U[column, column:blockEnd]
 * (fasterprune: `W1[:, i:] -= err1.unsqueeze(1).matmul(Hinv1[i, i:].unsqueeze(0))`).
 * err: (rows) the scaled error (w − q) / U_ii of column `column`. One product per element, so
 * this matches torch bit for bit.
 */
export function updateBlockColumns(
  weight: Float32Array,
  rows: number,
  cols: number,
  err: Float32Array,
  hinv: Float32Array,
  column: number,
  blockEnd: number,
): void {
  const hinvRow = column * cols;
  for (let r = 0; r < rows; r++) {
    const e = err[r];
    if (e === 0) continue; // w − 0 = w exactly
    const rowBase = r * cols;
    for (let j = column; j < blockEnd; j++) weight[rowBase + j] -= Math.fround(e * hinv[hinvRow + j]);
  }
}

/**
 * The lazy batch update after a block: W[:, blockEnd:] −= Err · U[blockStart:blockEnd, blockEnd:]
 * (fasterprune: `W[:, i2:] -= Err1.matmul(Hinv[i1:i2, i2:])`).
 * errBlock: (rows, blockEnd − blockStart) row-major, the block's scaled errors. Each element
 * sums its products in float32 in column order (torch's BLAS may order the sum differently, so
 * results agree to float32 rounding, not bit for bit).
 */
export function lazyBatchUpdate(
  weight: Float32Array,
  rows: number,
  cols: number,
  errBlock: Float32Array,
  hinv: Float32Array,
  blockStart: number,
  blockEnd: number,
): void {
  const width = blockEnd - blockStart;
  const tail = cols - blockEnd;
  if (tail === 0) return;
  const sum = new Float32Array(tail); // stores round every partial sum to float32
  for (let r = 0; r < rows; r++) {
    sum.fill(0);
    for (let k = 0; k < width; k++) {
      const e = errBlock[r * width + k];
      if (e === 0) continue; // adds exact zeros
      const hinvRow = (blockStart + k) * cols + blockEnd;
      for (let j = 0; j < tail; j++) sum[j] += Math.fround(e * hinv[hinvRow + j]);
    }
    const rowBase = r * cols + blockEnd;
    for (let j = 0; j < tail; j++) weight[rowBase + j] -= sum[j];
  }
}

export const cpuObsKernels: ObsUpdateKernels = { updateBlockColumns, lazyBatchUpdate };
