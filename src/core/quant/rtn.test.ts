// RTN against IST-DASLab/gptq quant.py (fixtures/rtn.json, scripts/fixtures/quant_reference.py).
// Scales, zero points and codes are float32 operations in the reference's order, so they must
// agree bit for bit. The one allowed difference: the MSE clip search sums its errors in float64
// here and in float32 (torch's order) there, so where two shrink factors' errors lie within
// MSE_TIE (relative) of each other the two may keep different ones; such (row, group) pairs are
// counted (none in the fixture today) and bounded.
import { describe, expect, test } from 'vitest';
import { fakeQuantize, findQuantParams, MSE_CLIP, quantize, quantizeRtn, quantizeWith, roundHalfEven, QuantError } from './rtn.ts';
import { seededUniform } from '../testing/random.ts';
import { dequantize, type QuantizedWeight } from './types.ts';
import { describeGranularity, hexCodes, readQuantFixture, type RtnCase, type RtnFixture } from './fixtures/load.ts';
import { expectClose, expectDeepEqual } from '../testing/expectClose.ts';
import type { Matrix } from '../prune/types.ts';

const fixture = readQuantFixture<RtnFixture>('rtn.json');
const { rows, cols } = fixture.layer;
const weight: Matrix = { rows, cols, data: Float32Array.from(fixture.layer.weight) };
const exact = { atol: 0, rtol: 0 };
/** Relative gap under which two MSE-search errors count as tied (float32 sums of ≤ 1152 terms). */
const MSE_TIE = 1e-5;
/** At most this many (row, group) pairs per case may pick the other of two tied shrink factors. */
const MSE_TIES_ALLOWED = 1;

function referenceOf(c: RtnCase): QuantizedWeight {
  const groupSize = c.granularity.kind === 'group' ? c.granularity.size : cols;
  const groups = Math.ceil(cols / groupSize);
  return { rows, cols, bits: c.bits, symmetric: c.symmetric, groupSize, groups, codes: hexCodes(c.codes), scales: Float32Array.from(c.scales), zeroPoints: Uint8Array.from(c.zeroPoints) };
}

/** Σ |Q(x) − x|^2.4 in float64 over what one fit covers (a row's group; per tensor every weight). */
function mseError(q: QuantizedWeight, tensorWide: boolean, r: number, g: number, scale: number, zero: number): number {
  const maxq = 2 ** q.bits - 1;
  const [r0, r1] = tensorWide ? [0, rows] : [r, r + 1];
  const [c0, c1] = [g * q.groupSize, Math.min(cols, (g + 1) * q.groupSize)];
  let err = 0;
  for (let row = r0; row < r1; row++) {
    for (let c = c0; c < c1; c++) {
      const x = weight.data[row * cols + c];
      err += Math.abs(Math.fround(fakeQuantize(x, scale, zero, maxq) - x)) ** MSE_CLIP.norm;
    }
  }
  return err;
}

describe('RTN matches quant.py Quantizer', () => {
  test.each(fixture.cases.map((c) => [`${c.bits}-bit ${c.symmetric ? 'sym' : 'asym'} ${describeGranularity(c.granularity)}${c.mseClip ? ' mse' : ''}`, c] as const))('%s', (_, c) => {
    const ours = quantizeRtn(weight, { bits: c.bits, symmetric: c.symmetric }, c.granularity, { mseClip: c.mseClip });
    const ref = referenceOf(c);
    expect([ours.groupSize, ours.groups]).toEqual([ref.groupSize, ref.groups]);
    // (row, group) pairs whose MSE search kept another shrink factor at a near-tie.
    const excused = new Set<number>();
    for (let i = 0; i < ref.scales.length; i++) {
      if (ours.scales[i] === ref.scales[i] && ours.zeroPoints[i] === ref.zeroPoints[i]) continue;
      expect(c.mseClip, `scale/zero of (row ${Math.floor(i / ref.groups)}, group ${i % ref.groups}) differ without the MSE search`).toBe(true);
      const [r, g] = [Math.floor(i / ref.groups), i % ref.groups];
      const tensorWide = c.granularity.kind === 'tensor';
      const mine = mseError(ref, tensorWide, r, g, ours.scales[i], ours.zeroPoints[i]);
      const theirs = mseError(ref, tensorWide, r, g, ref.scales[i], ref.zeroPoints[i]);
      expect(Math.abs(mine - theirs) / theirs).toBeLessThan(MSE_TIE);
      excused.add(i);
    }
    expect(excused.size).toBeLessThanOrEqual(MSE_TIES_ALLOWED);
    const keepCodes = (q: QuantizedWeight) => Array.from(q.codes).filter((_, k) => !excused.has(Math.floor(k / cols) * q.groups + Math.floor((k % cols) / q.groupSize)));
    expectDeepEqual(keepCodes(ours), keepCodes(ref), 'codes');
    if (excused.size === 0) expectClose(dequantize(ours).data, dequantize(ref).data, exact, 'W-hat');
    if (c.granularity.kind === 'tensor') expect(new Set(ours.scales).size).toBe(1);
    if (c.symmetric) expect(new Set(ours.zeroPoints)).toEqual(new Set([2 ** (c.bits - 1)]));
  });
});

