// The exports on the graph shapes the bundled models do not have, in onnxruntime-web against the
// math in JS: a Gemm with transB = 1 (W stored [C_out, C_in], bias C), a MatMul with the weight
// as A (y = W x), and a 10 × 7 layer whose 70 sign bits leave a partial byte (the Slice path).
import { describe, expect, it } from 'vitest';
import { openRunner } from '../calibrate/fixtures/models.ts';
import { analyzeModel } from '../model/analyze.ts';
import { model, node, tensorValue } from '../model/testGraphs.ts';
import { makeFloatTensor } from '../onnx/tensor.ts';
import { DataType, type ModelProto } from '../onnx/types.ts';
import { writeModel } from '../onnx/write.ts';
import { expectClose } from '../testing/expectClose.ts';
import { seededUniform } from '../testing/random.ts';
import { decomposeBitStack, reconstructBitStack } from './bitstack.ts';
import { writePackedBitStack } from './bitstackGraph.ts';
import { factorProduct, layerSpectrum, lowRankFactors } from './factorize.ts';
import { factoriseLayers } from './graph.ts';

const C_OUT = 10;
const C_IN = 7;
const TOKENS = 3;
const next = seededUniform(11);
const w = Float32Array.from({ length: C_OUT * C_IN }, () => next() - 0.5); // W, row-major (C_out × C_in)
const bias = Float32Array.from({ length: C_OUT }, () => next() - 0.5);
const x = Float32Array.from({ length: TOKENS * C_IN }, () => next() * 2 - 1);

const transpose = (a: ArrayLike<number>, rows: number, cols: number) => Float32Array.from({ length: rows * cols }, (_, e) => a[(e % rows) * cols + Math.floor(e / rows)]);

/** Gemm(x [T, C_in], W [C_out, C_in], bias, transB = 1). */
const gemmModel = (): ModelProto =>
  model({
    nodes: [node('Gemm', ['x', 'fc.weight', 'fc.bias'], ['y'], { name: '/fc/Gemm', attrs: { transB: 1 } })],
    initializers: [makeFloatTensor('fc.weight', [C_OUT, C_IN], w), makeFloatTensor('fc.bias', [C_OUT], bias)],
    inputs: [tensorValue('x', DataType.FLOAT, [TOKENS, C_IN])],
    outputs: [tensorValue('y', DataType.FLOAT, [TOKENS, C_OUT])],
  });

/** MatMul(W [C_out, C_in], x [C_in, T]). */
const weightFirstModel = (): ModelProto =>
  model({
    nodes: [node('MatMul', ['fc.weight', 'x'], ['y'], { name: '/fc/MatMul' })],
    initializers: [makeFloatTensor('fc.weight', [C_OUT, C_IN], w)],
    inputs: [tensorValue('x', DataType.FLOAT, [C_IN, TOKENS])],
    outputs: [tensorValue('y', DataType.FLOAT, [C_OUT, TOKENS])],
  });

async function run(m: ModelProto, input: Float32Array, dims: number[]): Promise<Float32Array> {
  const runner = await openRunner(writeModel(m));
  try {
    return (await runner.run({ x: { dtype: 'float32', dims, data: input } })).y.data as Float32Array;
  } finally {
    await runner.release();
  }
}

/** x Ŵᵀ (+ bias) in float64 for tokens as rows. */
function expected(weight: ArrayLike<number>, withBias: boolean): Float64Array {
  const out = new Float64Array(TOKENS * C_OUT);
  for (let t = 0; t < TOKENS; t++) for (let o = 0; o < C_OUT; o++) {
    let sum = withBias ? bias[o] : 0;
    for (let i = 0; i < C_IN; i++) sum += x[t * C_IN + i] * weight[o * C_IN + i];
    out[t * C_OUT + o] = sum;
  }
  return out;
}

const tolerance = { atol: 1e-5, rtol: 1e-5 };

describe('factorised exports on other layouts', () => {
  const factors = lowRankFactors(layerSpectrum(w, C_OUT, C_IN, { kind: 'identity' }), 3);
  const product = factorProduct(factors, C_OUT, C_IN);

  it('Gemm transB = 1: ORT output equals x (L R)ᵀ + bias', async () => {
    const dense = gemmModel();
    const [layer] = analyzeModel(dense).linears;
    expect(layer.layout).toBe('out_in');
    const out = await run(factoriseLayers(dense, [{ layer, factors }]), x, [TOKENS, C_IN]);
    expectClose(out, expected(product, true), tolerance, 'Gemm factorised');
  });

  it('MatMul with the weight as A: ORT output equals (L R) x', async () => {
    const dense = weightFirstModel();
    const [layer] = analyzeModel(dense).linears;
    expect(layer.weightOperand).toBe('A');
    const out = await run(factoriseLayers(dense, [{ layer, factors }]), transpose(x, TOKENS, C_IN), [C_IN, TOKENS]);
    expectClose(transpose(out, C_OUT, TOKENS), expected(product, false), tolerance, 'W·x factorised');
  });
});

describe('packed BitStack on a layer whose sign bits end in a partial byte', () => {
  it.each([1, 2])('Gemm transB = 1, 70 signs, k = %i: ORT output equals x Ŵᵀ + bias', async (k) => {
    const dense = gemmModel();
    const [layer] = analyzeModel(dense).linears;
    const blocks = decomposeBitStack(w, C_OUT, C_IN, 3, k);
    const out = await run(writePackedBitStack(dense, [{ layer, blocks, k }]), x, [TOKENS, C_IN]);
    expectClose(out, expected(reconstructBitStack(blocks, 3, C_OUT, C_IN, k), true), tolerance, 'BitStack Gemm');
  });
});
