// QUIK against IST-DASLab/QUIK's quik_utils.QUIK.fasterquant and quant.ActQuantWrapper
// (fixtures/quik.json, made by fixtures/make_quik_fixtures.py with float64 factorisations, as here).
//
// Tolerances, as gptq.test.ts argues them: the column split and the order are exact; codes and
// zero points must be identical except in a row where the reference rounded a weight within 1e-3
// of a step from a half-integer (from there on that row may differ: none did when measured);
// scales (per row: fitted before the sweep, bit-identical; groups: refitted on W as the lazy
// updates left it, float32 summation order differs) within SCALE_RTOL = 2e-6; the float outlier
// columns, which take every update, and Ŵ within 1e-6 absolute (weights ~0.1; measured max
// 1.5e-8, the groups' scales 7.8e-8 relative); the loss within 2e-6 relative. Activation fake quantization is exact (same float32 steps).
import { describe, expect, test } from 'vitest';
import { expectClose } from '../testing/expectClose.ts';
import { float32FromBase64, hexCodes, readQuantFixture } from './fixtures/load.ts';
import type { FixtureHeader } from '../prune/fixtures/load.ts';
import { gptqQuantize } from './gptq.ts';
import { relativeReconstructionError } from '../prune/reconstruction.ts';
import { activationQuantizedError, fakeQuantizeActivations, quikColumnOrder, quikQuantize, quikSplitProblem } from './quik.ts';
import { QuantError } from './rtn.ts';
import { dequantize, type Granularity, type Matrix } from './types.ts';

interface QuikCase {
  name: string;
  outlierColumns: number;
  bits: number;
  blockSize: number;
  granularity: Granularity;
  order: number[];
  codes: string;
  scales: string;
  zeroPoints: number[];
  outlierWeight: string;
  weight: string;
  loss: number;
  ties: number[];
}

interface QuikFixture {
  header: FixtureHeader;
  percDamp: number;
  layer: { rows: number; cols: number; outliers: number[]; dead: number[]; weight: string; hessian: string; actScales: string };
  cases: QuikCase[];
  activation: { outlierColumns: number; tokens: number; x: string; quantized: Record<string, string> };
}

const fixture = readQuantFixture<QuikFixture>('quik.json');
const { rows, cols } = fixture.layer;
const weight: Matrix = { rows, cols, data: float32FromBase64(fixture.layer.weight) };
const hessian = Float64Array.from(float32FromBase64(fixture.layer.hessian));
const actScales = float32FromBase64(fixture.layer.actScales);
const SCALE_RTOL = 2e-6;

