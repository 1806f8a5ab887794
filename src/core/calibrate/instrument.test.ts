// Instrumentation against the model's own arithmetic: running the instrumented model, the tapped
// input of a linear layer times its weight (read back through the layout the pipeline uses) plus
// its bias equals the tapped output. Covers MatMul + Add with an [in, out] weight (digits ViT),
// Gemm transB=1 on a 2-D input (its head), Gemm transB=0 on reshaped 2-D tokens (GPT-2 Conv1D)
// and MatMul(x, Transpose(W)) (Llama without constant folding).
import { describe, expect, test } from 'vitest';
import { weightFromStored } from '../compress/weights.ts';
import type { HostTensor } from '../eval/runner.ts';
import type { LinearLayer } from '../model/types.ts';
import { initializerMap, tensorToFloat32 } from '../onnx/index.ts';
import { writeModel } from '../onnx/write.ts';
import type { ModelProto } from '../onnx/types.ts';
import { expectClose } from '../testing/expectClose.ts';
import { calibrationFeeds } from './feeds.ts';
import { bundledModel, fixtureModel, openRunner, randomTokens } from './fixtures/models.ts';
import { instrumentModel, InstrumentError, tappedTensorNames } from './instrument.ts';
import { calibrationTarget } from './targets.ts';
import { toTokenRows } from './tokens.ts';

/** y = W x + b per token, float64, from the stored initializers. */
function linearReference(model: ModelProto, layer: LinearLayer, x: Float32Array, tokens: number): Float64Array {
  const inits = initializerMap(model.graph!);
  const weight = weightFromStored(layer, tensorToFloat32(inits.get(layer.weight)!));
  const bias = layer.biasInitializer ? tensorToFloat32(inits.get(layer.biasInitializer)!) : undefined;
  const { rows, cols, data } = weight;
  const y = new Float64Array(tokens * rows);
  for (let t = 0; t < tokens; t++) {
    for (let r = 0; r < rows; r++) {
      let sum = bias ? bias[r] : 0;
      for (let c = 0; c < cols; c++) sum += data[r * cols + c] * x[t * cols + c];
      y[t * rows + r] = sum;
    }
  }
  return y;
}

async function runTapped(model: ModelProto, layers: LinearLayer[], feeds: Record<string, HostTensor>) {
  const runner = await openRunner(writeModel(instrumentModel(model, { linearInputs: layers, linearOutputs: layers })));
  try {
    return await runner.run(feeds);
  } finally {
    await runner.release();
  }
}

async function expectTapsConsistent(model: ModelProto, layers: LinearLayer[], feeds: Record<string, HostTensor>) {
  const outputs = await runTapped(model, layers, feeds);
  for (const layer of layers) {
    const target = calibrationTarget(model, layer);
    const x = toTokenRows(outputs[target.inputs[0].tensor], target.inputs[0].channelAxis, layer.inFeatures, layer.name);
    const y = toTokenRows(outputs[target.outputs[0].tensor], target.outputs[0].channelAxis, layer.outFeatures, layer.name);
    expect(x.tokens).toBeGreaterThan(0);
    expectClose(y.data, linearReference(model, layer, x.data, x.tokens), { atol: 1e-4, rtol: 1e-4 }, `${layer.name} (${layer.opType}, ${layer.layout})`);
  }
}

describe('instrumented models return taps consistent with W x + b', () => {
  test('digits ViT: MatMul + bias ([in, out]) and the Gemm transB=1 head on 2-D input', async () => {
    const vit = bundledModel('digits-vit');
    const layers = vit.analysis.linears.filter((l) => l.name === 'blocks.0.attn.q_proj' || l.name === 'blocks.3.mlp.fc2' || l.role === 'head');
    expect(layers.map((l) => l.layout)).toEqual(['in_out', 'in_out', 'out_in']);
    await expectTapsConsistent(vit.model, layers, calibrationFeeds(vit.calib, [0, 1, 2], 'pixels'));
  });

  test.each(['gpt2', 'llama-nofold'])('%s fixture: every linear of block 0', async (name) => {
    const { model, analysis } = fixtureModel(name);
    const layers = analysis.linears.filter((l) => l.block === 0);
    expect(layers.length).toBeGreaterThan(3);
    await expectTapsConsistent(model, layers, calibrationFeeds(randomTokens(2, 8, 48, 1), [0, 1], 'input_ids'));
  });

  test('attention taps are [batch, heads, T, T] probabilities', async () => {
    const vit = bundledModel('digits-vit');
    const site = vit.analysis.attention[1];
    const runner = await openRunner(writeModel(instrumentModel(vit.model, { attention: [site] })));
    const out = (await runner.run(calibrationFeeds(vit.calib, [5, 6], 'pixels')))[site.output];
    await runner.release();
    expect(out.dims).toEqual([2, 4, 17, 17]);
    const rowSums = Array.from({ length: 2 * 4 * 17 }, (_, r) => (out.data as Float32Array).subarray(r * 17, (r + 1) * 17).reduce((a, b) => a + b, 0));
    expectClose(rowSums, new Array(rowSums.length).fill(1), { atol: 1e-5, rtol: 0 }, 'softmax rows');
  });
});

