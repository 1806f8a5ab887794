// Calibration statistics against a direct float64 computation on the same taps: the taps are
// fetched from the instrumented session separately, and H = 2/n·Σ x xᵀ, Σ x², max |x| and the
// mean attention are recomputed here with plain loops; the input sample holds distinct taps.
import { describe, expect, test } from 'vitest';
import { writeModel } from '../onnx/write.ts';
import { expectClose } from '../testing/expectClose.ts';
import { CpuStatsAccumulator, layerStatsFromSums } from './accumulator.ts';
import { calibrate, collectStats } from './collect.ts';
import { Cancelled } from '../job/cancel.ts';
import { calibrationFeeds } from './feeds.ts';
import { bundledModel, countingRunnerFactory, fixtureModel, openRunner, randomTokens } from './fixtures/models.ts';
import { instrumentModel } from './instrument.ts';
import { chooseSamples } from './random.ts';
import { TokenReservoir } from './reservoir.ts';
import { calibrationTarget } from './targets.ts';
import { toTokenRows } from './tokens.ts';

function directStats(rows: Float32Array[], channels: number) {
  const hessian = new Float64Array(channels * channels);
  const sqNorm = new Float64Array(channels);
  const maxAbs = new Float64Array(channels);
  let n = 0;
  for (const x of rows) {
    for (let t = 0; t < x.length / channels; t++) {
      n++;
      for (let i = 0; i < channels; i++) {
        const xi = x[t * channels + i];
        sqNorm[i] += xi * xi;
        maxAbs[i] = Math.max(maxAbs[i], Math.abs(xi));
        for (let j = 0; j < channels; j++) hessian[i * channels + j] += xi * x[t * channels + j];
      }
    }
  }
  return { n, hessian: hessian.map((h) => (2 * h) / n), sqNorm, maxAbs };
}

