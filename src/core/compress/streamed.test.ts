// One block at a time (streamed.ts) against compressModel on the same model held whole: the
// weights it writes must be the same bytes, the file must load in ORT with its external data, the
// input's weights must be read by range, block by block, and the output's written as they are
// produced (before the last block is read), not at the end. Models: the torch-exported Llama
// fixture and a generated 2-block GPT-2 (scripts/gen/gpt2Model.ts), their tensors moved into an
// external-data file by the test itself.
import { describe, expect, test } from 'vitest';
import { buildGpt2Model, GPT2_SMALL } from '../../../scripts/gen/gpt2Model.ts';
import { fixtureModel, openRunner, randomTokens, type LoadedModel } from '../calibrate/fixtures/models.ts';
import type { LmTokenDataset } from '../eval/datasets.ts';
import { analyzeModel } from '../model/analyze.ts';
import { resolveModelWeights, weightSources } from '../onnx/lazyTensors.ts';
import { readModel } from '../onnx/read.ts';
import type { ModelProto, TensorProto } from '../onnx/types.ts';
import { bytesWeightSource, memoryWeightSink, SinkLimitError, type WeightSource } from '../onnx/weightSource.ts';
import { writeModel } from '../onnx/write.ts';
import { parseRecipe, RecipeError } from '../recipe/parse.ts';
import { defaultRecipe } from '../recipe/defaults.ts';
import { defaultQuantizeStage } from '../recipe/stages/quantize.ts';
import { expectClose } from '../testing/expectClose.ts';
import { compressModel } from './pipeline.ts';
import { isQuantizeStageReport } from './report.ts';
import { compressStreamed } from './streamed.ts';

/** The model with every tensor of 1 KiB or more moved to "weights.bin", as onnx.save_model(save_as_external_data=True) does. */
function externalized(model: ModelProto): { model: ModelProto; data: Uint8Array } {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const initializer = (model.graph!.initializer ?? []).map((tensor): TensorProto => {
    if ((tensor.rawData?.byteLength ?? 0) < 1024) return tensor;
    const { rawData, ...rest } = tensor;
    chunks.push(rawData!);
    const entry = { location: 'weights.bin', offset: String(offset), length: String(rawData!.byteLength) };
    offset += rawData!.byteLength;
    return { ...rest, dataLocation: 1, externalData: Object.entries(entry).map(([key, value]) => ({ key, value })) };
  });
  const data = new Uint8Array(offset);
  chunks.reduce((at, chunk) => (data.set(chunk, at), at + chunk.byteLength), 0);
  return { model: readModel(writeModel({ ...model, graph: { ...model.graph!, initializer } })), data };
}

/** A source that logs every read, and a sink that logs every append, into one timeline. */
function recorded(source: WeightSource, log: string[]): WeightSource {
  return { ...source, read: (offset, length) => (log.push(`read ${offset} ${length}`), source.read(offset, length)) };
}

const wanda = () => {
  const recipe = defaultRecipe();
  recipe.calibration = { ...recipe.calibration, samples: 6, batchSize: 3 };
  (recipe.stages[0] as unknown as { method: string }).method = 'wanda';
  return recipe;
};
const gptq = () => ({ ...wanda(), stages: [{ ...defaultQuantizeStage(), groupSize: 16 }] });

const llama = fixtureModel('llama');
const gpt2Model = buildGpt2Model({ ...GPT2_SMALL, blocks: 2, vocab: 256, context: 64, dModel: 64, heads: 4 }, 1);
const gpt2: LoadedModel = { bytes: writeModel(gpt2Model), model: gpt2Model, analysis: analyzeModel(gpt2Model) };
const cases: [string, LoadedModel, LmTokenDataset][] = [
  ['llama fixture', llama, randomTokens(8, 16, 48, 7)],
  ['generated GPT-2, 2 blocks', gpt2, randomTokens(8, 16, 256, 7)],
];

/** Initializer name → bytes of a written model, its external data read from `data`. */
async function weightsOf(onnx: Uint8Array, data?: Uint8Array): Promise<Map<string, Uint8Array>> {
  const model = await resolveModelWeights(readModel(onnx), weightSources(data ? [bytesWeightSource('model.onnx_data', data)] : []));
  return new Map((model.graph!.initializer ?? []).map((t) => [t.name ?? '', t.rawData ?? new Uint8Array(new Float32Array(t.floatData ?? []).buffer)]));
}

async function logits(onnx: Uint8Array, data: Uint8Array | undefined, tokens: LmTokenDataset): Promise<Float32Array> {
  const model = await resolveModelWeights(readModel(onnx), weightSources(data ? [bytesWeightSource('model.onnx_data', data)] : []));
  const runner = await openRunner(writeModel(model));
  try {
    const ids = BigInt64Array.from(tokens.sequences[0].slice(0, tokens.seqLen), BigInt);
    const out = await runner.run({ [runner.inputNames[0]]: { dtype: 'int64', dims: [1, tokens.seqLen], data: ids } });
    return out[runner.outputNames[0]].data as Float32Array;
  } finally {
    await runner.release();
  }
}

