// MatMulNBits written by the lab runs in onnxruntime-web (wasm) and computes x·Ŵᵀ + b, Ŵ the
// dequantized weight, against a float64 reference: every width ORT runs (2, 4, 8 bits), both
// grids, group sizes 16…128 and per row, each way a float weight can reach the product. The
// analysis reads the written model back as quantized linear layers.
import { describe, expect, test } from 'vitest';
import { analyzeModel } from '../../model/analyze.ts';
import type { LinearLayer } from '../../model/types.ts';
import { writeModel, type ModelProto } from '../../onnx/index.ts';
import { expectClose } from '../../testing/expectClose.ts';
import { createRunner } from '../../../runtime/ort.ts';
import type { QuantizedWeight } from '../types.ts';
import { writeMatMulNBits } from './matMulNBits.ts';
import { packMatMulNBits, QuantExportError } from './pack.ts';
import { oneLayerModel, referenceProduct, seededInput, seededWeight, tinyRtn, type OneLayerForm } from './testing/exportFixtures.ts';

/**
 * ORT's float32 accumulation over K = 128 products against float64. Outputs here reach |y| ≈ 3;
 * the largest error measured over all cases was 1.8e-6 (8 bits, group 64), so 2e-5 absolute
 * leaves a margin of 10×.
 */
const TOLERANCE = { atol: 2e-5, rtol: 1e-5 };

async function run(model: ModelProto, x: Float32Array, dims: number[]): Promise<Float32Array> {
  const { runner } = await createRunner(writeModel(model), { backend: 'wasm', numThreads: 1 });
  try {
    const out = await runner.run({ x: { dtype: 'float32', dims, data: x } });
    return out.y.data as Float32Array;
  } finally {
    await runner.release();
  }
}

function onlyLinear(model: ModelProto): LinearLayer {
  const { linears } = analyzeModel(model);
  expect(linears).toHaveLength(1);
  return linears[0];
}

const [OUT, IN] = [48, 128];
const weight = seededWeight(OUT, IN, 7);
const bias = Float32Array.from({ length: OUT }, (_, i) => (i % 5) * 0.1 - 0.2);

async function checkLayer(form: OneLayerForm, q: QuantizedWeight, label: string) {
  const source = oneLayerModel({ rows: q.rows, cols: q.cols, data: weight.data.subarray(0, q.rows * q.cols) }, bias.subarray(0, q.rows), form);
  const { model } = writeMatMulNBits(source, [{ layer: onlyLinear(source), weight: q }]);
  const gemm = form.startsWith('gemm');
  const x = seededInput(6, q.cols, 11);
  const y = await run(model, x, gemm ? [6, q.cols] : [2, 3, q.cols]);
  return { model, report: expectClose(y, referenceProduct(x, q, bias.subarray(0, q.rows)), TOLERANCE, label) };
}

