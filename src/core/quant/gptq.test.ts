// GPTQ against IST-DASLab/gptq fasterquant, and SparseGPT's wbits path against IST-DASLab/sparsegpt
// fasterprune with a quantizer (fixtures/gptq.json, scripts/fixtures/quant_reference.py). Each
// setting was run twice by the fixture script: with the reference's float32 factorisations and
// with float64 factorisations, as here; the column loop is float32 on both sides.
//
// Tolerances. Per-row, per-tensor and static-group parameters are fitted on W before the sweep:
// bit-identical. Dynamic groups are fitted on W as the sweep left it, which differs from torch's
// by float32 summation order in the lazy update (torch's BLAS vs a sequential sum): scales within
// SCALE_RTOL = 2e-6 (measured ≤ 2 ulps, 1.2e-7). With equal codes Ŵ = scale·(code − zero) differs
// only through the scale: the same rtol, and 0 stays exactly 0. Losses are float32 sums: 2e-6.
// Codes must be identical. A code may flip only where the reference rounded within
// `fixture.tie` (1e-3 of a step) of a half-integer (or a zero point's −xmin/scale did); from that
// column on the row's updates differ, so the rest of that row is excused. At most
// FLIPPED_ROWS_ALLOWED rows per case; the fixture has no flip today (measured: 0 of 36 cases).
import { describe, expect, test } from 'vitest';
import { actOrderPermutation, gptqQuantize, type GptqResult } from './gptq.ts';
import { quantizeRtn, QuantError } from './rtn.ts';
import { dequantize } from './types.ts';
import { sparseGptPrune } from '../prune/sparsegpt.ts';
import { keepBits } from '../prune/fixtures/load.ts';
import { firstMaskDifference } from '../prune/fixtures/compare.ts';
import { describeGranularity, gptqLayer, readQuantFixture, type GptqCase, type GptqFixture, type JointCase } from './fixtures/load.ts';
import { expectSelfConsistent, expectWeightsClose, FLIPPED_ROWS_ALLOWED, LOSS_TOLERANCE, referenceOf, rowsFlippedAtTies } from './fixtures/gptqCompare.ts';
import { expectClose, expectDeepEqual } from '../testing/expectClose.ts';
import type { Matrix } from '../prune/types.ts';

const fixture = readQuantFixture<GptqFixture>('gptq.json');
const { weight, hessian } = gptqLayer(fixture);
const { rows, cols } = weight;

const gptqCases = fixture.cases.filter((c): c is GptqCase => c.kind === 'gptq');
const jointCases = fixture.cases.filter((c): c is JointCase => c.kind === 'sparsegpt');
const name = (c: GptqCase) =>
  `${c.bits}-bit ${c.symmetric ? 'sym' : 'asym'} ${describeGranularity(c.granularity)}${c.actOrder ? ' act-order' : ''}${c.staticGroups ? ' static' : ''}${c.mseClip ? ' mse' : ''} (${c.factorisation} factorisation)`;
const runGptq = (c: GptqCase): GptqResult =>
  gptqQuantize(weight, hessian, { grid: { bits: c.bits, symmetric: c.symmetric }, granularity: c.granularity, blockSize: fixture.blockSize, percDamp: fixture.percDamp, actOrder: c.actOrder, staticGroups: c.staticGroups, mseClip: c.mseClip });

