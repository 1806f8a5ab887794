// The structured export against the math it must equal: removing a head (or neurons) and slicing
// gives the same logits, in onnxruntime-web, as the dense model with those heads' (neurons')
// columns of the output (down) projection zeroed — the removed structures then contribute nothing
// and every other value is the same. On the bundled LM and ViT (torch-exported Reshape/Concat
// shapes) and on generated GPT-2 (fused c_attn + Split, KV-cache inputs) and Llama (grouped-query
// attention, repeat_kv Reshape) exports.
import { describe, expect, test } from 'vitest';
import { bundledModel, openRunner } from '../calibrate/fixtures/models.ts';
import { loadModelFromDisk } from '../../cli/loadModelDir.ts';
import { generatedFolder } from '../hf/testing/generatedFolders.ts';
import { lmFeeds, logitsOf, runnerLmInputs } from '../eval/lmInputs.ts';
import type { HostTensor } from '../eval/runner.ts';
import { analyzeModel } from '../model/analyze.ts';
import type { ModelAnalysis } from '../model/types.ts';
import { readModel } from '../onnx/read.ts';
import { writeModel } from '../onnx/write.ts';
import type { ModelProto } from '../onnx/types.ts';
import { weightFromStored, WorkingModel } from '../compress/weights.ts';
import { tensorToFloat32 } from '../onnx/tensor.ts';
import { initializerMap } from '../onnx/graph.ts';
import { expectClose } from '../testing/expectClose.ts';
import { groupColumns, structuredBlocks, type StructuredBlock } from './blocks.ts';
import { sliceStructures, type StructuredKeep } from './slice.ts';
import { mulberry32 } from '../calibrate/random.ts';

/** The dense model with the given input columns of the given layers zeroed. */
function zeroedColumns(model: ModelProto, analysis: ModelAnalysis, columns: Map<string, number[]>): ModelProto {
  const working = new WorkingModel(model);
  const inits = initializerMap(model.graph!);
  for (const [id, cols] of columns) {
    const layer = analysis.linears.find((l) => l.id === id)!;
    const w = weightFromStored(layer, tensorToFloat32(inits.get(layer.weight)!));
    for (let r = 0; r < w.rows; r++) for (const c of cols) w.data[r * w.cols + c] = 0;
    working.writeWeight(layer, w);
  }
  return working.model;
}

async function logits(bytes: Uint8Array, rows: number[][], length: number): Promise<Float32Array> {
  const runner = await openRunner(bytes);
  try {
    const plan = runnerLmInputs(runner);
    const out = await runner.run(lmFeeds(plan, rows, length));
    return logitsOf(runner, out).data as Float32Array;
  } finally {
    await runner.release();
  }
}

async function imageLogits(bytes: Uint8Array, feed: Record<string, HostTensor>): Promise<Float32Array> {
  const runner = await openRunner(bytes);
  try {
    const out = await runner.run(feed);
    return out[runner.outputNames[0]].data as Float32Array;
  } finally {
    await runner.release();
  }
}

