// Block-by-block sequential calibration against today's whole-model path (a fresh instrumented
// copy of the whole working model per stage, calibrate()): the same sequence of stages, each
// pruned (half its weights zeroed) before the next is calibrated, must give bit-identical
// statistics on every architecture fixture — the same ORT kernels on the same inputs. Also: where
// the cuts fall, that the work is linear in depth, and the fallback for graphs that cannot be cut.
import { describe, expect, test } from 'vitest';
import { WorkingModel } from '../compress/weights.ts';
import { pipelineSteps as pipelineStages } from '../compress/steps.ts';
import type { Dataset } from '../eval/datasets.ts';
import type { ModelRunner } from '../eval/runner.ts';
import type { LinearLayer, ModelAnalysis } from '../model/types.ts';
import type { ModelProto } from '../onnx/types.ts';
import { openSequentialCalibration, type StageTapPlan } from './blockwise.ts';
import { Cancelled } from '../job/cancel.ts';
import type { CalibrationStats } from './collect.ts';
import { bundledModel, bundledModelExists, fixtureModel, randomTokens, type LoadedModel } from './fixtures/models.ts';
import { countingRunnerFactory, halfZeroed, routedThroughIf } from './fixtures/models.ts';
import { tappedTensorNames } from './instrument.ts';
import { mulberry32 } from './random.ts';
import { planBlockCut } from './subgraph.ts';

function stagesOf(analysis: ModelAnalysis, withHead = false, tapOutputs = false): StageTapPlan[] {
  const layers = analysis.linears.filter((l) => l.role !== 'embed' && (withHead || l.role !== 'head'));
  return pipelineStages(layers).map((stage) => ({ layers: stage.layers, tapOutputs }));
}

/** Runs the sequence of stages (calibrate, prune, advance), recording every session it opens. */
async function runSequence(model: ModelProto, stages: StageTapPlan[], dataset: Dataset, wholeModel: boolean, outputSample = 0) {
  const { open, counts } = countingRunnerFactory();
  const sessionBytes: number[] = [];
  const createRunner = (bytes: Uint8Array): Promise<ModelRunner> => {
    sessionBytes.push(bytes.byteLength);
    return open(bytes);
  };
  const working = new WorkingModel(model);
  const sampleIndices = [3, 0, 5, 1, 4];
  const sequence = openSequentialCalibration({ model: working.model, stages, createRunner, dataset, sampleIndices, batchSize: 2, wholeModel });
  const stats: CalibrationStats[] = [];
  for (const [s, stage] of stages.entries()) {
    stats.push(await sequence.stats(s, { outputSample, inputSample: outputSample, seed: 4 }));
    for (const layer of stage.layers) working.writeWeight(layer, halfZeroed(working.readWeight(layer)));
    await sequence.advance(s, {});
  }
  sequence.release();
  return { kind: sequence.kind, stats, counts, sessionBytes };
}

const bytesOf = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function expectIdentical(a: CalibrationStats[], b: CalibrationStats[], layers: LinearLayer[]) {
  expect(a.length).toBe(b.length);
  let compared = 0;
  for (const [s, stats] of a.entries()) {
    for (const [id, got] of stats.layers) {
      const want = b[s].layers.get(id)!;
      const name = layers.find((l) => l.id === id)!.name;
      expect(got.tokens, name).toBe(want.tokens);
      expect(bytesOf(got.hessian).equals(bytesOf(want.hessian)), `${name} hessian`).toBe(true);
      expect(bytesOf(got.sqNorm).equals(bytesOf(want.sqNorm)), `${name} sqNorm`).toBe(true);
      expect(bytesOf(got.maxAbs).equals(bytesOf(want.maxAbs)), `${name} maxAbs`).toBe(true);
      if (want.outputSample) expect(bytesOf(got.outputSample!.data).equals(bytesOf(want.outputSample.data)), `${name} outputs`).toBe(true);
      if (want.inputSample) expect(bytesOf(got.inputSample!.data).equals(bytesOf(want.inputSample.data)), `${name} input sample`).toBe(true);
      expect(got.inputSample === undefined, `${name} input sample kept in both or neither`).toBe(want.inputSample === undefined);
      compared++;
    }
  }
  return compared;
}

