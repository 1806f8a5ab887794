// QUIK's split form written by the lab runs in onnxruntime-web (wasm): Gather of the quantized
// columns → (fake-quantized activations) → MatMulNBits, plus Gather of the outlier columns → float
// MatMul, equals x·Ŵᵀ + b (Ŵ: quikQuantize's whole-layer weight) against a float64 reference, for
// every way a float weight reaches the product; the inserted activation fake quantization equals
// fakeQuantizeActivations (itself checked against QUIK's ActQuantizer in quik.test.ts) bit for bit;
// the file is smaller than the float one.
import { describe, expect, test } from 'vitest';
import { analyzeModel } from '../../model/analyze.ts';
import type { LinearLayer } from '../../model/types.ts';
import { writeModel, type ModelProto } from '../../onnx/index.ts';
import { expectClose } from '../../testing/expectClose.ts';
import { createRunner } from '../../../runtime/ort.ts';
import { seededUniform } from '../../testing/random.ts';
import { fakeQuantizeActivations, quikQuantize, type QuikResult } from '../quik.ts';
import type { Matrix } from '../types.ts';
import { writeQuik } from './quik.ts';
import { oneLayerModel, seededInput, seededWeight, type OneLayerForm } from './testing/exportFixtures.ts';

/**
 * ORT's float32 sums over K = 256 products against float64, |y| up to ≈ 4: the largest error
 * measured over these cases was 1.3e-6, so 2e-5 absolute leaves 15×.
 */
const TOLERANCE = { atol: 2e-5, rtol: 1e-5 };

const [OUT, IN, TOKENS] = [64, 256, 6];
const OUTLIERS = [7, 40, 41, 100, 200, 255];
const weight = seededWeight(OUT, IN, 3);
const bias = Float32Array.from({ length: OUT }, (_, i) => (i % 7) * 0.05 - 0.15);

/** H = 2/n · X Xᵀ and max_t |x_tj| of seeded calibration tokens with a few outlier channels (×10). */
function calibration(): { hessian: Float64Array; actScale: Float32Array } {
  const n = 512;
  const uniform = seededUniform(9);
  const x = Float64Array.from({ length: n * IN }, (_, i) => (uniform() * 2 - 1) * (OUTLIERS.includes(i % IN) ? 10 : 1));
  const hessian = new Float64Array(IN * IN);
  const actScale = new Float32Array(IN);
  for (let t = 0; t < n; t++) {
    for (let i = 0; i < IN; i++) {
      const xi = x[t * IN + i];
      actScale[i] = Math.max(actScale[i], Math.abs(xi));
      for (let j = 0; j < IN; j++) hessian[i * IN + j] += (2 / n) * xi * x[t * IN + j];
    }
  }
  return { hessian, actScale };
}
const { hessian, actScale } = calibration();

const results = {
  'row, k 8': quikQuantize(weight, hessian, actScale, { grid: { bits: 4, symmetric: false }, granularity: { kind: 'row' }, outlierColumns: 8 }),
  'groups of 32, k 32': quikQuantize(weight, hessian, actScale, { grid: { bits: 4, symmetric: false }, granularity: { kind: 'group', size: 32 }, outlierColumns: 32 }),
};

function onlyLinear(model: ModelProto): LinearLayer {
  const { linears } = analyzeModel(model);
  expect(linears).toHaveLength(1);
  return linears[0];
}

async function run(model: ModelProto, x: Float32Array, dims: number[], extraOutput?: string): Promise<Record<string, Float32Array>> {
  if (extraOutput) model = { ...model, graph: { ...model.graph!, output: [...model.graph!.output!, { name: extraOutput }] } };
  const { runner } = await createRunner(writeModel(model), { backend: 'wasm', numThreads: 1 });
  try {
    const out = await runner.run({ x: { dtype: 'float32', dims, data: x } });
    return Object.fromEntries(Object.entries(out).map(([name, t]) => [name, t.data as Float32Array]));
  } finally {
    await runner.release();
  }
}

/** y = x_a · Ŵᵀ + b in float64, x_a the activations after the (optional) fake quantization. */
function reference(x: Matrix, result: QuikResult, activationBits: number): Float64Array {
  const xa = activationBits > 0 ? fakeQuantizeActivations(x, result.quantizedColumns, activationBits) : x;
  const w = result.weight.data;
  const y = new Float64Array(x.rows * OUT);
  for (let t = 0; t < x.rows; t++) {
    for (let r = 0; r < OUT; r++) {
      let sum = bias[r];
      for (let c = 0; c < IN; c++) sum += xa.data[t * IN + c] * w[r * IN + c];
      y[t * OUT + r] = sum;
    }
  }
  return y;
}