describe('instrumentModel', () => {
  const vit = bundledModel('digits-vit');
  const layer = vit.analysis.linears[1];

  test('adds outputs after the model’s own, shares initializers, leaves the input model alone', () => {
    const before = writeModel(vit.model);
    const instrumented = instrumentModel(vit.model, { linearInputs: [layer], attention: vit.analysis.attention.slice(0, 1) });
    expect(instrumented.graph!.output!.map((o) => o.name)).toEqual(['logits', layer.input, vit.analysis.attention[0].output]);
    expect(instrumented.graph!.initializer).toBe(vit.model.graph!.initializer);
    expect(vit.model.graph!.output!.map((o) => o.name)).toEqual(['logits']);
    expect(Buffer.from(writeModel(vit.model)).equals(Buffer.from(before))).toBe(true);
    // No value_info in this file: the added outputs carry no type, which onnxruntime infers.
    expect(instrumented.graph!.output![1].type).toBeUndefined();
  });

  test('copies the type from value_info when the file has one; a tensor is tapped once', () => {
    const type = { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'batch' }, { dimValue: 17 }, { dimValue: 64 }] } } };
    const withInfo = { ...vit.model, graph: { ...vit.model.graph!, valueInfo: [{ name: layer.input, type }] } };
    const q = vit.analysis.linears.filter((l) => l.block === 0).slice(0, 3); // q, k, v read the same LayerNorm output
    expect(tappedTensorNames({ linearInputs: q })).toEqual([layer.input]);
    const instrumented = instrumentModel(withInfo, { linearInputs: q, tensors: ['logits'] });
    expect(instrumented.graph!.output!.map((o) => o.name)).toEqual(['logits', layer.input]);
    expect(instrumented.graph!.output![1].type).toBe(type);
  });

  test('refuses names that are not activations', () => {
    expect(() => instrumentModel(vit.model, ['no/such/tensor'])).toThrow(InstrumentError);
    expect(() => instrumentModel(vit.model, ['no/such/tensor'])).toThrow(/no node produces it/);
    expect(() => instrumentModel(vit.model, [layer.weight])).toThrow(/is an initializer/);
  });
});

describe('toTokenRows', () => {
  const host = (dims: number[], values: number[]): HostTensor => ({ dtype: 'float32', dims, data: Float32Array.from(values) });
  test('[batch, T, C] and [T, C] flatten leading dims to tokens', () => {
    const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    expect(toTokenRows(host([2, 2, 3], values), -1, 3, 'x')).toEqual({ tokens: 4, channels: 3, data: Float32Array.from(values) });
    expect(toTokenRows(host([4, 3], values), -1, 3, 'x')).toEqual({ tokens: 4, channels: 3, data: Float32Array.from(values) });
    expect(toTokenRows(host([3], [1, 2, 3]), -1, 3, 'x').tokens).toBe(1);
  });
  test('[batch, C, N] (W·x) is transposed per sample', () => {
    // batch 2, C = 2, N = 3: sample 0 is [[1,2,3],[4,5,6]] → tokens (1,4), (2,5), (3,6)
    const rows = toTokenRows(host([2, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), -2, 2, 'x');
    expect(Array.from(rows.data)).toEqual([1, 4, 2, 5, 3, 6, 7, 10, 8, 11, 9, 12]);
  });
  test('a wrong channel count or dtype is an error naming the shape', () => {
    expect(() => toTokenRows(host([2, 5], new Array(10).fill(0)), -1, 4, 'layer q')).toThrow(/layer q: tapped shape \[2, 5\] has 5 channels on axis -1, expected 4/);
    expect(() => toTokenRows({ dtype: 'int64', dims: [1], data: new BigInt64Array(1) }, -1, 1, 'ids')).toThrow(/int64/);
  });
});
