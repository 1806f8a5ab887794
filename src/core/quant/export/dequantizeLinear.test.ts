// Blocked DequantizeLinear (opset 21) written by the lab runs in onnxruntime-web (wasm) and
// computes x·Ŵᵀ + b: int4/uint4 and int8/uint8, any block size (24 too, which MatMulNBits
// refuses), each way a float weight reaches the product. Raising a model to opset 21 rewrites
// what changed meaning on the way, so its other outputs stay bit for bit.
import { describe, expect, test } from 'vitest';
import { analyzeModel } from '../../model/analyze.ts';
import { floatInit, int64Init, model, node, tensorValue } from '../../model/testGraphs.ts';
import { setTensorFloat32 } from '../../onnx/tensor.ts';
import { DataType, writeModel, type ModelProto } from '../../onnx/index.ts';
import { expectClose } from '../../testing/expectClose.ts';
import { createRunner } from '../../../runtime/ort.ts';
import { writeDequantizeLinear } from './dequantizeLinear.ts';
import { raiseOpset } from './opset.ts';
import { oneLayerModel, referenceProduct, seededInput, seededWeight, tinyRtn, type OneLayerForm } from './testing/exportFixtures.ts';

/** As for MatMulNBits (matMulNBits.test.ts): |y| ≈ 3, float32 against float64, measured ≤ 2e-6. */
const TOLERANCE = { atol: 2e-5, rtol: 1e-5 };

async function run(bytes: Uint8Array, feeds: Record<string, Float32Array>, dims: number[]): Promise<Record<string, Float32Array>> {
  const { runner } = await createRunner(bytes, { backend: 'wasm', numThreads: 1 });
  try {
    const inputs = Object.fromEntries(Object.entries(feeds).map(([name, data]) => [name, { dtype: 'float32' as const, dims, data }]));
    const out = await runner.run(inputs);
    return Object.fromEntries(Object.entries(out).map(([name, t]) => [name, t.data as Float32Array]));
  } finally {
    await runner.release();
  }
}

const [OUT, IN] = [48, 96];
const weight = seededWeight(OUT, IN, 9);
const bias = Float32Array.from({ length: OUT }, (_, i) => (i % 3) * 0.05);

function exported(form: OneLayerForm, bits: number, group: number | null, symmetric: boolean): { source: ModelProto; model: ModelProto; q: ReturnType<typeof tinyRtn> } {
  const source = oneLayerModel(weight, bias, form);
  const q = tinyRtn(weight, bits, group, symmetric);
  const { model } = writeDequantizeLinear(source, [{ layer: analyzeModel(source).linears[0], weight: q }]);
  return { source, model, q };
}