/** Removes `groups` of block 0 and `neurons` of block 1 (different shapes per block), as slice and as zeroed columns. */
function plan(blocks: StructuredBlock[], groups: number[], neurons: number[]) {
  const b0 = blocks[0].attention!;
  const m1 = blocks[1].mlp!;
  const keep: StructuredKeep = {
    groups: new Map([[0, range(b0.kvHeads).filter((g) => !groups.includes(g))]]),
    neurons: new Map([[1, range(m1.neurons).filter((j) => !neurons.includes(j))]]),
  };
  const zero = new Map([
    [b0.out.id, groups.flatMap((g) => groupColumns(b0, g))],
    [m1.down.id, neurons],
  ]);
  return { keep, zero };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function randomRows(count: number, length: number, vocab: number, seed: number): number[][] {
  const random = mulberry32(seed);
  return Array.from({ length: count }, () => Array.from({ length }, () => Math.floor(random() * vocab)));
}

async function checkLm(model: ModelProto, groups: number[], neurons: number[], vocab: number) {
  const analysis = analyzeModel(model);
  const blocks = structuredBlocks(analysis, { heads: true, neurons: true });
  if (typeof blocks === 'string') throw new Error(blocks);
  const { keep, zero } = plan(blocks, groups, neurons);
  const sliced = sliceStructures(model, blocks, keep);
  const slicedBytes = writeModel(sliced.model);
  const reference = writeModel(zeroedColumns(model, analysis, zero));
  const rows = randomRows(2, 16, vocab, 5);
  const expected = await logits(reference, rows, 16);
  const actual = await logits(slicedBytes, rows, 16);
  // The sliced products sum fewer terms than the zeroed ones (the zeros are gone), so they agree
  // to float32 rounding, not bit for bit.
  const report = expectClose(actual, expected, { atol: 2e-5, rtol: 1e-4 }, 'logits');
  const again = analyzeModel(readModel(slicedBytes));
  const site0 = again.attention.find((s) => s.block === 0)!;
  return { sliced, slicedBytes, again, site0, report, analysis, blocks };
}

describe('sliceStructures', () => {
  test('bundled LM: heads 1 and 3 of block 0 and 100 neurons of block 1 removed equal zeroed columns; file bytes shrink by the removed parameters', async () => {
    const lm = bundledModel('kjv-charlm');
    const neurons = range(100).map((i) => i * 5);
    const { sliced, slicedBytes, again, site0, analysis } = await checkLm(lm.model, [1, 3], neurons, 63);
    expect(site0.heads).toBe(2);
    expect(again.attention.find((s) => s.block === 1)!.heads).toBe(4);
    const removedParams = sliced.reshaped.reduce((s, r) => s + r.paramsBefore - r.paramsAfter, 0);
    // q, k, v lose 64 rows of 128 and their biases, out_proj 64 input columns; fc1 100 columns and biases, fc2 100 rows.
    expect(removedParams).toBe(3 * (64 * 128 + 64) + 64 * 128 + 100 * 128 + 100 + 100 * 128);
    const linearBefore = analysis.linears.reduce((s, l) => s + l.params, 0);
    const linearAfter = again.linears.reduce((s, l) => s + l.params, 0);
    expect(linearBefore - linearAfter).toBe(removedParams);
    // float32: 4 bytes a parameter; the graph gains a few small shape constants.
    const saved = lm.bytes.length - slicedBytes.length;
    expect(saved).toBeGreaterThan(removedParams * 4 - 2000);
    expect(saved).toBeLessThanOrEqual(removedParams * 4 + 2000);
    expect(sliced.reshaped.map((r) => r.name)).toEqual(['blocks.0.attn.q_proj', 'blocks.0.attn.k_proj', 'blocks.0.attn.v_proj', 'blocks.0.attn.out_proj', 'blocks.1.mlp.fc1', 'blocks.1.mlp.fc2']);
    expect(lm.model.graph!.initializer!.find((t) => t.name === 'onnx::MatMul_769')!.dims!.map(Number)).toEqual([128, 128]);
  });

  test('keeping everything leaves the model as it was (same bytes)', () => {
    const lm = bundledModel('kjv-charlm');
    const blocks = structuredBlocks(lm.analysis, { heads: true, neurons: true }) as StructuredBlock[];
    const keep: StructuredKeep = { groups: new Map(blocks.map((b) => [b.block, range(4)])), neurons: new Map(blocks.map((b) => [b.block, range(512)])) };
    const same = Buffer.compare(writeModel(sliceStructures(lm.model, blocks, keep).model), writeModel(lm.model));
    expect(same).toBe(0);
  });

  test('bundled ViT: a head of block 0 and neurons of block 1 removed equal zeroed columns', async () => {
    const vit = bundledModel('digits-vit');
    const blocks = structuredBlocks(vit.analysis, { heads: true, neurons: true }) as StructuredBlock[];
    const { keep, zero } = plan(blocks, [2], [0, 7, 9]);
    const sliced = writeModel(sliceStructures(vit.model, blocks, keep).model);
    const reference = writeModel(zeroedColumns(vit.model, vit.analysis, zero));
    const data = vit.eval.kind === 'image-classification' ? vit.eval : null;
    const shape = data!.shape;
    const feed: Record<string, HostTensor> = { [vit.analysis.inputs[0].name]: { dtype: 'float32', dims: [3, ...shape], data: Float32Array.from(data!.images.slice(0, 3).flat(), (v) => v / 16) } };
    expectClose(await imageLogits(sliced, feed), await imageLogits(reference, feed), { atol: 2e-5, rtol: 1e-4 }, 'ViT logits');
  });

  test('generated GPT-2 (fused c_attn split by sizes, KV-cache inputs): head 2 of block 0 removed', async () => {
    const folder = loadModelFromDisk(generatedFolder('gpt2'));
    const model = readModel(folder.bytes);
    const { again, site0, sliced } = await checkLm(model, [2], [3, 4, 5, 200], 50257);
    expect(site0.heads).toBe(3);
    const past = again.inputs.find((i) => i.name === 'past_key_values.0.key')!;
    expect(past.shape![1]).toBe(3);
    expect(again.inputs.find((i) => i.name === 'past_key_values.1.key')!.shape![1]).toBe(4);
    expect(sliced.reshaped[0].after).toEqual([144, 64]);
  });

  test('generated Llama (grouped-query attention, 2 query heads per kv head): kv group 1 removed with its query heads', async () => {
    const folder = loadModelFromDisk(generatedFolder('llama'));
    const model = readModel(folder.bytes);
    const { again, site0, sliced } = await checkLm(model, [1], [0, 1, 64, 127], 32000);
    expect([site0.heads, site0.kvHeads]).toEqual([2, 1]);
    expect(again.inputs.find((i) => i.name === 'past_key_values.0.value')!.shape![1]).toBe(1);
    expect(sliced.reshaped.find((r) => r.role === 'attn.q')!.removed).toEqual([2, 3]);
  });

  test('removing every head of an attention is refused with a sentence', () => {
    const lm = bundledModel('kjv-charlm');
    const blocks = structuredBlocks(lm.analysis, { heads: true, neurons: false }) as StructuredBlock[];
    expect(() => sliceStructures(lm.model, blocks, { groups: new Map([[0, []]]), neurons: new Map() })).toThrow(/keep at least one/);
  });
});
