// CPU reference for Wanda's pruning score (Sun et al. 2023, locuslab/wanda prune_wanda):
//   S_ij = |W_ij| · ‖X_j‖₂ = |W_ij| · sqrt(sqNorm_j)
// computed in f64 and rounded once to f32.
// Shipped CPU path (prune/wanda.ts wandaScores): the same product kept in f64 (from f64
// sqNorm), as the masks have always been chosen on the CPU; this reference mirrors the f32
// kernel. They can differ only where two f64 scores round to one f32 value (a near-tie), which
// the GPU job tests exclude by margin (compress/gpuJobs.test.ts).

/** weights (rows, cols) row-major; sqNorm (cols) = Σ_t x_tj². Returns scores (rows, cols). */
export function wandaScoreRef(weights: Float32Array, sqNorm: Float32Array, rows: number, cols: number): Float32Array {
  if (weights.length !== rows * cols) throw new Error(`wandaScore ref: weights has ${weights.length} values, expected ${rows}×${cols}`);
  if (sqNorm.length !== cols) throw new Error(`wandaScore ref: sqNorm has ${sqNorm.length} values, expected ${cols}`);
  const scores = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      scores[i * cols + j] = Math.abs(weights[i * cols + j]) * Math.sqrt(sqNorm[j]);
    }
  }
  return scores;
}
