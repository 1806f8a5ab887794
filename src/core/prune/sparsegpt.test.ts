// SparseGPT against IST-DASLab/sparsegpt fasterprune (fixtures/sparsegpt.json). Each setting was
// run twice by the fixture script: as the reference runs it (float32 Cholesky factorisations)
// and with the factorisations in float64, as here. The column loop is float32 on both sides.
import { describe, expect, test } from 'vitest';
import { sparseGptPrune } from './sparsegpt.ts';
import { checkNM, checkVNM, countPruned } from './invariants.ts';
import { PruneError, type Matrix } from './types.ts';
import { describeCase, keepBits, matrix, readFixture, type SparseGptFixture } from './fixtures/load.ts';
import { firstMaskDifference } from './fixtures/compare.ts';
import { expectClose, expectDeepEqual } from '../testing/expectClose.ts';

const fixture = readFixture<SparseGptFixture>('sparsegpt.json');
const layerOf = (name: string) => {
  const layer = fixture.layers[name];
  return { layer, weight: matrix(layer.rows, layer.cols, layer.weight), stats: { hessian: Float64Array.from(layer.hessian ?? []) } };
};

// Weights are ~0.1–0.5. Against the float64-factorisation run the only differences are float32
// summation order in the lazy update (torch's BLAS vs a sequential sum, ~1e-7): atol 5e-7. The
// reference's float32 factorisations add cond(H)·2⁻²⁴ relative error to U (seen: 1.5e-7 abs):
// atol 1e-6. Losses are float32 sums of ~200 terms: rtol 2e-6.
const TOLERANCE = {
  float64: { atol: 5e-7, rtol: 5e-6 },
  float32: { atol: 1e-6, rtol: 1e-5 },
} as const;
const LOSS_TOLERANCE = { atol: 1e-9, rtol: 2e-6 };

describe('SparseGPT matches fasterprune', () => {
  test.each(fixture.cases.map((c) => [`${describeCase(c)} (${c.factorisation} factorisation)`, c] as const))('%s', (_, c) => {
    const { layer, weight, stats } = layerOf(c.layer);
    const result = sparseGptPrune(weight, stats, c.pattern, { blockSize: fixture.blockSize, percDamp: fixture.percDamp });
    expectClose(result.weight.data, c.weight, TOLERANCE[c.factorisation], 'weight');
    expectClose(result.losses, c.losses, LOSS_TOLERANCE, 'losses');
    // torch.topk breaks exact ties (the all-zero row) its own way; every other entry must agree.
    const p = c.pattern;
    const tiedRows = p.kind === 'nm' ? layer.zeroRows : [];
    expect(firstMaskDifference(result.keep.data, keepBits(c.keep), layer.cols, tiedRows)).toBeNull();
    if (p.kind === 'nm') expect(checkNM(result.keep, p.n, p.m)).toEqual([]);
    if (p.kind === 'vnm') expect(checkVNM(result.keep, p.v, p.m)).toEqual([]);
    for (let i = 0; i < result.keep.data.length; i++) if (result.keep.data[i] === 0) expect(result.weight.data[i]).toBe(0);
  });

  test('unstructured prunes ⌊numel·s⌋ + 1 per block, as `tmp <= sorted[int(numel*s)]` does', () => {
    const { weight, stats } = layerOf('main');
    const result = sparseGptPrune(weight, stats, { kind: 'unstructured', sparsity: 0.5 });
    const blocks = [128, 72].map((width) => Math.floor(16 * width * 0.5) + 1);
    expect(countPruned(result.keep)).toBe(blocks[0] + blocks[1]);
  });
});

/** tr(A H Aᵀ), float64. */
function traceForm(a: Float64Array, rows: number, cols: number, h: Float64Array): number {
  let total = 0;
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < cols; i++) {
      let hi = 0;
      for (let j = 0; j < cols; j++) hi += h[i * cols + j] * a[r * cols + j];
      total += a[r * cols + i] * hi;
    }
  }
  return total;
}

