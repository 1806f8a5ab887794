// SliceGPT on the bundled LM, run by onnxruntime-web: the fused and the rotated-but-unsliced
// models compute the dense model's logits; the sliced one is smaller and still analysable.
import { describe, expect, test } from 'vitest';
import { bundledModel, lmPerplexity, openRunner } from '../calibrate/fixtures/models.ts';
import { chooseSamples } from '../calibrate/random.ts';
import { collectTensorGram } from '../calibrate/tensorGram.ts';
import type { HostTensor } from '../eval/runner.ts';
import { analyzeModel } from '../model/analyze.ts';
import { readModel } from '../onnx/read.ts';
import { writeModel } from '../onnx/write.ts';
import { expectClose } from '../testing/expectClose.ts';
import { fuseNorms } from './fuse.ts';
import { writeSlicedModel } from './rewrite.ts';
import { sliceModel, type GramSource } from './slicegpt.ts';
import { findResidualStream } from './structure.ts';

const lm = bundledModel('kjv-charlm');

async function logits(bytes: Uint8Array, sequences: number[][], tokens: number): Promise<Float32Array> {
  const runner = await openRunner(bytes);
  try {
    const feed: HostTensor = { dtype: 'int64', dims: [sequences.length, tokens], data: BigInt64Array.from(sequences.flatMap((s) => s.slice(0, tokens).map(BigInt))) };
    const out = await runner.run({ input_ids: feed }, ['logits']);
    return out.logits.data as Float32Array;
  } finally {
    await runner.release();
  }
}

const gramSource = (samples: number): GramSource => async (model, tensor, width) =>
  (await collectTensorGram({ model, tensor, width, dataset: lm.calib, sampleIndices: chooseSamples(64, samples, 0), inputs: lm.analysis.inputs, createRunner: openRunner })).gram;

describe('SliceGPT on the bundled LM', () => {
  const evalSeqs = lm.eval.kind === 'lm-tokens' ? lm.eval.sequences.slice(0, 2) : [];

  test('fusing the LayerNorms into RMSNorm form leaves the logits unchanged', async () => {
    const found = findResidualStream(lm.model, lm.analysis);
    if (!found.ok) throw new Error(found.problem);
    const fused = writeSlicedModel(lm.model, found.stream, fuseNorms(lm.model, found.stream), found.stream.blocks.flatMap(() => [null, null]).concat([null]));
    const [dense, after] = [await logits(lm.bytes, evalSeqs, 64), await logits(writeModel(fused.model), evalSeqs, 64)];
    const report = expectClose(after, dense, { atol: 2e-4, rtol: 1e-4 }, 'fused logits');
    expect(report.maxAbsError).toBeGreaterThan(0);
  });

  test('keep = 1 rotates every weight and still gives the dense logits', async () => {
    const result = await sliceModel(lm.model, lm.analysis, { keep: 1, rounding: 8, sliceHead: false }, gramSource(8));
    expect(result.width).toBe(128);
    const [dense, rotated] = [await logits(lm.bytes, evalSeqs, 64), await logits(writeModel(result.model), evalSeqs, 64)];
    expectClose(rotated, dense, { atol: 5e-4, rtol: 1e-4 }, 'rotated logits');
  });

  test('keep = 0.75 gives a smaller model that ORT runs and the analysis still reads', async () => {
    const result = await sliceModel(lm.model, lm.analysis, { keep: 0.75, rounding: 8, sliceHead: false }, gramSource(16));
    expect(result.width).toBe(96);
    const bytes = writeModel(result.model);
    expect(bytes.length).toBeLessThan(lm.bytes.length);
    const analysis = analyzeModel(readModel(bytes));
    const q0 = analysis.linears.find((l) => l.name.includes('blocks.0.attn.q_proj'))!;
    expect([q0.outFeatures, q0.inFeatures]).toEqual([128, 96]);
    const ppl = [await lmPerplexity(lm.bytes, lm.eval), await lmPerplexity(bytes, lm.eval)];
    console.log('perplexity dense → sliced', ppl, 'bytes', lm.bytes.length, '→', bytes.length, 'linears', analysis.linears.map((l) => `${l.name}:${l.role}`).join(' '));
    expect(ppl[1]).toBeLessThan(ppl[0] * 3);
  });
});
