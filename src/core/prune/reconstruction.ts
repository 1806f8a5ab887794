// How much a compressed layer changes its outputs on the calibration data:
// ‖W X − Ŵ X‖_F / ‖W X‖_F. With H = 2/n · X Xᵀ this is
// sqrt(tr(ΔW H ΔWᵀ) / tr(W H Wᵀ)), ΔW = W − Ŵ: the 2/n cancels, so the layer's Hessian (already
// collected for SparseGPT / GPTQ) is enough and no tokens need to be stored.
import { quadraticTraces } from '../linalg/gemm.ts';
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
  if ('hessian' in calibration) {
    assertLength(calibration.hessian, weight.cols * weight.cols, 'reconstruction error: hessian (C_in x C_in)');
    assertFinite(calibration.hessian, 'reconstruction error: hessian', weight.cols);
    // tr(A H Aᵀ) as a float32 matrix product on the wasm kernels (linalg/gemm.ts), float64 totals.
    const delta = new Float32Array(weight.data.length);
    for (let i = 0; i < delta.length; i++) delta[i] = weight.data[i] - compressed.data[i];
    const [error, reference] = quadraticTraces([delta, weight.data], weight.rows, weight.cols, calibration.hessian);
    return relativeFromEnergies(error, reference);
  }
  const delta = Float64Array.from(weight.data, (w, i) => w - compressed.data[i]);
  const energy = (rows: Float64Array) => outputEnergy(rows, weight.rows, weight.cols, calibration.inputs);
  return relativeFromEnergies(energy(delta), energy(Float64Array.from(weight.data)));
}

function relativeFromEnergies(error: number, reference: number): number {
  if (reference === 0) return error === 0 ? 0 : Infinity;
  return Math.sqrt(Math.max(error, 0) / reference);
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
