// SliceGPT on the bundled LM, run by onnxruntime-web: the fused and the rotated-but-unsliced
// models compute the dense model's logits (the sliced model: reference.test.ts, and through the
// stage: compress/sliceStage.test.ts).
import { describe, expect, test } from 'vitest';
import { bundledModel, openRunner } from '../calibrate/fixtures/models.ts';
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
    expectClose(after, dense, { atol: 2e-4, rtol: 1e-4 }, 'fused logits');
    const ops = fused.model.graph!.node!.map((n) => n.opType);
    expect(ops).not.toContain('LayerNormalization');
    expect(ops.filter((op) => op === 'Sqrt').length).toBe(13);
  });

  test('keep = 1 rotates every weight and still gives the dense logits', async () => {
    const result = await sliceModel(lm.model, lm.analysis, { keep: 1, rounding: 8, sliceHead: false }, gramSource(8));
    expect(result.width).toBe(128);
    const [dense, rotated] = [await logits(lm.bytes, evalSeqs, 64), await logits(writeModel(result.model), evalSeqs, 64)];
    expectClose(rotated, dense, { atol: 5e-4, rtol: 1e-4 }, 'rotated logits');
    expect(result.graph.shortcuts.map((s) => [s.rows, s.cols])).toEqual(new Array(12).fill([128, 128]));
  });

  test('sliceHead: the head reads the sliced stream too, and ORT runs the file', async () => {
    // A Gram with a known spectrum (diagonal, decreasing): Q keeps the first coordinates, so this
    // checks the rewrite's shapes without calibration sessions.
    const diagonal: GramSource = async (_model, _tensor, width) => Float64Array.from({ length: width * width }, (_, k) => (k % (width + 1) === 0 ? width - k / (width + 1) : 0));
    const result = await sliceModel(lm.model, lm.analysis, { keep: 0.5, rounding: 8, sliceHead: true }, diagonal);
    const analysis = analyzeModel(readModel(writeModel(result.model)));
    const head = analysis.linears.find((l) => l.role === 'head')!;
    expect([head.outFeatures, head.inFeatures]).toEqual([63, 64]);
    expect(result.graph.shortcuts.every((s) => s.rows === 64 && s.cols === 64)).toBe(true);
    const out = await logits(writeModel(result.model), evalSeqs, 16);
    expect(out.length).toBe(2 * 16 * 63);
    expect(out.every(Number.isFinite)).toBe(true);
  });
});