function features(count: number, shape: number[], seed: number): Dataset {
  const random = mulberry32(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const images = Array.from({ length: count }, () => Array.from({ length: size }, () => random() * 2 - 1));
  return { kind: 'image-classification', shape, preprocess: { divide: 1 }, images, labels: new Array(count).fill(0) };
}

const withCalib = (model: ReturnType<typeof bundledModel>) => ({ ...model, dataset: model.calib });

const cases: { name: string; load: () => LoadedModel & { dataset: Dataset }; withHead?: boolean; outputs?: boolean }[] = [
  { name: 'digits ViT', load: () => withCalib(bundledModel('digits-vit')), outputs: true },
  { name: 'GPT-2 (Conv1D as Gemm) with its tied head', load: () => ({ ...fixtureModel('gpt2-nofold'), dataset: randomTokens(6, 8, 48, 1) }), withHead: true },
  { name: 'Llama (rotary tables and mask carried with the residual)', load: () => ({ ...fixtureModel('llama-nofold'), dataset: randomTokens(6, 8, 48, 2) }) },
  { name: 'ViT fixture', load: () => ({ ...fixtureModel('vit'), dataset: features(6, [3, 16, 16], 1) }) },
  { name: 'MLP of Gemms (each stage reads the stored boundary directly)', load: () => ({ ...fixtureModel('mlp-gemm'), dataset: features(6, [16], 3) }), withHead: true },
];
if (bundledModelExists('kjv-charlm')) {
  cases.push({ name: 'KJV char LM', load: () => withCalib(bundledModel('kjv-charlm')) });
}

describe('block by block = whole model, bit for bit, over a pruned sequence', () => {
  test.each(cases)('$name', async ({ load, withHead, outputs }) => {
    const { model, analysis, dataset } = load();
    const stages = stagesOf(analysis, withHead, outputs);
    const blockwise = await runSequence(model, stages, dataset, false, outputs ? 7 : 0);
    const whole = await runSequence(model, stages, dataset, true, outputs ? 7 : 0);
    expect(blockwise.kind).toBe('blockwise');
    expect(whole.kind).toBe('whole-model');
    expect(expectIdentical(blockwise.stats, whole.stats, analysis.linears)).toBe(stages.flatMap((s) => s.layers).length);
    expect(blockwise.counts.created).toBe(blockwise.counts.released);
    // Linear in depth: every session of the whole-model path holds the whole model; together the
    // block-by-block sessions hold about two copies (statistics + boundary run per block).
    const modelBytes = whole.sessionBytes[0];
    expect(whole.sessionBytes.length).toBe(stages.length);
    expect(Math.max(...blockwise.sessionBytes)).toBeLessThan(modelBytes);
    expect(blockwise.sessionBytes.reduce((a, b) => a + b, 0)).toBeLessThan(2.2 * modelBytes);
  });
});

describe('planBlockCut', () => {
  const plan = (loaded: LoadedModel, withHead = false) =>
    planBlockCut(loaded.model, stagesOf(loaded.analysis, withHead).map((s) => ({ layers: s.layers, tensors: tappedTensorNames({ linearInputs: s.layers }) })));

  test('a pre-LN transformer is cut at its residual stream: one tensor crosses each boundary', () => {
    for (const loaded of [bundledModel('digits-vit'), fixtureModel('gpt2')]) {
      const result = plan(loaded);
      if (!result.ok) throw new Error(result.reason);
      const { cut } = result;
      expect(cut.crossing).toEqual(cut.stages.map(() => 1));
      // The store holds one tensor between blocks, nothing after the last.
      expect(cut.stages.map((s) => s.keep.length)).toEqual([...cut.stages.slice(1).map(() => 1), 0]);
      const nodes = loaded.model.graph!.node!;
      // The embedding runs once, in the prefix; each block's products run in its own segment only.
      const embedding = new Set([
        ...loaded.analysis.embeddings.map((e) => e.nodeName),
        ...loaded.analysis.linears.filter((l) => l.role === 'embed').flatMap((l) => l.uses.map((u) => u.nodeName)),
      ]);
      expect(embedding.size).toBeGreaterThan(0);
      for (const name of embedding) expect(cut.prefix.nodes).toContain(nodes.findIndex((n) => n.name === name));
      for (const [s, segment] of cut.stages.entries()) {
        const layers = stagesOf(loaded.analysis)[s].layers;
        const products = new Set(layers.flatMap((l) => l.uses.map((u) => u.nodeName)));
        const own = (run: number[]) => run.filter((n) => loaded.analysis.linears.some((l) => l.uses.some((u) => u.nodeName === (nodes[n].name || `${nodes[n].opType}#${n}`))));
        expect(own(segment.stats.nodes).every((n) => products.has(nodes[n].name!))).toBe(true);
        if (segment.advance) expect(new Set(own(segment.advance.nodes).map((n) => nodes[n].name))).toEqual(products);
      }
    }
  });

  test('the Llama fixture carries its rotary tables and mask from block 0 along with the residual', () => {
    const result = plan(fixtureModel('llama'));
    if (!result.ok) throw new Error(result.reason);
    expect(result.cut.crossing).toEqual([1, 4]);
    expect(result.cut.stages[0].keep).toHaveLength(4);
  });

  test('an embedding table larger than any pruned weight is read once, in the prefix, not by block 0', () => {
    // The Llama fixture's 48-row table is small, so block 0 recomputes the embedding from the ids;
    // the same graph with a 100-row table (ids < 48 read the same rows) is cut after the Gather.
    const llama = fixtureModel('llama');
    const embedding = llama.analysis.embeddings[0];
    const gather = llama.model.graph!.node!.findIndex((n) => n.name === embedding.nodeName);
    const small = plan(llama);
    if (!small.ok) throw new Error(small.reason);
    expect(small.cut.stages[0].stats.nodes).toContain(gather);
    const table = llama.model.graph!.initializer!.find((t) => t.name === embedding.weight)!;
    const rows = Number(table.dims![0]);
    const widened = { ...table, dims: [100, table.dims![1]], rawData: new Uint8Array((table.rawData!.length / rows) * 100) };
    widened.rawData.set(table.rawData!);
    const initializer = llama.model.graph!.initializer!.map((t) => (t === table ? widened : t));
    const big = plan({ ...llama, model: { ...llama.model, graph: { ...llama.model.graph!, initializer } } });
    if (!big.ok) throw new Error(big.reason);
    expect(big.cut.prefix.nodes).toContain(gather);
    expect(big.cut.stages.some((s) => s.stats.nodes.includes(gather) || s.advance?.nodes.includes(gather))).toBe(false);
  });

  test('stages whose nodes interleave are refused with the reason', () => {
    const { model, analysis } = fixtureModel('gpt2');
    const [a, b] = stagesOf(analysis);
    const swapped = [
      { layers: [a.layers[0], b.layers[0]], tensors: [] },
      { layers: [a.layers[1]], tensors: [] },
    ];
    expect(planBlockCut(model, swapped)).toEqual({ ok: false, reason: "stage 1's first product runs before stage 0's last node, so the stages interleave" });
  });
});

describe('fallback to the whole model', () => {
  test('a graph with a control-flow node runs whole-model per stage, with the same statistics', async () => {
    const vit = bundledModel('digits-vit');
    const model = routedThroughIf(vit.model, '/blocks.1/');
    const stages = stagesOf(vit.analysis);
    const sequence = openSequentialCalibration({ model, stages, createRunner: countingRunnerFactory().open, dataset: vit.calib, sampleIndices: [0, 1] });
    expect(sequence.kind).toBe('whole-model');
    expect(sequence.fallbackReason).toBe('node route (If) has a subgraph, whose body may read any outer tensor');
    const routed = await runSequence(model, stages, vit.calib, false);
    const plain = await runSequence(vit.model, stages, vit.calib, false);
    expect(routed.kind).toBe('whole-model');
    expect(plain.kind).toBe('blockwise');
    expectIdentical(routed.stats, plain.stats, vit.analysis.linears);
  });
});

describe('cancellation', () => {
  test('a cancel flag stops a block run between batches and releases its session', async () => {
    const vit = bundledModel('digits-vit');
    const { open, counts } = countingRunnerFactory();
    const cancel = { aborted: false };
    const sequence = openSequentialCalibration({ model: vit.model, stages: stagesOf(vit.analysis), createRunner: open, dataset: vit.calib, sampleIndices: [0, 1, 2, 3], batchSize: 1 });
    await sequence.stats(0, {});
    await expect(sequence.stats(1, {})).rejects.toThrow(/stage 1 needs the boundary after stage 0; advance\(0\) first/);
    await sequence.advance(0, {});
    const run = sequence.stats(1, { cancel, onProgress: ({ done }) => (cancel.aborted = done >= 2) });
    await expect(run).rejects.toThrow(Cancelled);
    sequence.release();
    expect(counts.created).toBe(counts.released);
  });
});
