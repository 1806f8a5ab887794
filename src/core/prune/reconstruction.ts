// How much a compressed layer changes its outputs on the calibration data:
// ‖W X − Ŵ X‖_F / ‖W X‖_F. With H = 2/n · X Xᵀ this is
// sqrt(tr(ΔW H ΔWᵀ) / tr(W H Wᵀ)), ΔW = W − Ŵ: the 2/n cancels, so the layer's Hessian (already
// collected for SparseGPT / GPTQ) is enough and no tokens need to be stored.
import { PruneError, type Matrix } from './types.ts';
import { assertFinite, assertLength, assertMatrix } from './validate.ts';

/** The calibration data as its Hessian (C_in x C_in, any positive scale) or as inputs X (C_in x n). */
export type ReconstructionData = { hessian: Float64Array } | { inputs: Matrix };

export function relativeReconstructionError(weight: Matrix, compressed: Matrix, calibration: ReconstructionData): number {
  assertMatrix(weight, 'reconstruction error: weight');
  assertMatrix(compressed, 'reconstruction error: compressed weight');
  assertFinite(weight.data, 'reconstruction error: weight', weight.cols);
  assertFinite(compressed.data, 'reconstruction error: compressed weight', compressed.cols);
  if (compressed.rows !== weight.rows || compressed.cols !== weight.cols) {
    throw new PruneError(`reconstruction error: compressed ${compressed.rows} x ${compressed.cols} differs from weight ${weight.rows} x ${weight.cols}`);
  }
  const delta = Float64Array.from(weight.data, (w, i) => w - compressed.data[i]);
  const original = Float64Array.from(weight.data);
  const energy =
    'hessian' in calibration
      ? (rows: Float64Array) => quadraticForm(rows, weight.rows, weight.cols, calibration.hessian)
      : (rows: Float64Array) => outputEnergy(rows, weight.rows, weight.cols, calibration.inputs);
  const error = energy(delta);
  const reference = energy(original);
  if (reference === 0) return error === 0 ? 0 : Infinity;
  return Math.sqrt(Math.max(error, 0) / reference);
}

/**
 * tr(A H Aᵀ) = Σ_r a_r H a_rᵀ for A (rows, cols), float64. H is symmetric, so each row's form is
 * Σ_i a_i (H_ii a_i + 2 Σ_{j>i} H_ij a_j): the upper triangle only, half the multiply-adds of
 * the full product (this is the slow part of a SparseGPT job's report on a 3072 × 768 layer).
 */
function quadraticForm(a: Float64Array, rows: number, cols: number, hessian: Float64Array): number {
  assertLength(hessian, cols * cols, 'reconstruction error: hessian (C_in x C_in)');
  assertFinite(hessian, 'reconstruction error: hessian', cols);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let rowTotal = 0;
    for (let i = 0; i < cols; i++) {
      const ai = a[base + i];
      if (ai === 0) continue;
      const hBase = i * cols;
      let upper = 0;
      for (let j = i + 1; j < cols; j++) upper += hessian[hBase + j] * a[base + j];
      rowTotal += ai * (hessian[hBase + i] * ai + 2 * upper);
    }
    total += rowTotal;
  }
  return total;
}

/** ‖A X‖_F² for A (rows, cols) and X (cols, n), float64. */
function outputEnergy(a: Float64Array, rows: number, cols: number, inputs: Matrix): number {
  assertMatrix(inputs, 'reconstruction error: inputs');
  if (inputs.rows !== cols) {
    throw new PruneError(`reconstruction error: inputs have ${inputs.rows} rows, expected C_in = ${cols} (X is C_in x n)`);
  }
  assertFinite(inputs.data, 'reconstruction error: inputs', inputs.cols);
  const n = inputs.cols;
  const output = new Float64Array(n);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    output.fill(0);
    for (let i = 0; i < cols; i++) {
      const ai = a[r * cols + i];
      if (ai === 0) continue;
      for (let t = 0; t < n; t++) output[t] += ai * inputs.data[i * n + t];
    }
    for (let t = 0; t < n; t++) total += output[t] * output[t];
  }
  return total;
}