describe('RTN rules', () => {
  test('torch.round: halves to even, −0.5 to −0', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999999].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, -2, 2]);
  });

  test('exact halves round to even codes (the quarter-step row at 2 bits: scale 1)', () => {
    const q = quantizeRtn(weight, { bits: 2, symmetric: false }, { kind: 'row' });
    expect(q.scales[4]).toBe(1);
    expect(q.zeroPoints[4]).toBe(2); // round(1.5) = 2
    const row = Array.from(weight.data.subarray(4 * cols, 5 * cols));
    for (const [k, x] of row.entries()) expect(q.codes[4 * cols + k]).toBe(Math.min(3, Math.max(0, roundHalfEven(x) + 2)));
  });

  test('an all-zero row gets the range [−1, 1], and zero codes dequantize to exactly 0', () => {
    const q = quantizeRtn(weight, { bits: 4, symmetric: false }, { kind: 'row' });
    expect(q.scales[0]).toBe(Math.fround(2 / 15));
    expect(Array.from(dequantize(q).data.subarray(0, cols))).toEqual(new Array(cols).fill(0));
  });

  test('the wasm codes (quantizeWith) equal quantize() on halves, clamps, −0 and random values', () => {
    // 37 columns: two 16-lane blocks and a scalar tail per group of 37; a second layout of groups of 5.
    const values = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, -0, 0, 7.5, 8.5, -8.5, 1e30, -1e30, 3.4e38, 1e-45, 0.49999997];
    const next = seededUniform(7);
    const data = Float32Array.from({ length: 3 * 37 }, (_, i) => (i < values.length ? values[i] : (next() - 0.5) * 40));
    const m: Matrix = { rows: 3, cols: 37, data };
    for (const [groupSize, scale] of [[37, 1], [5, 0.75]] as const) {
      const groups = Math.ceil(37 / groupSize);
      const params = { groupSize, groups, scales: new Float32Array(3 * groups).fill(scale), zeroPoints: new Float32Array(3 * groups).fill(8) };
      const q = quantizeWith(m, { bits: 4, symmetric: false }, params);
      expect(Array.from(q.codes)).toEqual(Array.from(data, (x) => quantize(x, scale, 8, 15)));
    }
  });

  test('quantize clamps to [0, maxq]', () => {
    expect(quantize(100, 0.1, 8, 15)).toBe(15);
    expect(quantize(-100, 0.1, 8, 15)).toBe(0);
    expect(fakeQuantize(100, 0.5, 8, 15)).toBe(3.5);
  });

  test('per-tensor params are the flattened fit repeated per row', () => {
    const params = findQuantParams(weight, { bits: 3, symmetric: true }, { kind: 'tensor' });
    expect(params.groups).toBe(1);
    let max = 0;
    for (const x of weight.data) max = Math.max(max, Math.abs(x));
    expect(params.scales[0]).toBe(Math.fround(Math.fround(2 * max) / 7));
  });

  test('bad grids and weights are clear errors', () => {
    expect(() => quantizeRtn(weight, { bits: 1, symmetric: false }, { kind: 'row' })).toThrow(/bits must be an integer from 2 to 8, got 1/);
    expect(() => quantizeRtn(weight, { bits: 9, symmetric: false }, { kind: 'row' })).toThrow(QuantError);
    expect(() => quantizeRtn(weight, { bits: 4, symmetric: false }, { kind: 'group', size: 0 })).toThrow(/group size must be a positive integer/);
    const bad = { ...weight, data: Float32Array.from(weight.data) };
    bad.data[2 * cols + 3] = NaN;
    expect(() => quantizeRtn(bad, { bits: 4, symmetric: false }, { kind: 'row' })).toThrow(/non-finite value \(NaN\) at row 2, column 3/);
    // The wasm range pass flags NaN anywhere (SIMD body or a group's scalar tail) and ±∞ shows in the range.
    for (const [value, col] of [[NaN, cols - 1], [Infinity, 5], [-Infinity, 0]] as const) {
      const worse = { ...weight, data: Float32Array.from(weight.data) };
      worse.data[cols + col] = value;
      expect(() => quantizeRtn(worse, { bits: 4, symmetric: false }, { kind: 'group', size: 3 })).toThrow(new RegExp(`non-finite value \\(${value}\\) at row 1, column ${col}`));
    }
  });

  test('1 × 1, and a group larger than the row', () => {
    const one: Matrix = { rows: 1, cols: 1, data: Float32Array.of(-0.3) };
    const q = quantizeRtn(one, { bits: 4, symmetric: false }, { kind: 'group', size: 128 });
    expect([q.groups, q.groupSize, q.codes[0], q.zeroPoints[0]]).toEqual([1, 128, 0, 15]);
    expect(dequantize(q).data[0]).toBe(Math.fround(-0.3));
  });
});
