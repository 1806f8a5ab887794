// ‖WX − ŴX‖/‖WX‖ from the Hessian (trace form) and from token rows (the trace form on their Gram)
// equals the direct computation from X; on the fixture of scripts/fixtures/reconstruction_reference.py,
// the errors numpy computes in float64 for prune_wanda masks on all tokens and on a sample.
import { describe, expect, test } from 'vitest';
import { relativeReconstructionError } from './reconstruction.ts';
import { magnitudePrune } from './magnitude.ts';
import { wandaPrune } from './wanda.ts';
import type { Matrix } from './types.ts';
import { keepBits, matrix, readFixture, type ReconstructionFixture } from './fixtures/load.ts';
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

/** X (C_in x n) as token rows (n x C_in). */
function tokenRowsOf(x: Matrix): Matrix {
  const data = new Float32Array(x.data.length);
  for (let i = 0; i < x.rows; i++) for (let t = 0; t < x.cols; t++) data[t * x.rows + i] = x.data[i * x.cols + t];
  return { rows: x.cols, cols: x.rows, data };
}

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
    // Token rows: the trace form on X Xᵀ (exact in float64), so float32's bound again.
    const fromRows = relativeReconstructionError(weight, pruned, { tokenRows: tokenRowsOf(inputs) });
    expectClose([fromRows], [expected], { atol: 0, rtol: TRACE_RTOL }, 'relative error from token rows');
  });

  test('token rows: one token, 1 x 1, and rows the wrong width', () => {
    const one: Matrix = { rows: 1, cols: 4, data: Float32Array.of(1, -1, 0, 2) };
    const expected = direct(weight, pruned, { rows: 4, cols: 1, data: one.data });
    expectClose([relativeReconstructionError(weight, pruned, { tokenRows: one })], [expected], { atol: 0, rtol: TRACE_RTOL }, 'one token');
    const w11: Matrix = { rows: 1, cols: 1, data: Float32Array.of(3) };
    expect(relativeReconstructionError(w11, { rows: 1, cols: 1, data: Float32Array.of(0) }, { tokenRows: { rows: 2, cols: 1, data: Float32Array.of(2, -1) } })).toBe(1);
    expect(() => relativeReconstructionError(weight, pruned, { tokenRows: { rows: 5, cols: 3, data: new Float32Array(15) } })).toThrow(/token rows have 3 columns, expected C_in = 4 \(rows are tokens\)/);
    expect(() => relativeReconstructionError(weight, pruned, { tokenRows: { rows: 1, cols: 4, data: Float32Array.of(0, NaN, 0, 0) } })).toThrow(/non-finite value \(NaN\) at row 0, column 1/);
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

describe('the estimate on sampled tokens against numpy (reconstruction.json)', () => {
  const fixture = readFixture<ReconstructionFixture>('reconstruction.json');
  const { layer, sample } = fixture;
  const weight = matrix(layer.rows, layer.cols, layer.weight);
  const all = matrix(layer.tokens, layer.cols, layer.inputs);
  const sampled = matrix(sample.tokens, layer.cols, sample.rows);

  test('the fixture says how it was made, and its sample is rows of its inputs', () => {
    expect(fixture.header.command).toBe('/usr/bin/python3 scripts/fixtures/reconstruction_reference.py');
    expect(new Set(sample.indices).size).toBe(sample.tokens);
    const t = sample.indices[5];
    expect(sampled.data.subarray(5 * layer.cols, 6 * layer.cols)).toEqual(all.data.subarray(t * layer.cols, (t + 1) * layer.cols));
  });

  test.each(fixture.cases.map((c) => [c.reference, c] as const))('%s: float64 errors on the sample and on all tokens', (_, c) => {
    const keep = keepBits(c.keep);
    const pruned: Matrix = { ...weight, data: weight.data.map((w, i) => (keep[i] ? w : 0)) };
    // Wanda's own weights on the fixture's sqNorm are the reference's (the masks differ only in
    // the all-zero row, whose ties torch orders its own way: wanda.test.ts).
    expect(wandaPrune(weight, { sqNorm: Float64Array.from(layer.sqNorm) }, c.pattern).weight.data).toEqual(pruned.data);
    const estimate = relativeReconstructionError(weight, pruned, { tokenRows: sampled });
    const exact = relativeReconstructionError(weight, pruned, { tokenRows: all });
    expectClose([estimate], [c.sampledError], { atol: 0, rtol: TRACE_RTOL }, 'error on the sampled tokens');
    expectClose([exact], [c.exactError], { atol: 0, rtol: TRACE_RTOL }, 'error on all tokens');
    // What the report gives for Wanda is the first; SparseGPT's exact one is the second, from H.
    expect(estimate).not.toBe(exact);
  });
});