describe('GPTQ matches fasterquant', () => {
  test.each(gptqCases.map((c) => [name(c), c] as const))('%s', (_, c) => {
    const result = runGptq(c);
    const ref = referenceOf(fixture, c);
    const ours = result.quantized;
    expect([ours.groupSize, ours.groups, ours.bits, ours.symmetric]).toEqual([ref.groupSize, ref.groups, ref.bits, ref.symmetric]);
    const perm = c.perm ?? Array.from({ length: cols }, (_, j) => j);
    if (c.perm) {
      // Equal diagonals (the two dead inputs, both 1) may come in either order: torch's argsort is
      // not stable. Elsewhere the order is the reference's.
      const h = Float64Array.from(hessian, (v, i) => (v === 0 && i % (cols + 1) === 0 ? 1 : v));
      const diagonal = (order: ArrayLike<number>) => Array.from(order, (j) => h[j * (cols + 1)]);
      expect(diagonal(actOrderPermutation(h, cols))).toEqual(diagonal(c.perm));
    }
    if (ref.groupIndex) expect(Array.from(ours.groupIndex ?? [])).toEqual(Array.from(ref.groupIndex));
    else expect(ours.groupIndex).toBeUndefined();
    const flipped = rowsFlippedAtTies(ours, ref, c, perm);
    expect(flipped.length).toBeLessThanOrEqual(FLIPPED_ROWS_ALLOWED);
    expectWeightsClose(result.weight, ref, flipped);
    if (flipped.length === 0) expectClose([result.loss!], [c.loss], LOSS_TOLERANCE, 'loss');
    expectSelfConsistent({ weight: result.weight, quantized: ours });
  });
});

describe('SparseGPT + quantization matches fasterprune with a quantizer', () => {
  test.each(jointCases.map((c) => [`${c.pattern.kind === 'nm' ? `${c.pattern.n}:${c.pattern.m}` : `s=${c.pattern.kind === 'unstructured' ? c.pattern.sparsity : ''}`} + ${c.bits}-bit ${describeGranularity(c.granularity)} (${c.factorisation} factorisation)`, c] as const))('%s', (_, c) => {
    const result = sparseGptPrune(weight, { hessian }, c.pattern, { blockSize: fixture.blockSize, percDamp: fixture.percDamp, quantize: { grid: { bits: c.bits, symmetric: c.symmetric }, granularity: c.granularity } });
    const ref = referenceOf(fixture, c);
    const ours = result.quantized!;
    // torch.topk breaks the exact ties of the all-zero row its own way (as in sparsegpt.test.ts).
    const tiedRows = c.pattern.kind === 'nm' ? fixture.layer.zeroRows : [];
    expect(firstMaskDifference(result.keep.data, keepBits(c.keep), cols, tiedRows)).toBeNull();
    const flipped = rowsFlippedAtTies(ours, ref, c, Array.from({ length: cols }, (_, j) => j));
    expect(flipped.length).toBeLessThanOrEqual(FLIPPED_ROWS_ALLOWED);
    expectWeightsClose(result.weight, ref, flipped);
    if (flipped.length === 0) expectClose(result.losses, c.losses, LOSS_TOLERANCE, 'losses');
    expectSelfConsistent(result);
    // Pruned weights stay exactly +0 after quantization: their code is the zero point.
    for (let i = 0; i < rows * cols; i++) {
      if (result.keep.data[i] !== 0) continue;
      expect(Object.is(result.weight.data[i], 0)).toBe(true);
      expect(ours.codes[i]).toBe(ours.zeroPoints[Math.floor(i / cols) * ours.groups + Math.floor((i % cols) / ours.groupSize)]);
    }
  });
});