describe.each(cases)('compressStreamed on the %s', (_, loaded, calibSet) => {
  const input = externalized(loaded.model);
  const analysis = analyzeModel(input.model);

  test('the graph is analysed from the .onnx alone, without its external data', () => {
    expect(analysis.linears.map((l) => [l.name, l.outFeatures, l.inFeatures])).toEqual(loaded.analysis.linears.map((l) => [l.name, l.outFeatures, l.inFeatures]));
  });

  // GPTQ's packed layers drop their float weight; their MatMulNBits codes are written at the end
  // (docs/hf-memory.md, "what is still held"), so only Wanda's weights stream out during the walk.
  test.each([
    ['Wanda 50 %', wanda, true],
    ['GPTQ 4-bit, packed', gptq, false],
  ])('%s: the same weights as compressModel on the whole model, read block by block', async (_, recipeOf, streamsDuringWalk) => {
    const recipe = parseRecipe(recipeOf());
    const whole = await compressModel({ model: loaded.model, analysis: loaded.analysis, recipe, calibSet, createRunner: openRunner });

    const log: string[] = [];
    const sink = memoryWeightSink('model.onnx_data', 1 << 30);
    const append = sink.append;
    sink.append = (bytes) => (log.push(`append ${bytes.byteLength}`), append(bytes));
    const source = recorded(bytesWeightSource('weights.bin', input.data), log);
    const streamed = await compressStreamed({ model: input.model, analysis, recipe, calibSet, createRunner: openRunner, sources: weightSources([source]), sink });
    const data = new Uint8Array(streamed.dataBytes);
    sink.chunks().reduce((at, chunk) => (data.set(chunk, at), at + chunk.byteLength), 0);

    // Every weight the whole-model path wrote, byte for byte (and no other tensor).
    const expected = await weightsOf(whole.bytes);
    const actual = await weightsOf(streamed.onnx, data);
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [name, bytes] of expected) expect(actual.get(name), name).toEqual(bytes);
    const rows = (stages: typeof streamed.stages) => stages.map((s) => [...s.layers.map((l) => l.id), ...(isQuantizeStageReport(s) ? s.quantized.map((q) => `${q.id} ${q.export}`) : [])]);
    expect(rows(streamed.stages)).toEqual(rows(whole.report.stages));
    expectClose(await logits(streamed.onnx, data, calibSet), await logits(whole.bytes, undefined, calibSet), { atol: 0, rtol: 0 }, 'logits');

    // Lazy: no read takes more than half the file. Streamed: the first compressed block is in the
    // sink before the last block's weights are read.
    const reads = log.filter((l) => l.startsWith('read')).map((l) => Number(l.split(' ')[2]));
    expect(Math.max(...reads)).toBeLessThan(input.data.byteLength / 2);
    expect(streamed.largestRead).toBeLessThan(input.data.byteLength / 2);
    const lastBlock = analysis.linears.filter((l) => l.block === analysis.numBlocks - 1);
    const lastBlockBytes = lastBlock.reduce((n, l) => n + l.inFeatures * l.outFeatures * 4, 0);
    const firstAppend = log.findIndex((l) => l.startsWith('append'));
    const readsAfter = log.slice(firstAppend).filter((l) => l.startsWith('read')).reduce((n, l) => n + Number(l.split(' ')[2]), 0);
    expect(firstAppend).toBeGreaterThan(0);
    if (streamsDuringWalk) expect(readsAfter).toBeGreaterThanOrEqual(lastBlockBytes);
    // A packed layer's float weight is never written: the file holds its 4-bit codes instead.
    else expect(streamed.dataBytes).toBeLessThan(input.data.byteLength - analysis.linears.filter((l) => l.role !== 'head').reduce((n, l) => n + l.inFeatures * l.outFeatures * 3, 0));
  });
});

describe('what one block at a time refuses, and the download limit', () => {
  const input = externalized(llama.model);
  const analysis = analyzeModel(input.model);
  const base = { model: input.model, analysis, calibSet: randomTokens(8, 16, 48, 7), createRunner: openRunner, sources: weightSources([bytesWeightSource('weights.bin', input.data)]) };

  test('OWL allocation reads every weight first: refused before anything runs, naming the field', async () => {
    const recipe = wanda();
    (recipe.stages[0] as unknown as { allocation: unknown }).allocation = { kind: 'owl', tokenSelection: false };
    const sink = memoryWeightSink('model.onnx_data', 1 << 30);
    await expect(compressStreamed({ ...base, recipe: parseRecipe(recipe), sink })).rejects.toThrow(RecipeError);
    await expect(compressStreamed({ ...base, recipe: parseRecipe(recipe), sink })).rejects.toThrow(/stages\[0\]: allocation "owl" reads every layer's weight/);
    expect(sink.written).toBe(0);
  });

  test('external data shorter than a tensor needs: one line naming the file and the tensor', async () => {
    const short = weightSources([bytesWeightSource('weights.bin', input.data.subarray(0, input.data.byteLength - 4))]);
    const sink = memoryWeightSink('model.onnx_data', 1 << 30);
    await expect(compressStreamed({ ...base, sources: short, recipe: parseRecipe(wanda()), sink })).rejects.toThrow(/^Tensor "[^"]+": bytes \d+\.\.\d+ are outside "weights\.bin" \(\d+ bytes\)$/);
  });

  test('an in-memory download past its limit stops with a message saying what to use instead', async () => {
    const sink = memoryWeightSink('model.onnx_data', 4096);
    await expect(compressStreamed({ ...base, recipe: parseRecipe(wanda()), sink })).rejects.toThrow(SinkLimitError);
    await expect(sink.append(new Uint8Array(8192))).rejects.toThrow(/"model\.onnx_data": the compressed weights pass 0 MB, the most this page keeps in memory for a download; use a browser with the File System Access API/);
  });
});