describe('QUIK against IST-DASLab/QUIK fasterquant', () => {
  test.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const result = quikQuantize(weight, hessian, actScales, { grid: { bits: c.bits, symmetric: false }, granularity: c.granularity, outlierColumns: c.outlierColumns, blockSize: c.blockSize, percDamp: fixture.percDamp });
    const nInt = cols - c.outlierColumns;
    // The split: the outliers are the k largest activation scales, swept last; the rest ascending.
    expect(Array.from(result.quantizedColumns)).toEqual(c.order.slice(0, nInt));
    expect(Array.from(result.outlierColumns)).toEqual(c.order.slice(nInt));
    const q = result.quantized;
    expect([q.rows, q.cols]).toEqual([rows, nInt]);
    const refCodes = hexCodes(c.codes);
    const ties = new Set(c.ties);
    const flippedRows = new Set<number>();
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < nInt; j++) {
        const i = r * nInt + j;
        if (q.codes[i] === refCodes[i]) continue;
        if (!ties.has(i)) throw new Error(`row ${r}, sweep column ${j}: code ${q.codes[i]}, reference ${refCodes[i]}, not at a near-tie`);
        flippedRows.add(r);
        break;
      }
    }
    expect(flippedRows.size).toBeLessThanOrEqual(1);
    const keepRow = (_: number, i: number, width: number) => !flippedRows.has(Math.floor(i / width));
    expect(Array.from(q.zeroPoints)).toEqual(c.zeroPoints);
    expectClose(q.scales, float32FromBase64(c.scales), { atol: 0, rtol: SCALE_RTOL }, 'scales');
    const outliers = float32FromBase64(c.outlierWeight);
    expectClose(result.outlierWeight.data.filter((v, i) => keepRow(v, i, c.outlierColumns)), outliers.filter((v, i) => keepRow(v, i, c.outlierColumns)), { atol: 1e-6, rtol: 0 }, 'float outlier columns');
    const refWeight = float32FromBase64(c.weight);
    expectClose(result.weight.data.filter((v, i) => keepRow(v, i, cols)), refWeight.filter((v, i) => keepRow(v, i, cols)), { atol: 1e-6, rtol: 0 }, 'W-hat (natural order)');
    expectClose([result.loss], [c.loss], { atol: 1e-9, rtol: 2e-6 }, 'loss');
    // Ŵ is the dequantized integer part at the quantized columns and the float part at the others.
    const deq = dequantize(q);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < nInt; j++) expect(result.weight.data[r * cols + result.quantizedColumns[j]]).toBe(deq.data[r * nInt + j]);
      for (let j = 0; j < c.outlierColumns; j++) expect(result.weight.data[r * cols + result.outlierColumns[j]]).toBe(result.outlierWeight.data[r * c.outlierColumns + j]);
    }
  });

  test('the float columns absorb error: they differ from W, and the output error beats GPTQ with the same k columns at 4 bits', () => {
    const k = 8;
    const result = quikQuantize(weight, hessian, actScales, { grid: { bits: 4, symmetric: false }, granularity: { kind: 'row' }, outlierColumns: k, blockSize: 32 });
    let moved = 0;
    for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) moved += Number(result.outlierWeight.data[r * k + j] !== weight.data[r * cols + result.outlierColumns[j]]);
    expect(moved).toBeGreaterThan(rows * k * 0.9);
    const plain = gptqQuantize(weight, hessian, { grid: { bits: 4, symmetric: false }, granularity: { kind: 'row' }, blockSize: 32 });
    const outputError = (w: Matrix) => {
      // tr((W − Ŵ) H (W − Ŵ)ᵀ)
      let sum = 0;
      for (let r = 0; r < rows; r++) {
        for (let i = 0; i < cols; i++) {
          const di = weight.data[r * cols + i] - w.data[r * cols + i];
          if (di === 0) continue;
          for (let j = 0; j < cols; j++) sum += di * hessian[i * cols + j] * (weight.data[r * cols + j] - w.data[r * cols + j]);
        }
      }
      return sum;
    };
    expect(outputError(result.weight)).toBeLessThan(outputError(plain.weight) / 4);
  });

  test('order: ascending activation scale, lower index first among ties', () => {
    expect(Array.from(quikColumnOrder([3, 1, 2, 1, 0]))).toEqual([4, 1, 3, 2, 0]);
  });

  test('impossible splits are refused with the reason', () => {
    expect(quikSplitProblem(64, 64, { kind: 'row' })).toMatch(/less than C_in \(64\)/);
    expect(quikSplitProblem(64, 8, { kind: 'group', size: 32 })).toMatch(/32 does not divide C_in − outlierColumns = 64 − 8 = 56/);
    expect(quikSplitProblem(64, 8, { kind: 'tensor' })).toMatch(/per row or per group/);
    expect(quikSplitProblem(64, 32, { kind: 'group', size: 32 })).toBeUndefined();
    expect(() => quikQuantize(weight, hessian, actScales.subarray(1), { grid: { bits: 4, symmetric: false }, granularity: { kind: 'row' }, outlierColumns: 4 })).toThrow(QuantError);
  });
});

describe('activation fake quantization against QUIK ActQuantWrapper', () => {
  const { tokens, outlierColumns: k } = fixture.activation;
  const x: Matrix = { rows: tokens, cols, data: float32FromBase64(fixture.activation.x) };
  const order = quikColumnOrder(actScales);
  test.each([8, 4])('%i bits: integer columns quantized per token, outlier columns untouched, bit for bit', (bits) => {
    const ours = fakeQuantizeActivations(x, order.slice(0, cols - k), bits);
    expectClose(ours.data, float32FromBase64(fixture.activation.quantized[String(bits)]), { atol: 0, rtol: 0 }, `A${bits}`);
    for (const c of order.slice(cols - k)) for (let t = 0; t < tokens; t++) expect(ours.data[t * cols + c]).toBe(x.data[t * cols + c]);
  });
});

describe('activationQuantizedError', () => {
  const { tokens, outlierColumns: k } = fixture.activation;
  const x: Matrix = { rows: tokens, cols, data: float32FromBase64(fixture.activation.x) };
  const order = quikColumnOrder(actScales);
  test('the output error of Q_a alone: 0 when nothing is quantized, larger at 4 bits than at 8, and an outlier split helps', () => {
    const all = Int32Array.from({ length: cols }, (_, j) => j);
    expect(activationQuantizedError(weight, weight, x, [], 8)).toBe(0);
    const [a8, a4] = [8, 4].map((bits) => activationQuantizedError(weight, weight, x, order.slice(0, cols - k), bits));
    expect(a8).toBeGreaterThan(0);
    expect(a4).toBeGreaterThan(a8 * 7);
    // The 6 outlier channels (x12) set each token's range; quantizing them too costs more.
    expect(activationQuantizedError(weight, weight, x, all, 4)).toBeGreaterThan(a4);
  });

  test('with no activation quantized it is the report\'s sampled ‖WX − ŴX‖/‖WX‖ (same scale as the other rows)', () => {
    const compressed: Matrix = { ...weight, data: weight.data.map((w, i) => w + (i % 7 === 0 ? 0.01 : 0)) };
    const expected = relativeReconstructionError(weight, compressed, { tokenRows: x });
    // (The report's path sums a float32 Gram, this one the products directly: 1e-7 relative.)
    expect(Math.abs(activationQuantizedError(weight, compressed, x, [], 4) / expected - 1)).toBeLessThan(1e-7);
  });
});
