// The WebGPU accumulator against the CPU reference on the same taps: synthetic batches with a
// dead channel and a NaN, and the real taps of the digits ViT through collectStats.
//
// Bound: the CPU sums in f64 (products of f32 are exact, error ~n·2⁻⁵³, negligible); the GPU
// kernel sums each entry sequentially in f32, one rounding per token and one per add() into the
// accumulator. Higham: |error| ≤ γ_(n+adds) · Σ_t |x_ta x_tb| ≤ γ_(n+adds) · max_j Σ_t x_tj²
// (Cauchy–Schwarz), so the Gram atol is that, data-scaled; Σ x² has only non-negative terms, so
// rtol γ_(n+adds); max|x| involves no arithmetic and must be exact.
import { expect, test } from 'vitest';
import { writeModel } from '../onnx/write.ts';
import { describeGpu } from '../gpu/testing/describeGpu';
import { gammaF32, normalArray } from '../gpu/testing/random';
import { expectClose } from '../testing/expectClose.ts';
import { CpuStatsAccumulator, type AccumulatorFactory, type InputSums } from './accumulator.ts';
import { collectStats } from './collect.ts';
import { bundledModel, openRunner } from './fixtures/models.ts';
import { gpuAccumulatorFactory } from './gpuAccumulator.ts';
import { instrumentModel } from './instrument.ts';
import { chooseSamples } from './random.ts';
import { calibrationTarget } from './targets.ts';

const maxFinite = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => (Number.isFinite(v) ? Math.max(m, v) : m), 0);

function expectSumsClose(got: InputSums, ref: InputSums, adds: number, label: string): { gramError: number; bound: number } {
  expect(got.tokens).toBe(ref.tokens);
  const gamma = gammaF32(ref.tokens + adds);
  const bound = gamma * maxFinite(ref.sqNorm);
  expectClose(got.gram!, ref.gram!, { atol: bound, rtol: 0 }, `${label}: gram`);
  expectClose(got.sqNorm, ref.sqNorm, { atol: 0, rtol: gamma }, `${label}: sqNorm`);
  expectClose(got.maxAbs, ref.maxAbs, { atol: 0, rtol: 0 }, `${label}: maxAbs`);
  let gramError = 0;
  for (let i = 0; i < ref.gram!.length; i++) if (Number.isFinite(ref.gram![i])) gramError = Math.max(gramError, Math.abs(got.gram![i] - ref.gram![i]));
  return { gramError, bound };
}