describe('MatMulNBits on onnxruntime-web', () => {
  const groups: (number | null)[] = [16, 32, 64, 128, null];
  describe.each([2, 4, 8])('%i bits', (bits) => {
    test.each(groups.flatMap((g) => [true, false].map((sym) => [g ?? 'per row', sym ? 'symmetric' : 'asymmetric', g, sym] as const)))(
      'group %s, %s: ORT output equals x·Ŵᵀ + b',
      async (_, __, group, symmetric) => {
        const q = tinyRtn(weight, bits, group, symmetric);
        const { model, report } = await checkLayer('matmul', q, `${bits}-bit group ${group}`);
        expect(report.maxAbsError).toBeLessThan(TOLERANCE.atol);
        const nodes = model.graph!.node!;
        expect(nodes.map((n) => n.opType)).toEqual(['MatMulNBits', 'Add']);
        expect(model.graph!.initializer!.map((t) => t.name)).not.toContain('W');
        expect(model.opsetImport).toContainEqual({ domain: 'com.microsoft', version: 1 });
      },
    );
  });

  test.each(['matmul-transposed', 'gemm-transB', 'gemm-2d-bias'] as const)('%s: the product and its bias are kept, dead weight paths go', async (form) => {
    const { model } = await checkLayer(form, tinyRtn(weight, 4, 32, false), form);
    const ops = model.graph!.node!.map((n) => n.opType);
    expect(ops).not.toContain('Transpose');
    expect(ops).not.toContain('Gemm');
    // A [C_out] Gemm bias becomes MatMulNBits' bias input (input 5); a [1, C_out] one an Add.
    const nBits = model.graph!.node!.find((n) => n.opType === 'MatMulNBits')!;
    expect(nBits.input?.[5] === 'b').toBe(form === 'gemm-transB');
    expect(ops.includes('Add')).toBe(form !== 'gemm-transB');
    // Either way the analysis finds the bias and the layer's output.
    expect(onlyLinear(model)).toMatchObject({ opType: 'MatMulNBits', name: 'fc', bias: 'b', output: 'y', inFeatures: IN, outFeatures: OUT });
  });

  test('C_in not a multiple of the group: the last block is padded, outputs unchanged', async () => {
    const narrow = seededWeight(OUT, 40, 3);
    const q = tinyRtn(narrow, 4, 16, false);
    const source = oneLayerModel(narrow, bias, 'matmul');
    const { model } = writeMatMulNBits(source, [{ layer: onlyLinear(source), weight: q }]);
    const x = seededInput(6, 40, 5);
    expectClose(await run(model, x, [2, 3, 40]), referenceProduct(x, q, bias), TOLERANCE, 'K = 40, block 16');
    expect(packMatMulNBits(q).blocks).toBe(3);
  });

  test('per-row weights of a C_in that is no power of two take one padded block of the next power of two', async () => {
    const narrow = seededWeight(OUT, 40, 4);
    const q = tinyRtn(narrow, 8, null, true);
    expect(packMatMulNBits(q)).toMatchObject({ blockSize: 64, blocks: 1, blobSize: 64 });
    const source = oneLayerModel(narrow, bias, 'matmul');
    const { model } = writeMatMulNBits(source, [{ layer: onlyLinear(source), weight: q }]);
    const x = seededInput(6, 40, 6);
    expectClose(await run(model, x, [2, 3, 40]), referenceProduct(x, q, bias), TOLERANCE, 'per row, K = 40');
  });

  test.each([4, 8])('%i bits per row with C_in = 512 > 256: blocks of 256 repeat the row\'s scale, outputs unchanged', async (bits) => {
    // onnxruntime refuses block_size 512 (its kernel takes 16…256).
    const wide = seededWeight(OUT, 512, 9);
    const q = tinyRtn(wide, bits, null, false);
    const packed = packMatMulNBits(q);
    expect(packed).toMatchObject({ blockSize: 256, blocks: 2 });
    for (let row = 0; row < OUT; row++) expect([packed.scales[2 * row], packed.scales[2 * row + 1]]).toEqual([q.scales[row], q.scales[row]]);
    const source = oneLayerModel(wide, bias, 'matmul');
    const { model } = writeMatMulNBits(source, [{ layer: onlyLinear(source), weight: q }]);
    const x = seededInput(6, 512, 8);
    expectClose(await run(model, x, [2, 3, 512]), referenceProduct(x, q, bias), TOLERANCE, `per row, K = 512, ${bits} bits`);
  });

  describe('act-order groups (g_idx)', () => {
    // GPTQ's act-order visits columns by decreasing Hessian diagonal; any permutation will do.
    const permutation = Array.from({ length: IN }, (_, i) => (i * 37) % IN);
    const groupIndex = Int32Array.from({ length: IN }, (_, c) => Math.floor(permutation[c] / 32));

    test.each([true, false])('4 bits, symmetric=%s: ORT output equals x·Ŵᵀ + b', async (symmetric) => {
      const q = tinyRtn(weight, 4, 32, symmetric, groupIndex);
      const { model } = await checkLayer('matmul', q, `g_idx symmetric=${symmetric}`);
      const zeroPoints = model.graph!.initializer!.find((t) => t.name === 'W_zero_points');
      // Packed uint8 zero points are ignored on ORT 1.30's g_idx path: float ones are written.
      expect(zeroPoints?.dataType).toBe(symmetric ? undefined : 1);
    });

    test.each([2, 8])('%i bits is refused with the reason', (bits) => {
      const q = tinyRtn(weight, bits, 32, false, groupIndex);
      expect(() => packMatMulNBits(q)).toThrow(/g_idx.*4 bits only/);
    });
  });

  test('what MatMulNBits cannot hold is refused, naming the layer and the reason', () => {
    const source = oneLayerModel(weight, bias, 'matmul');
    const layer = onlyLinear(source);
    const write = (q: QuantizedWeight) => () => writeMatMulNBits(source, [{ layer, weight: q }]);
    expect(write(tinyRtn(weight, 3, 32, true))).toThrow(QuantExportError);
    expect(write(tinyRtn(weight, 3, 32, true))).toThrow(/^fc: 3-bit codes: onnxruntime's MatMulNBits kernel runs 2, 4 and 8 bits only/);
    expect(write(tinyRtn(weight, 4, 24, true))).toThrow(/group size 24 is not a power of two/);
    expect(write(tinyRtn(weight, 4, 8, true))).toThrow(/group size 8 is not a power of two ≥ 16/);
    expect(write(tinyRtn(seededWeight(IN, OUT, 1), 4, 16, true))).toThrow(/is 128 x 48, the layer's W is C_out x C_in = 48 x 128/);
  });

  test('a weight the embedding also reads (tied head) stays for the Gather; the head is packed', async () => {
    const source = oneLayerModel(weight, bias, 'matmul-transposed');
    source.graph!.node!.push({ opType: 'Gather', name: 'embed', input: ['W', 'ids'], output: ['embedded'] });
    const layer = onlyLinear(source);
    expect(layer.sharedWith).toEqual(['embed']);
    const { model, notes } = writeMatMulNBits(source, [{ layer, weight: tinyRtn(weight, 4, 32, true) }]);
    expect(model.graph!.initializer!.map((t) => t.name)).toContain('W');
    expect(notes.at(-1)).toMatch(/'W' stays: other nodes still read it/);
    expect(source.graph!.node!.map((n) => n.opType)).toEqual(['Transpose', 'MatMul', 'Add', 'Gather']);
  });
});

// What the writer works around, kept as tests so that an onnxruntime upgrade that changes any of
// it fails here first (docs/quantized-export.md).
describe('onnxruntime-web 1.30 findings', () => {
  const permutation = Array.from({ length: IN }, (_, i) => (i * 37) % IN);
  const groupIndex = Int32Array.from({ length: IN }, (_, c) => Math.floor(permutation[c] / 32));
  const x = seededInput(6, IN, 12);

  function written(q: QuantizedWeight): ModelProto {
    const source = oneLayerModel(weight, bias, 'matmul');
    return writeMatMulNBits(source, [{ layer: onlyLinear(source), weight: q }]).model;
  }

  test('g_idx with packed uint8 zero points computes wrongly (the zero points are ignored)', async () => {
    const q = tinyRtn(weight, 4, 32, false, groupIndex);
    const model = written(q);
    const packed = packMatMulNBits({ ...q, groupIndex: undefined }).zeroPoints as { data: Uint8Array; rowBytes: number };
    const initializers = model.graph!.initializer!;
    const at = initializers.findIndex((t) => t.name === 'W_zero_points');
    initializers[at] = { name: 'W_zero_points', dims: [OUT, packed.rowBytes], dataType: 2, rawData: packed.data };
    const y = await run(model, x, [2, 3, IN]);
    expect(() => expectClose(y, referenceProduct(x, q, bias), { atol: 1e-2, rtol: 0 })).toThrow(/differ/);
  });

  test('3 bits is refused when the session is made; g_idx at 8 bits when it runs', async () => {
    const model3 = written(tinyRtn(weight, 4, 32, true));
    model3.graph!.node![0].attribute!.find((a) => a.name === 'bits')!.i = 3;
    await expect(run(model3, x, [2, 3, IN])).rejects.toThrow(/Only 2b, 4b/);
    const model8 = written(tinyRtn(weight, 8, 32, true));
    model8.graph!.initializer!.push({ name: 'g', dims: [IN], dataType: 6, int32Data: groupIndex });
    model8.graph!.node![0].input = ['x', 'W_Q8', 'W_scales', '', 'g'];
    await expect(run(model8, x, [2, 3, IN])).rejects.toThrow(/nbits_ == 2 \|\| nbits_ == 4/);
  });
});

describe('the analysis reads MatMulNBits back as a quantized linear layer', () => {
  test('opType, W shape, packing, bias and compression state', () => {
    const source = oneLayerModel(weight, bias, 'matmul');
    const { model } = writeMatMulNBits(source, [{ layer: onlyLinear(source), weight: tinyRtn(weight, 4, 32, false) }]);
    const analysis = analyzeModel(model);
    expect(analysis.linears).toHaveLength(1);
    expect(analysis.linears[0]).toMatchObject({
      opType: 'MatMulNBits',
      name: 'fc',
      weight: 'W_Q4',
      weightDims: [OUT, IN / 32, 16],
      weightDtype: 'uint8',
      layout: 'out_in',
      inFeatures: IN,
      outFeatures: OUT,
      bias: 'b',
      output: 'y',
      params: OUT * IN + OUT,
      nBits: { bits: 4, blockSize: 32, scales: 'W_scales', zeroPoints: 'W_zero_points', groupIndex: null },
    });
    expect(analysis.unsupported).toEqual([]);
    expect(analysis.compression.packedLayers).toBe(1);
    expect(analysis.compression.layers).toHaveLength(1);
    expect(analysis.compression.layers[0]).toMatchObject({ id: 'W_Q4', name: 'fc', packed: { via: 'MatMulNBits', dtype: 'uint4', bits: 4 }, elements: OUT * IN });
    // Row 0 of the weight is all zero: 128 of its codes equal their zero points.
    expect(analysis.compression.layers[0].zeros).toBeGreaterThanOrEqual(IN);
  });
});
