// CPU reference for the calibration statistics of one linear layer's inputs: the Gram matrix
// Σ_t x_t x_tᵀ (SparseGPT's add_batch accumulates H from it), Σ_t x_tj² (Wanda's ‖X_j‖²) and
// max_t |x_tj| (QUIK's outlier scale). Plain loops, float64 accumulators.
//
// No two-pass (mean-first) form is needed: these are uncentred sums. Each product of two f32
// values is exact in f64 (24 + 24 significant bits < 53), so the only error is in the f64
// additions, at most n·2⁻⁵³ relative to Σ|terms| — far below what the f32 kernel is held to.
//
// Shipped CPU path (calibrate/accumulator.ts, wasm SIMD gram_add4_f64): the same products, added
// four tokens at a time (x0·y0 + x1·y1 + (x2·y2 + x3·y3)), so equal to this within 1e-13
// relative (accumulator.test.ts); same NaN rule (a NaN input poisons its channel).

export interface HessianStatsRef {
  channels: number;
  tokens: number;
  /** Σ_t x_t x_tᵀ, (channels, channels) row-major. */
  gram: Float64Array;
  /** Σ_t x_tj², (channels). */
  sqNorm: Float64Array;
  /** max_t |x_tj|, (channels); NaN once any x_tj is NaN. */
  maxAbs: Float64Array;
}

export function createHessianStatsRef(channels: number): HessianStatsRef {
  return {
    channels,
    tokens: 0,
    gram: new Float64Array(channels * channels),
    sqNorm: new Float64Array(channels),
    maxAbs: new Float64Array(channels),
  };
}

/** Adds a batch of token rows x (tokens, channels) to the statistics. */
export function accumulateHessianRef(stats: HessianStatsRef, x: Float32Array, tokens: number): void {
  const C = stats.channels;
  if (x.length !== tokens * C) throw new Error(`hessian ref: x has ${x.length} values, expected ${tokens}×${C}`);
  for (let t = 0; t < tokens; t++) {
    const row = t * C;
    for (let a = 0; a < C; a++) {
      const xa = x[row + a];
      for (let b = 0; b < C; b++) stats.gram[a * C + b] += xa * x[row + b];
      stats.sqNorm[a] += xa * xa;
      const magnitude = Math.abs(xa);
      // Math.max propagates NaN, which is the behaviour we want: a NaN input poisons its channel.
      stats.maxAbs[a] = Math.max(stats.maxAbs[a], magnitude);
    }
  }
  stats.tokens += tokens;
}
