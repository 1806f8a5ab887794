// SliceGPT on the "user's own model" case: 2-block GPT-2 and Llama-shaped Hugging Face export
// folders (npm run gen:hf). GPT-2: LayerNormalization nodes, learned positions, a head tied to the
// token table through Transpose(wte), a KV cache. Llama: RMSNorm written out op by op, rotary
// positions, grouped-query attention, SwiGLU. With keep = 1 the rotated model computes the dense
// logits; sliced, ORT runs it and the analysis still finds its layers.
import { describe, expect, test } from 'vitest';
import { openRunner } from '../calibrate/fixtures/models.ts';
import { calibrationFeeds } from '../calibrate/feeds.ts';
import { collectTensorGram } from '../calibrate/tensorGram.ts';
import type { LmTokenDataset } from '../eval/datasets.ts';
import { evaluate } from '../eval/evaluate.ts';
import { openHfFolder } from '../hf/openFolder.ts';
import { corpusText, diskEntries, generatedFolder, type SmallFolder } from '../hf/testing/generatedFolders.ts';
import { splitText } from '../hf/textData.ts';
import { analyzeModel } from '../model/analyze.ts';
import type { ModelAnalysis } from '../model/types.ts';
import type { ModelProto } from '../onnx/types.ts';
import { readModel } from '../onnx/read.ts';
import { writeModel } from '../onnx/write.ts';
import { expectClose } from '../testing/expectClose.ts';
import { sliceModel, type GramSource } from './slicegpt.ts';

async function open(which: SmallFolder) {
  const opened = await openHfFolder(diskEntries(generatedFolder(which)));
  const split = splitText(corpusText(), opened.tokenizer!.tokenizer, { seqLen: 32, calibShare: 0.5, seed: 0 });
  return { model: opened.model, analysis: analyzeModel(opened.model), calib: split.calib as LmTokenDataset, eval: split.eval as LmTokenDataset };
}

async function logits(model: ModelProto, analysis: ModelAnalysis, data: LmTokenDataset): Promise<Float32Array> {
  const runner = await openRunner(writeModel(model));
  try {
    return (await runner.run(calibrationFeeds(data, [0, 1], analysis.inputs), ['logits'])).logits.data as Float32Array;
  } finally {
    await runner.release();
  }
}

async function perplexity(model: ModelProto, data: LmTokenDataset): Promise<number> {
  const runner = await openRunner(writeModel(model));
  try {
    const metrics = await evaluate(runner, data);
    if (metrics.task !== 'causal-lm') throw new Error('expected an LM');
    return metrics.perplexity;
  } finally {
    await runner.release();
  }
}

describe.each(['gpt2', 'llama'] as const)('SliceGPT on the generated %s folder', (which) => {
  test('keep = 1 gives the dense logits; keep = 0.5 halves the stream and still runs', async () => {
    const lm = await open(which);
    const gramOf: GramSource = async (model, tensor, width) =>
      (await collectTensorGram({ model, tensor, width, dataset: lm.calib, sampleIndices: [0, 1, 2, 3, 4, 5, 6, 7], inputs: lm.analysis.inputs, createRunner: openRunner })).gram;
    const dense = await logits(lm.model, lm.analysis, lm.eval);
    const rotated = await sliceModel(lm.model, lm.analysis, { keep: 1, rounding: 8, sliceHead: false }, gramOf);
    const scale = dense.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expectClose(await logits(rotated.model, lm.analysis, lm.eval), dense, { atol: 2e-5 * scale, rtol: 1e-4 }, `${which} rotated logits`);

    const sliced = await sliceModel(lm.model, lm.analysis, { keep: 0.5, rounding: 8, sliceHead: false }, gramOf);
    expect(sliced.width).toBe(32);
    const bytes = writeModel(sliced.model);
    const analysis = analyzeModel(readModel(bytes));
    const inputs = analysis.linears.filter((l) => ['attn.q', 'attn.k', 'attn.v', 'attn.qkv', 'mlp.up', 'mlp.gate'].includes(l.role));
    expect(inputs.length).toBeGreaterThan(0);
    for (const layer of inputs) expect(layer.inFeatures).toBe(32);
    const ppl = [await perplexity(lm.model, lm.eval), await perplexity(sliced.model, lm.eval)];
    expect(ppl.every(Number.isFinite)).toBe(true);
    console.log(`${which}: perplexity dense ${ppl[0].toFixed(1)} → sliced to 32 of 64: ${ppl[1].toFixed(1)}; bytes ${writeModel(lm.model).length} → ${bytes.length}`);
  }, 300_000);
});
