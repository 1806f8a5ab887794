// ‖WX − ŴX‖/‖WX‖ from the Hessian (trace form) equals the direct computation from X.
import { describe, expect, test } from 'vitest';
import { relativeReconstructionError } from './reconstruction.ts';
import { magnitudePrune } from './magnitude.ts';
import type { Matrix } from './types.ts';
import { expectClose } from '../testing/expectClose.ts';

const weight: Matrix = { rows: 3, cols: 4, data: Float32Array.of(1, -2, 0.5, 3, 0, 1, 1, -1, 2, 2, -0.25, 0) };
// X is C_in x n (4 x 5), with a dead channel (row 2).
const inputs: Matrix = { rows: 4, cols: 5, data: Float32Array.of(1, 0, -1, 2, 0.5, 0.3, 1, 1, -2, 0, 0, 0, 0, 0, 0, -1, 2, 0.5, 1, 1) };

function hessianOf(x: Matrix): Float64Array {
  const h = new Float64Array(x.rows * x.rows);
  for (let i = 0; i < x.rows; i++)
    for (let j = 0; j < x.rows; j++) {
      let sum = 0;
      for (let t = 0; t < x.cols; t++) sum += x.data[i * x.cols + t] * x.data[j * x.cols + t];
      h[i * x.rows + j] = (2 / x.cols) * sum;
    }
  return h;
}

function direct(w: Matrix, what: Matrix, x: Matrix): number {
  let error = 0;
  let energy = 0;
  for (let r = 0; r < w.rows; r++)
    for (let t = 0; t < x.cols; t++) {
      let y = 0;
      let yHat = 0;
      for (let i = 0; i < w.cols; i++) {
        y += w.data[r * w.cols + i] * x.data[i * x.cols + t];
        yHat += what.data[r * w.cols + i] * x.data[i * x.cols + t];
      }
      error += (y - yHat) ** 2;
      energy += y * y;
    }
  return Math.sqrt(error / energy);
}

/** The trace form's stated bound: float32 products and sums over C_in terms, √ of a ratio. */
const TRACE_RTOL = 1e-5;

describe('relativeReconstructionError', () => {
  const pruned = magnitudePrune(weight, { kind: 'unstructured', sparsity: 0.5 }).weight;

  test('the trace form on H = 2/n X Xᵀ equals ‖ΔW X‖ / ‖W X‖ computed from X', () => {
    const expected = direct(weight, pruned, inputs);
    expect(expected).toBeGreaterThan(0.05);
    const fromHessian = relativeReconstructionError(weight, pruned, { hessian: hessianOf(inputs) });
    const fromInputs = relativeReconstructionError(weight, pruned, { inputs });
    expectClose([fromInputs], [expected], { atol: 0, rtol: 1e-12 }, 'relative error from X (float64)');
    // The trace form is a float32 matrix product (float64 totals): its bound is float32's.
    expectClose([fromHessian], [expected], { atol: 0, rtol: TRACE_RTOL }, 'relative error from H');
  });

  test('the scale of H cancels; identical weights give 0; zero outputs with a change give Infinity', () => {
    const h = hessianOf(inputs);
    const a = relativeReconstructionError(weight, pruned, { hessian: h });
    const b = relativeReconstructionError(weight, pruned, { hessian: h.map((v) => v * 1000) });
    expectClose([b], [a], { atol: 0, rtol: TRACE_RTOL }, 'scaled H');
    expect(relativeReconstructionError(weight, weight, { hessian: h })).toBe(0);
    const zeros: Matrix = { rows: 3, cols: 4, data: new Float32Array(12) };
    expect(relativeReconstructionError(zeros, zeros, { inputs })).toBe(0);
    expect(relativeReconstructionError(zeros, weight, { inputs })).toBe(Infinity);
  });

  test('shape mismatches and NaN are clear errors', () => {
    const other: Matrix = { rows: 4, cols: 3, data: new Float32Array(12) };
    expect(() => relativeReconstructionError(weight, other, { inputs })).toThrow(/compressed 4 x 3 differs from weight 3 x 4/);
    expect(() => relativeReconstructionError(weight, pruned, { hessian: new Float64Array(9) })).toThrow(/hessian \(C_in x C_in\): length 9, expected 16/);
    const wrongInputs: Matrix = { rows: 3, cols: 5, data: new Float32Array(15) };
    expect(() => relativeReconstructionError(weight, pruned, { inputs: wrongInputs })).toThrow(/inputs have 3 rows, expected C_in = 4 \(X is C_in x n\)/);
    const nan: Matrix = { rows: 3, cols: 4, data: Float32Array.from(weight.data) };
    nan.data[0] = NaN;
    expect(() => relativeReconstructionError(nan, pruned, { inputs })).toThrow(/non-finite value \(NaN\) at row 0, column 0/);
  });
});