describe('SparseGPT internal consistency', () => {
  test('2·ΣLosses = tr(ΔW H ΔWᵀ) with the damped H (Ŵ = W − E·U and U H Uᵀ = I)', () => {
    const { layer, weight, stats } = layerOf('main');
    const result = sparseGptPrune(weight, stats, { kind: 'nm', n: 2, m: 4 });
    const n = layer.cols;
    const h = Float64Array.from(stats.hessian);
    const w0 = Float64Array.from(weight.data);
    for (let j = 0; j < n; j++) {
      if (h[j * n + j] !== 0) continue;
      h[j * n + j] = 1;
      for (let r = 0; r < layer.rows; r++) w0[r * n + j] = 0;
    }
    let trace = 0;
    for (let j = 0; j < n; j++) trace += h[j * n + j];
    for (let j = 0; j < n; j++) h[j * n + j] += (0.01 * trace) / n;
    const delta = Float64Array.from(w0, (w, i) => w - result.weight.data[i]);
    const lossSum = result.losses.reduce((s, l) => s + l, 0);
    expectClose([traceForm(delta, layer.rows, n, h)], [2 * lossSum], { atol: 0, rtol: 1e-4 }, 'OBS error');
  });

  test('dead inputs end up zero in every row', () => {
    const { layer, weight, stats } = layerOf('main');
    const result = sparseGptPrune(weight, stats, { kind: 'unstructured', sparsity: 0.3 });
    for (const j of layer.deadInputs) for (let r = 0; r < layer.rows; r++) expect(result.weight.data[r * layer.cols + j]).toBe(0);
  });
});

describe('SparseGPT on hostile input', () => {
  const { weight, stats } = layerOf('main');

  test('sparsity 0 leaves W unchanged bit for bit (dead inputs included)', () => {
    const result = sparseGptPrune(weight, stats, { kind: 'unstructured', sparsity: 0 });
    expectDeepEqual(result.weight.data, weight.data, 'weight');
    expect(countPruned(result.keep)).toBe(0);
  });

  test('NaN in the weight or the Hessian is a clear error', () => {
    const bad: Matrix = { ...weight, data: Float32Array.from(weight.data) };
    bad.data[5 * 200 + 7] = NaN;
    expect(() => sparseGptPrune(bad, stats, { kind: 'nm', n: 2, m: 4 })).toThrow(/SparseGPT: weight has a non-finite value \(NaN\) at row 5, column 7/);
    const hessian = Float64Array.from(stats.hessian);
    hessian[3] = NaN;
    expect(() => sparseGptPrune(weight, { hessian }, { kind: 'nm', n: 2, m: 4 })).toThrow(/SparseGPT: hessian has a non-finite value \(NaN\) at row 0, column 3/);
    expect(() => sparseGptPrune(weight, { hessian: new Float64Array(4) }, { kind: 'nm', n: 2, m: 4 })).toThrow(/hessian \(C_in x C_in\): length 4, expected 40000/);
  });

  test('an indefinite Hessian is refused, not silently factorised', () => {
    const w = matrix(1, 2, [1, 2]);
    const hessian = Float64Array.of(1, 2, 2, 1);
    expect(() => sparseGptPrune(w, { hessian }, { kind: 'unstructured', sparsity: 0.5 }, { percDamp: 0 })).toThrow(PruneError);
    expect(() => sparseGptPrune(w, { hessian }, { kind: 'unstructured', sparsity: 0.5 }, { percDamp: 0 })).toThrow(/the damped Hessian is not positive definite: Cholesky pivot 1/);
  });

  test('groups may not straddle blocks, and options are checked', () => {
    expect(() => sparseGptPrune(weight, stats, { kind: 'nm', n: 2, m: 8 }, { blockSize: 100 })).toThrow(/M = 8 must divide blockSize = 100/);
    expect(() => sparseGptPrune(weight, stats, { kind: 'unstructured', sparsity: 0.5 }, { blockSize: 0 })).toThrow(/blockSize must be a positive integer/);
    expect(() => sparseGptPrune(weight, stats, { kind: 'unstructured', sparsity: 0.5 }, { percDamp: -1 })).toThrow(/percDamp/);
  });

  test('an all-zero Hessian (every input dead) prunes to zero without a factorisation error', () => {
    const w = matrix(2, 4, [1, 2, 3, 4, 5, 6, 7, 8]);
    const result = sparseGptPrune(w, { hessian: new Float64Array(16) }, { kind: 'nm', n: 2, m: 4 });
    expect(Array.from(result.weight.data)).toEqual(new Array(8).fill(0));
  });

  test('1 x 8 at 1:4 with 4-column blocks keeps one weight per group', () => {
    const small = layerOf('row1x8');
    const result = sparseGptPrune(small.weight, small.stats, { kind: 'nm', n: 1, m: 4 }, { blockSize: 4 });
    expect(checkNM(result.keep, 1, 4)).toEqual([]);
    expect(countPruned(result.keep)).toBe(6);
  });
});