describe('blocked DequantizeLinear on onnxruntime-web', () => {
  const cases = [4, 8].flatMap((bits) => [16, 24, 32, null].flatMap((group) => [true, false].map((sym) => [bits, group ?? 'per row', sym ? 'int' : 'uint', group, sym] as const)));
  test.each(cases)('%i bits, group %s, %s: ORT output equals x·Ŵᵀ + b', async (bits, _, dtype, group, symmetric) => {
    const { model, q } = exported('matmul', bits, group, symmetric);
    const x = seededInput(6, IN, 21);
    const { y } = await run(writeModel(model), { x }, [2, 3, IN]);
    expectClose(y, referenceProduct(x, q, bias), TOLERANCE, `${dtype}${bits} group ${group}`);
    const dq = model.graph!.node![0];
    expect(dq.opType).toBe('DequantizeLinear');
    expect(model.graph!.initializer!.map((t) => t.name)).not.toContain('W');
    expect(model.opsetImport).toEqual([{ domain: '', version: 21 }]);
    expect(model.irVersion).toBe(10);
    const stored = analyzeModel(model).linears[0];
    expect(stored).toMatchObject({ weightPath: ['DequantizeLinear'], weightDtype: `${dtype}${bits}`, outFeatures: OUT, inFeatures: IN });
  });

  test.each(['matmul-transposed', 'gemm-transB', 'gemm-2d-bias'] as const)('%s: the dequantized weight takes the float one’s place', async (form) => {
    const { model, q } = exported(form, 4, 32, false);
    const gemm = form.startsWith('gemm');
    const x = seededInput(6, IN, 22);
    const { y } = await run(writeModel(model), { x }, gemm ? [6, IN] : [2, 3, IN]);
    expectClose(y, referenceProduct(x, q, bias), TOLERANCE, form);
    // W was stored [C_out, C_in] in these forms but the 2-D-bias Gemm: blocks then run along axis 1.
    const axis = model.graph!.node![0].attribute!.find((a) => a.name === 'axis')!.i;
    expect(axis).toBe(form === 'gemm-2d-bias' ? 0 : 1);
  });

  test('the source model is not changed', () => {
    const { source } = exported('matmul-transposed', 8, 16, true);
    expect(source.graph!.node!.map((n) => [n.opType, n.input])).toEqual([['Transpose', ['W']], ['MatMul', ['x', 'Wt']], ['Add', ['b', 'xw']]]);
    expect(source.opsetImport).toEqual([{ domain: '', version: 17 }]);
  });

  test('2 bits and act-order groups are refused, naming the layer', () => {
    const source = oneLayerModel(weight, bias, 'matmul');
    const layer = analyzeModel(source).linears[0];
    expect(() => writeDequantizeLinear(source, [{ layer, weight: tinyRtn(weight, 2, 32, true) }])).toThrow(/^fc: 2-bit codes.*opset 25/);
    const groupIndex = Int32Array.from({ length: IN }, (_, c) => c % 3);
    expect(() => writeDequantizeLinear(source, [{ layer, weight: tinyRtn(weight, 4, 32, true, groupIndex) }])).toThrow(/g_idx/);
  });
});

describe('raising the opset to 21', () => {
  function filled(name: string, dims: number[], values: number[]) {
    const t = floatInit(name, dims);
    setTensorFloat32(t, Float32Array.from(values));
    return t;
  }

  test('ReduceMean axes move to an input, Split gets num_outputs: outputs equal bit for bit', async () => {
    const source = model({
      nodes: [
        node('ReduceMean', ['x'], ['mean'], { name: 'mean', attrs: { axes: [-1], keepdims: 1 } }),
        node('Sub', ['x', 'mean'], ['centred']),
        node('Split', ['centred'], ['left', 'right'], { name: 'split', attrs: { axis: -1 } }),
        node('Mul', ['left', 'right'], ['prod']),
        node('Add', ['prod', 'offset'], ['y']),
      ],
      initializers: [filled('offset', [1], [0.25])],
      inputs: [tensorValue('x', DataType.FLOAT, [2, 8])],
      outputs: [tensorValue('y', DataType.FLOAT, [2, 4])],
    });
    const { model: raised, notes } = raiseOpset(source, 21);
    expect(notes).toEqual(["default opset raised 17 → 21", "ReduceMean 'mean': axes moved from attribute to input (opset 18)"]);
    expect(raised.graph!.node![0].input).toEqual(['x', 'mean_axes']);
    expect(raised.graph!.node![2].attribute).toContainEqual({ name: 'num_outputs', type: 2, i: 2 });
    const x = seededInput(2, 8, 3);
    const before = await run(writeModel(source), { x }, [2, 8]);
    const after = await run(writeModel(raised), { x }, [2, 8]);
    expectClose(after.y, before.y, { atol: 0, rtol: 0 }, 'opset 17 vs raised');
  });

  test('ops whose meaning changed are refused; so are models older than opset 13', () => {
    const groupNorm = model({
      nodes: [node('GroupNormalization', ['x', 's', 'b'], ['y'], { name: 'gn', attrs: { num_groups: 2 } })],
      initializers: [floatInit('s', [2]), floatInit('b', [2])],
    });
    expect(() => raiseOpset(groupNorm, 21)).toThrow(/GroupNormalization 'gn' \(changed at opset 21\)/);
    const old = model({ nodes: [node('Identity', ['x'], ['y'])], opset: 11 });
    expect(() => raiseOpset(old, 21)).toThrow(/opset 11/);
    expect(raiseOpset(model({ nodes: [], initializers: [int64Init('k', [1])], opset: 21 }), 21).notes).toEqual([]);
  });
});
