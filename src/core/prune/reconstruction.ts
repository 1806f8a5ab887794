// How much a compressed layer changes its outputs on the calibration data:
// ‖W X − Ŵ X‖_F / ‖W X‖_F. With H = 2/n · X Xᵀ this is
// sqrt(tr(ΔW H ΔWᵀ) / tr(W H Wᵀ)), ΔW = W − Ŵ: the 2/n cancels, so the layer's Hessian (already
// collected for SparseGPT / GPTQ) is enough and no tokens need to be stored. Without H, the same
// trace form on the Gram matrix of a sample of token rows, X_sᵀX_s, gives the error on those
// tokens: an estimate of the full one, whose quality depends on how many tokens were sampled.
import { quadraticTraces } from '../linalg/gemm.ts';
import { gramOfRows } from '../linalg/gram.ts';
import { PruneError, type Matrix } from './types.ts';
import { assertFinite, assertLength, assertMatrix } from './validate.ts';

/**
 * The calibration data as its Hessian (C_in x C_in, any positive scale), as inputs X (C_in x n),
 * or as token rows (n x C_in, one token per row: calibration's input sample).
 */
export type ReconstructionData = { hessian: Float64Array } | { inputs: Matrix } | { tokenRows: Matrix };

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
    return traceForm(weight, compressed, calibration.hessian);
  }
  if ('tokenRows' in calibration) {
    const rows = calibration.tokenRows;
    assertMatrix(rows, 'reconstruction error: token rows');
    if (rows.cols !== weight.cols) throw new PruneError(`reconstruction error: token rows have ${rows.cols} columns, expected C_in = ${weight.cols} (rows are tokens)`);
    assertFinite(rows.data, 'reconstruction error: token rows', rows.cols);
    // ‖A X_sᵀ‖² = tr(A G Aᵀ) with G = X_sᵀX_s: the Gram of a few hundred rows costs n·C_in²/2,
    // and the traces are H's; cheaper than the two products A X_sᵀ when C_out > C_in / 2.
    return traceForm(weight, compressed, gramOfRows(rows.data, rows.rows, rows.cols));
  }
  const delta = Float64Array.from(weight.data, (w, i) => w - compressed.data[i]);
  const energy = (rows: Float64Array) => outputEnergy(rows, weight.rows, weight.cols, calibration.inputs);
  return relativeFromEnergies(energy(delta), energy(Float64Array.from(weight.data)));
}

/** sqrt(tr(ΔW S ΔWᵀ) / tr(W S Wᵀ)): a float32 matrix product on the wasm kernels (linalg/gemm.ts), float64 totals. */
function traceForm(weight: Matrix, compressed: Matrix, s: Float64Array): number {
  const delta = new Float32Array(weight.data.length);
  for (let i = 0; i < delta.length; i++) delta[i] = weight.data[i] - compressed.data[i];
  const [error, reference] = quadraticTraces([delta, weight.data], weight.rows, weight.cols, s);
  return relativeFromEnergies(error, reference);
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