describeGpu('GPU stats accumulator vs CpuStatsAccumulator', (gpu) => {
  test('three batches, dead channel 17, a NaN in channel 3: same sums within the f32 bound', async () => {
    const C = 70;
    const batches = [5, 19, 1].map((tokens, i) => ({ tokens, x: normalArray(tokens * C, 60 + i, 3) }));
    for (const b of batches) for (let t = 0; t < b.tokens; t++) b.x[t * C + 17] = 0;
    batches[1].x[4 * C + 3] = NaN;
    const cpu = new CpuStatsAccumulator({ channels: C, hessian: true });
    const gpuAcc = gpuAccumulatorFactory(gpu())({ layerId: 'synthetic', channels: C, hessian: true });
    for (const b of batches) {
      cpu.add(b.x, b.tokens);
      await gpuAcc.add(b.x, b.tokens);
    }
    const ref = cpu.finish();
    const got = await gpuAcc.finish();
    const { gramError, bound } = expectSumsClose(got, ref, batches.length, 'synthetic');
    console.info(`[gpu accumulator] synthetic 25 tokens × 70: max |Δgram| ${gramError.toExponential(2)} vs bound ${bound.toExponential(2)}`);
    // The dead channel is exactly zero (SparseGPT's dead-channel rule reads H_jj == 0).
    expect(got.sqNorm[17]).toBe(0);
    expect(got.maxAbs[17]).toBe(0);
    for (let j = 0; j < C; j++) expect(got.gram![17 * C + j] === 0 || Number.isNaN(got.gram![17 * C + j])).toBe(true);
    expect(got.gram![17 * C + 17]).toBe(0);
    // NaN poisons channel 3's row, column, Σ x² and max|x|, and nothing else.
    expect(got.sqNorm[3]).toBeNaN();
    expect(got.maxAbs[3]).toBeNaN();
    for (let j = 0; j < C; j++) {
      expect(got.gram![3 * C + j]).toBeNaN();
      expect(got.gram![j * C + 3]).toBeNaN();
    }
    expect(got.sqNorm.filter(Number.isNaN).length).toBe(1);
  });

  test('without a Hessian: no gram, the channel statistics still agree', async () => {
    const x = normalArray(9 * 5, 70);
    const cpu = new CpuStatsAccumulator({ channels: 5, hessian: false });
    const gpuAcc = gpuAccumulatorFactory(gpu())({ layerId: 'wanda', channels: 5, hessian: false });
    cpu.add(x, 9);
    await gpuAcc.add(x, 9);
    const [ref, got] = [cpu.finish(), await gpuAcc.finish()];
    expect(got.gram).toBeUndefined();
    expectClose(got.sqNorm, ref.sqNorm, { atol: 0, rtol: gammaF32(10) }, 'sqNorm');
    expectClose(got.maxAbs, ref.maxAbs, { atol: 0, rtol: 0 }, 'maxAbs');
    await expect(gpuAcc.finish()).rejects.toThrow(/twice/);
  });

  test('collectStats on the digits ViT: the same LayerStats as the CPU accumulator within the bound', async () => {
    const vit = bundledModel('digits-vit');
    const layers = vit.analysis.linears.filter((l) => l.name === 'blocks.1.attn.q_proj' || l.name === 'blocks.1.attn.k_proj' || l.name === 'blocks.2.mlp.fc2');
    const targets = layers.map((l) => calibrationTarget(vit.model, l));
    const runner = await openRunner(writeModel(instrumentModel(vit.model, { linearInputs: layers })));
    const samples = chooseSamples(128, 12, 7);
    // Count add() calls per accumulator: each is one more f32 rounding in the GPU's sums.
    const adds = new Map<string, number>();
    const counting: AccumulatorFactory = (spec) => {
      const inner = gpuAccumulatorFactory(gpu())(spec);
      adds.set(spec.layerId, 0);
      return { channels: inner.channels, add: (x, t) => (adds.set(spec.layerId, adds.get(spec.layerId)! + 1), inner.add(x, t)), finish: () => inner.finish() };
    };
    try {
      const options = { sampleIndices: samples, batchSize: 5 };
      const cpu = await collectStats(runner, vit.calib, targets, options);
      const got = await collectStats(runner, vit.calib, targets, { ...options, accumulatorFactory: counting });
      for (const layer of layers) {
        const [r, g] = [cpu.layers.get(layer.id)!, got.layers.get(layer.id)!];
        const n = r.tokens;
        // γ grows with the count, so the largest add() count of any accumulator bounds every layer.
        const addCount = Math.max(...adds.values());
        const gamma = gammaF32(n + addCount);
        // LayerStats holds H = 2/n·gram: the bound scales with it.
        const bound = gamma * (2 / n) * maxFinite(r.sqNorm);
        expect(g.tokens).toBe(n);
        expectClose(g.hessian, r.hessian, { atol: bound, rtol: 0 }, `${layer.name}: H`);
        expectClose(g.sqNorm, r.sqNorm, { atol: 0, rtol: gamma }, `${layer.name}: sqNorm`);
        expectClose(g.maxAbs, r.maxAbs, { atol: 0, rtol: 0 }, `${layer.name}: maxAbs`);
        let worst = 0;
        for (let i = 0; i < r.hessian.length; i++) worst = Math.max(worst, Math.abs(g.hessian[i] - r.hessian[i]));
        console.info(`[gpu accumulator] ${layer.name}: ${n} tokens, max |ΔH| ${worst.toExponential(2)} = ${((100 * worst) / bound).toFixed(1)} % of bound ${bound.toExponential(2)}`);
      }
      expect(adds.size).toBe(2); // q and k share an accumulator
    } finally {
      await runner.release();
    }
  });
});