describe('the near-tie rule of these tests', () => {
  // The rule excuses a row only from a flip at a recorded near-tie; it must fail otherwise.
  const c = gptqCases.find((k) => k.granularity.kind === 'group' && !k.actOrder && k.ties.length > 0 && k.zeroTies.length > 0)!;
  const ref = referenceOf(fixture, c);
  const order = Array.from({ length: cols }, (_, j) => j);
  const flipAt = (index: number) => {
    const codes = Uint8Array.from(ref.codes);
    codes[index] = codes[index] === 0 ? 1 : codes[index] - 1;
    return { ...ref, codes };
  };

  test('a code flip at a recorded near-tie excuses its row; anywhere else it fails', () => {
    const [tie] = c.ties[0];
    expect(rowsFlippedAtTies(flipAt(tie), ref, c, order)).toEqual([Math.floor(tie / cols)]);
    const ties = new Set(c.ties.map(([i]) => i));
    const elsewhere = Array.from({ length: rows * cols }, (_, i) => i).find((i) => !ties.has(i))!;
    expect(() => rowsFlippedAtTies(flipAt(elsewhere), ref, c, order)).toThrow(/not at a near-tie/);
  });

  test('a zero point flip at a recorded near-tie excuses its row; a scale off by 1e-5 fails', () => {
    const [r, g] = c.zeroTies[0];
    const zeroPoints = Uint8Array.from(ref.zeroPoints);
    zeroPoints[r * ref.groups + g] += 1;
    expect(rowsFlippedAtTies({ ...ref, zeroPoints }, ref, c, order)).toEqual([r]);
    const scales = Float32Array.from(ref.scales);
    scales[0] *= 1 + 1e-5;
    expect(() => rowsFlippedAtTies({ ...ref, scales }, ref, c, order)).toThrow(/scale of row 0, group 0/);
  });
});