describe('collectStats on the digits ViT', () => {
  const vit = bundledModel('digits-vit');
  const layers = vit.analysis.linears.filter((l) => l.name === 'blocks.1.attn.out_proj' || l.name === 'blocks.2.mlp.fc2');
  const site = vit.analysis.attention[2];
  const samples = chooseSamples(128, 12, 7);

  test('LayerStats and mean attention equal a direct float64 computation on the taps', async () => {
    // q and k read the same LayerNorm output: they share one accumulator, and must still match.
    const tapped = [...vit.analysis.linears.filter((l) => l.name === 'blocks.1.attn.q_proj' || l.name === 'blocks.1.attn.k_proj'), ...layers];
    const model = instrumentModel(vit.model, { linearInputs: tapped, attention: [site] });
    const runner = await openRunner(writeModel(model));
    const targets = tapped.map((l) => calibrationTarget(vit.model, l));
    const stats = await collectStats(runner, vit.calib, targets, { sampleIndices: samples, batchSize: 5, attention: [site], inputSample: 100 });
    // The same samples, fetched in one batch, reduced here.
    const outputs = await runner.run(calibrationFeeds(vit.calib, samples, 'pixels'));
    await runner.release();
    expect(targets[0].inputs).toEqual(targets[1].inputs);
    for (const [i, layer] of tapped.entries()) {
      const x = toTokenRows(outputs[targets[i].inputs[0].tensor], -1, layer.inFeatures, layer.name);
      const direct = directStats([x.data], layer.inFeatures);
      const got = stats.layers.get(layer.id)!;
      expect(got.tokens).toBe(12 * 17);
      expectClose(got.hessian, direct.hessian, { atol: 1e-12, rtol: 1e-12 }, `${layer.name} hessian`);
      expectClose(got.sqNorm, direct.sqNorm, { atol: 0, rtol: 1e-13 }, `${layer.name} sqNorm`);
      expectClose(got.maxAbs, direct.maxAbs, { atol: 0, rtol: 0 }, `${layer.name} maxAbs`);
      // The input sample: 100 of the 204 tokens, each one of them, none twice.
      const sample = got.inputSample!;
      expect([sample.rows, sample.cols]).toEqual([100, layer.inFeatures]);
      const tokens = new Map(Array.from({ length: got.tokens }, (_, t) => [x.data.subarray(t * layer.inFeatures, (t + 1) * layer.inFeatures).join(), t]));
      const picked = Array.from({ length: sample.rows }, (_, r) => tokens.get(sample.data.subarray(r * sample.cols, (r + 1) * sample.cols).join()));
      expect(picked.every((t) => t !== undefined)).toBe(true);
      expect(new Set(picked).size).toBe(100);
    }
    // q and k read one LayerNorm output: one reservoir, one sample.
    expect(stats.layers.get(tapped[0].id)!.inputSample).toBe(stats.layers.get(tapped[1].id)!.inputSample);
    const probs = outputs[site.output].data as Float32Array;
    const mean = new Float64Array(4 * 17 * 17);
    for (let b = 0; b < 12; b++) for (let k = 0; k < mean.length; k++) mean[k] += probs[b * mean.length + k] / 12;
    const attention = stats.attention.get(site.softmaxNode)!;
    expect([attention.heads, attention.tokens, attention.samples]).toEqual([4, 17, 12]);
    expectClose(attention.meanProbabilities, mean, { atol: 1e-12, rtol: 1e-9 }, 'mean attention');
  });

  test('statistics do not depend on the batch size (bit for bit); progress and output samples', async () => {
    const { open, counts } = countingRunnerFactory();
    const progress: number[] = [];
    const run = (batchSize: number, inputSample: number) =>
      calibrate({
        model: vit.model,
        layers,
        tapOutputs: true,
        createRunner: open,
        dataset: vit.calib,
        options: { sampleIndices: samples, batchSize, outputSample: 50, inputSample, seed: 3, onProgress: (p) => progress.push(p.done) },
      });
    const [a, b, withoutInputs] = [await run(1, 40), await run(12, 40), await run(12, 0)];
    expect(counts).toEqual({ created: 3, released: 3 });
    for (const layer of layers) {
      const [x, y, z] = [a.layers.get(layer.id)!, b.layers.get(layer.id)!, withoutInputs.layers.get(layer.id)!];
      expect(Buffer.from(x.hessian.buffer).equals(Buffer.from(y.hessian.buffer))).toBe(true);
      expect(x.outputSample!.rows).toBe(50);
      expect(x.outputSample!.cols).toBe(layer.outFeatures);
      expect(x.outputSample!.data).toEqual(y.outputSample!.data);
      expect([x.inputSample!.rows, x.inputSample!.cols]).toEqual([40, layer.inFeatures]);
      expect(x.inputSample!.data).toEqual(y.inputSample!.data);
      // Input reservoirs draw from streams of their own: the output sample is the one without them.
      expect(z.inputSample).toBeUndefined();
      expect(z.outputSample!.data).toEqual(y.outputSample!.data);
    }
    expect(progress.slice(0, 13)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(progress.slice(13)).toEqual([0, 12, 0, 12]);
  });

  test('a cancel flag stops between batches and releases the session', async () => {
    const { open, counts } = countingRunnerFactory();
    const cancel = { aborted: false };
    const request = calibrate({
      model: vit.model,
      layers,
      createRunner: open,
      dataset: vit.calib,
      options: { sampleIndices: samples, batchSize: 2, cancel, onProgress: (p) => (cancel.aborted = p.done >= 4) },
    });
    await expect(request).rejects.toThrow(Cancelled);
    expect(counts).toEqual({ created: 1, released: 1 });
  });

  test('TAMP token selection gives a per-layer ‖X_j‖² over a subset of tokens', async () => {
    const block = layers[0].block!;
    const tokenSite = vit.analysis.attention.find((s) => s.block === block)!;
    const stats = await calibrate({
      model: vit.model,
      layers: [layers[0]],
      tapOutputs: true,
      createRunner: openRunner,
      dataset: vit.calib,
      options: { sampleIndices: samples.slice(0, 4), tokenSelection: new Map([[layers[0].id, { tensor: tokenSite.output }]]) },
    });
    const selected = stats.selectedSqNorm.get(layers[0].id)!;
    const all = stats.layers.get(layers[0].id)!.sqNorm;
    expect(selected.length).toBe(all.length);
    expect(selected.some((v, j) => v < all[j])).toBe(true);
    expect(selected.every((v, j) => v >= 0 && v <= all[j] * (1 + 1e-12))).toBe(true);
  });
});

describe('collectStats on a 2-D token layout', () => {
  test('GPT-2 Conv1D (Gemm on [batch·T, C]) gives batch·T tokens', async () => {
    const { model, analysis } = fixtureModel('gpt2');
    const layer = analysis.linears.find((l) => l.role === 'mlp.down')!;
    const data = randomTokens(3, 8, 48, 2);
    const stats = await calibrate({ model, layers: [layer], createRunner: openRunner, dataset: data, options: { sampleIndices: [0, 1, 2] } });
    expect(stats.layers.get(layer.id)!.tokens).toBe(24);
    expect(stats.layers.get(layer.id)!.hessian.length).toBe(layer.inFeatures ** 2);
  });
});

describe('CpuStatsAccumulator edge cases', () => {
  test('dead channels stay zero, NaN poisons maxAbs, no tokens gives zeros, Hessian optional', () => {
    const acc = new CpuStatsAccumulator({ channels: 3, hessian: true });
    acc.add(Float32Array.from([1, 0, -2, 3, 0, 4]), 2);
    const stats = layerStatsFromSums(acc.finish());
    expect(Array.from(stats.sqNorm)).toEqual([10, 0, 20]);
    expect(Array.from(stats.maxAbs)).toEqual([3, 0, 4]);
    expect(Array.from(stats.hessian)).toEqual([10, 0, 10, 0, 0, 0, 10, 0, 20]); // 2/2 · Σ x xᵀ
    const poisoned = new CpuStatsAccumulator({ channels: 1, hessian: false });
    poisoned.add(Float32Array.from([1, NaN, 2]), 3);
    const sums = poisoned.finish();
    expect(Number.isNaN(sums.maxAbs[0])).toBe(true);
    expect(sums.gram).toBeUndefined();
    expect(layerStatsFromSums(new CpuStatsAccumulator({ channels: 2, hessian: true }).finish()).hessian).toEqual(new Float64Array(4));
    expect(() => acc.add(new Float32Array(4), 2)).toThrow(/4 values for 2 tokens x 3 channels/);
  });
});

describe('seeded sampling', () => {
  test('chooseSamples: distinct, deterministic, seed-dependent, bounded', () => {
    const a = chooseSamples(64, 32, 0);
    expect(new Set(a).size).toBe(32);
    expect(a.every((i) => i >= 0 && i < 64)).toBe(true);
    expect(chooseSamples(64, 32, 0)).toEqual(a);
    expect(chooseSamples(64, 32, 1)).not.toEqual(a);
    expect(chooseSamples(5, 5, 9).slice().sort()).toEqual([0, 1, 2, 3, 4]);
    expect(() => chooseSamples(5, 6, 0)).toThrow(/cannot draw 6 samples from a set of 5/);
    expect(() => chooseSamples(5, 0, 0)).toThrow();
  });
  test('TokenReservoir keeps a uniform, seeded subsample', () => {
    const offer = (seed: number) => {
      const reservoir = new TokenReservoir(100, 1, seed);
      for (let chunk = 0; chunk < 10; chunk++) reservoir.add(Float32Array.from({ length: 100 }, (_, i) => chunk * 100 + i), 100);
      return Array.from(reservoir.sample().data);
    };
    const kept = offer(5);
    expect(offer(5)).toEqual(kept);
    expect(new Set(kept).size).toBe(100);
    // Uniform over 1000 offered tokens: about a tenth of each hundred survives.
    const late = kept.filter((v) => v >= 500).length;
    expect(late).toBeGreaterThan(30);
    expect(late).toBeLessThan(70);
    const small = new TokenReservoir(10, 2, 0);
    small.add(Float32Array.from([1, 2, 3, 4]), 2);
    expect(small.sample()).toEqual({ rows: 2, cols: 2, data: Float32Array.from([1, 2, 3, 4]) });
  });
});