function write(form: OneLayerForm, result: QuikResult, packed: boolean, activationBits: number) {
  const source = oneLayerModel(weight, bias, form);
  const { quantized, quantizedColumns, outlierColumns, outlierWeight } = result;
  const written = writeQuik(source, [{ layer: onlyLinear(source), quantized, quantizedColumns, outlierColumns, outlierWeight, packed, activationBits }]);
  return { source, ...written };
}

describe('QUIK split form on onnxruntime-web', () => {
  test.each(Object.keys(results))('%s: the outlier columns are the largest activations', (name) => {
    const result = results[name as keyof typeof results];
    expect(OUTLIERS.every((c) => result.outlierColumns.includes(c))).toBe(true);
  });

  const forms: OneLayerForm[] = ['matmul', 'matmul-transposed', 'gemm-transB', 'gemm-2d-bias'];
  test.each(Object.keys(results).flatMap((name) => forms.map((form) => [name, form] as const)))('%s, %s: ORT output equals x·Ŵᵀ + b, the float weight goes, the file is smaller', async (name, form) => {
    const result = results[name as keyof typeof results];
    const { source, model, notes } = write(form, result, true, 0);
    const ops = model.graph!.node!.map((n) => n.opType);
    expect(ops.filter((op) => op === 'Gather')).toHaveLength(2);
    expect(ops).toContain('MatMulNBits');
    expect(ops).not.toContain('Gemm');
    expect(ops).not.toContain('Transpose');
    expect(model.graph!.initializer!.map((t) => t.name)).not.toContain('W');
    expect(notes[0]).toMatch(/QUIK \d+ columns as MatMulNBits 4-bit/);
    const gemm = form.startsWith('gemm');
    const x = seededInput(TOKENS, IN, 11);
    const out = await run(model, x, gemm ? [TOKENS, IN] : [2, 3, IN]);
    const report = expectClose(out.y, reference({ rows: TOKENS, cols: IN, data: x }, result, 0), TOLERANCE, `${name} ${form}`);
    expect(report.maxAbsError).toBeLessThan(TOLERANCE.atol);
    expect(writeModel(model).length).toBeLessThan(writeModel(source).length * 0.35);
  });

  describe.each([8, 4])('activations at %i bits (simulated)', (bits) => {
    const result = results['row, k 8'];
    test.each([true, false])('packed %s: the fake-quantize ops equal fakeQuantizeActivations bit for bit, and the output x_a·Ŵᵀ + b', async (packed) => {
      const { model, notes } = write('matmul', result, packed, bits);
      expect(notes[0]).toMatch(new RegExp(`activations fake-quantized to ${bits} bits per token \\(simulated\\)`));
      expect(model.graph!.node!.some((n) => n.opType === 'MatMulNBits')).toBe(packed);
      const fq = model.graph!.node!.find((n) => n.output?.[0]?.endsWith('.fq'))!.output![0];
      const x = seededInput(TOKENS, IN, 13);
      // Hostile tokens: all zero (range [−1, 1]) and all positive (xmin = 0), and a huge one.
      x.fill(0, 0, IN);
      for (let c = IN; c < 2 * IN; c++) x[c] = Math.abs(x[c]);
      for (let c = 2 * IN; c < 3 * IN; c++) x[c] *= 1e4;
      const out = await run(model, x, [2, 3, IN], fq);
      const xm: Matrix = { rows: TOKENS, cols: IN, data: x };
      const ours = fakeQuantizeActivations(xm, result.quantizedColumns, bits);
      const gathered = Float32Array.from({ length: TOKENS * result.quantizedColumns.length }, (_, i) => ours.data[Math.floor(i / result.quantizedColumns.length) * IN + result.quantizedColumns[i % result.quantizedColumns.length]]);
      expectClose(out[fq], gathered, { atol: 0, rtol: 0 }, `A${bits} fake quantization`);
      // The activation quantization changed the inputs (the test is not of an identity).
      expect(gathered.some((v, i) => v !== x[Math.floor(i / result.quantizedColumns.length) * IN + result.quantizedColumns[i % result.quantizedColumns.length]])).toBe(true);
      // Token 2 is scaled by 1e4: float32 sums of products up to ~1e3 there, measured 8.5e-3
      // absolute (|y| up to 3.3e4), so it is held to 0.05; the others to TOLERANCE.
      const ref = reference(xm, result, bits);
      const token = (a: ArrayLike<number>, t: number) => Array.from(a).slice(t * OUT, (t + 1) * OUT);
      for (let t = 0; t < TOKENS; t++) expectClose(token(out.y, t), token(ref, t), t === 2 ? { atol: 0.05, rtol: 0 } : TOLERANCE, `A${bits} output, token ${t}`);
    });
  });
});