/** tr(A H Aᵀ), float64. */
function traceForm(a: ArrayLike<number>, h: Float64Array): number {
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

/** W with dead inputs zeroed and H damped as fasterquant does. */
function deadZeroedAndDamped(percDamp = 0.01): { w0: Float64Array; h: Float64Array } {
  const h = Float64Array.from(hessian);
  const w0 = Float64Array.from(weight.data);
  for (let j = 0; j < cols; j++) {
    if (h[j * cols + j] !== 0) continue;
    h[j * cols + j] = 1;
    for (let r = 0; r < rows; r++) w0[r * cols + j] = 0;
  }
  let trace = 0;
  for (let j = 0; j < cols; j++) trace += h[j * cols + j];
  for (let j = 0; j < cols; j++) h[j * cols + j] += (percDamp * trace) / cols;
  return { w0, h };
}

describe('GPTQ internal consistency', () => {
  test.each([false, true])('2·loss = tr(ΔW H ΔWᵀ) with the damped H (act-order %s)', (actOrder) => {
    const result = gptqQuantize(weight, hessian, { grid: { bits: 3, symmetric: false }, granularity: { kind: 'group', size: 32 }, actOrder });
    const { w0, h } = deadZeroedAndDamped();
    const delta = Float64Array.from(w0, (w, i) => w - result.weight.data[i]);
    expectClose([traceForm(delta, h)], [2 * result.loss!], { atol: 0, rtol: 1e-4 }, 'OBS error');
  });

  test('GPTQ leaves a smaller output error tr(ΔW H ΔWᵀ) than RTN on the same grid', () => {
    const { w0, h } = deadZeroedAndDamped(0);
    for (const granularity of [{ kind: 'row' }, { kind: 'group', size: 32 }] as const) {
      const grid = { bits: 3, symmetric: false };
      const gptq = gptqQuantize(weight, hessian, { grid, granularity }).weight.data;
      const rtn = dequantize(quantizeRtn({ rows, cols, data: Float32Array.from(w0) }, grid, granularity)).data;
      const errorOf = (hat: Float32Array) => traceForm(Float64Array.from(w0, (w, i) => w - hat[i]), h);
      expect(errorOf(gptq)).toBeLessThan(0.85 * errorOf(rtn)); // measured 0.71 per row
    }
  });

  test('SparseGPT at sparsity 0 with a quantizer is GPTQ, bit for bit', () => {
    const grid = { bits: 4, symmetric: false };
    const joint = sparseGptPrune(weight, { hessian }, { kind: 'unstructured', sparsity: 0 }, { quantize: { grid, granularity: { kind: 'group', size: 32 } } });
    const gptq = gptqQuantize(weight, hessian, { grid, granularity: { kind: 'group', size: 32 } });
    expectDeepEqual(joint.weight.data, gptq.weight.data, 'weight');
    expectDeepEqual(joint.quantized!.codes, gptq.quantized.codes, 'codes');
  });

  test('dead inputs end up zero, with the zero point as code', () => {
    const result = gptqQuantize(weight, hessian, { grid: { bits: 4, symmetric: true }, granularity: { kind: 'group', size: 32 }, actOrder: true });
    const q = result.quantized;
    for (const j of fixture.layer.deadInputs) {
      for (let r = 0; r < rows; r++) {
        expect(result.weight.data[r * cols + j]).toBe(0);
        expect(q.codes[r * cols + j]).toBe(q.zeroPoints[r * q.groups + q.groupIndex![j]]);
      }
    }
  });

  test('static groups without act-order equal groups fitted on the original W: no groupIndex', () => {
    const result = gptqQuantize(weight, hessian, { grid: { bits: 4, symmetric: false }, granularity: { kind: 'group', size: 32 }, staticGroups: true, actOrder: true });
    expect(result.quantized.groupIndex).toBeUndefined();
    expect(result.quantized.groups).toBe(5);
  });
});

describe('GPTQ on hostile input', () => {
  const grid = { bits: 4, symmetric: false };

  test('NaN in the weight or the Hessian, a wrong length, bad options: clear errors', () => {
    const bad = { ...weight, data: Float32Array.from(weight.data) };
    bad.data[2 * cols + 9] = NaN;
    expect(() => gptqQuantize(bad, hessian, { grid, granularity: { kind: 'row' } })).toThrow(/GPTQ: weight has a non-finite value \(NaN\) at row 2, column 9/);
    const h = Float64Array.from(hessian);
    h[cols + 4] = Infinity;
    expect(() => gptqQuantize(weight, h, { grid, granularity: { kind: 'row' } })).toThrow(/GPTQ: hessian has a non-finite value \(Infinity\) at row 1, column 4/);
    expect(() => gptqQuantize(weight, new Float64Array(9), { grid, granularity: { kind: 'row' } })).toThrow(/length 9, expected 25600/);
    expect(() => gptqQuantize(weight, hessian, { grid, granularity: { kind: 'row' }, blockSize: 0 })).toThrow(/blockSize must be a positive integer/);
    expect(() => gptqQuantize(weight, hessian, { grid, granularity: { kind: 'row' }, percDamp: -0.1 })).toThrow(/percDamp/);
    expect(() => gptqQuantize(weight, hessian, { grid: { bits: 10, symmetric: false }, granularity: { kind: 'row' } })).toThrow(QuantError);
    expect(() => gptqQuantize(weight, hessian, { grid, granularity: { kind: 'row' }, staticGroups: true })).toThrow(/staticGroups needs groups/);
  });

  test('an indefinite Hessian is refused as a QuantError', () => {
    const w: Matrix = { rows: 1, cols: 2, data: Float32Array.of(1, 2) };
    expect(() => gptqQuantize(w, Float64Array.of(1, 2, 2, 1), { grid, granularity: { kind: 'row' }, percDamp: 0 })).toThrow(/GPTQ: the damped Hessian is not positive definite/);
  });

  test('an all-zero Hessian (every input dead) gives an all-zero Ŵ', () => {
    const w: Matrix = { rows: 2, cols: 4, data: Float32Array.of(1, 2, 3, 4, -5, 6, 7, 8) };
    const result = gptqQuantize(w, new Float64Array(16), { grid, granularity: { kind: 'row' } });
    expect(Array.from(result.weight.data)).toEqual(new Array(8).fill(0));
  });

  test('1 × 1, and a group wider than the layer', () => {
    const w: Matrix = { rows: 1, cols: 1, data: Float32Array.of(0.7) };
    const result = gptqQuantize(w, Float64Array.of(2), { grid, granularity: { kind: 'group', size: 128 }, actOrder: true });
    expect([result.quantized.groups, result.quantized.codes[0], result.weight.data[0]]).toEqual([1, 15, Math.fround(0.7)]);
  });
});
