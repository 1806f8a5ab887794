// The shapes the pruning methods share. A linear layer computes y = W x with W (C_out, C_in)
// stored row-major; calibration inputs are tokens x C_in.

/** A dense float32 matrix, row-major: element (r, c) is data[r * cols + c]. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float32Array;
}

/**
 * Which weights survive pruning, row-major like the weight: 1 = kept, 0 = pruned. (The
 * reference code's W_mask is the opposite: True marks a pruned weight.)
 */
export interface KeepMask {
  rows: number;
  cols: number;
  data: Uint8Array;
}

/** Calibration statistics of one linear layer, collected over `tokens` input vectors x. */
export interface LayerStats {
  /** n, the number of calibration tokens. */
  tokens: number;
  /** (C_in) Σ_t x_tj², float64. Wanda's scaler_row is this divided by n; rankings are the same. */
  sqNorm: Float64Array;
  /** (C_in) max_t |x_tj|. */
  maxAbs: Float32Array;
  /**
   * (C_in, C_in) H = 2/n · X Xᵀ as SparseGPT's add_batch accumulates it (float32 running average,
   * stored here as float64). SparseGPT's weights and masks do not depend on the scale of H; only
   * the OBS losses do.
   */
  hessian: Float64Array;
  /** (tokens, C_out) a subsample of the layer's outputs, for TAMP's diversity. */
  outputSample?: Matrix;
  /**
   * (tokens, C_in) a seeded uniform subsample of the layer's input tokens (one row per token), for
   * an estimated reconstruction error where H was not collected.
   */
  inputSample?: Matrix;
}

/** A pruned layer: the new weights (pruned entries are exactly 0) and the keep mask. */
export interface PruneResult {
  weight: Matrix;
  keep: KeepMask;
}

/** Every failure to prune (bad pattern, NaN input, indefinite Hessian) is a PruneError. */
export class PruneError extends Error {
  override name = 'PruneError';
}
