// The paired bootstrap against fixtures/bootstrap.json (same seeded resampling and percentile
// rule written independently in numpy), statistical sanity on synthetic pairs, and the bundled LM
// through onnxruntime-web: dense vs a 50 % magnitude-pruned copy, and dense vs itself.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { bundledModel, openRunner } from '../calibrate/fixtures/models.ts';
import { mulberry32 } from '../calibrate/random.ts';
import { compressModel } from '../compress/pipeline.ts';
import { parseRecipe } from '../recipe/parse.ts';
import { expectClose } from '../testing/expectClose.ts';
import { pairedBootstrap, percentileSorted, type PairedMetric } from './bootstrap.ts';
import { evaluateWithSamples } from './evaluate.ts';
import type { ClassifierSampleValues, LmSampleValues, SampleValues } from './samples.ts';

interface FixtureValues {
  nll: number[];
  tokens?: number[];
  correct?: number[];
}
interface FixtureCase {
  name: string;
  task: SampleValues['task'];
  baseline: FixtureValues;
  candidate: FixtureValues;
  metric: PairedMetric;
  resamples: number;
  seed: number;
  level: number;
  expected: { delta: number; low: number; high: number; withinNoise: boolean };
}
const fixture = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures/bootstrap.json'), 'utf8')) as {
  mulberry32: Record<string, number[]>;
  cases: FixtureCase[];
};

function values(task: 'causal-lm' | 'image-classification', v: FixtureValues): SampleValues {
  return task === 'causal-lm'
    ? { task, nll: Float64Array.from(v.nll), tokens: Int32Array.from(v.tokens!) }
    : { task, nll: Float64Array.from(v.nll), correct: Uint8Array.from(v.correct!) };
}

const tight = { atol: 1e-12, rtol: 1e-12 };

describe('pairedBootstrap matches the numpy reference', () => {
  test("the Python port of mulberry32 draws the lab's numbers", () => {
    for (const [seed, draws] of Object.entries(fixture.mulberry32)) {
      const random = mulberry32(Number(seed));
      expect(draws.map(() => random())).toEqual(draws);
    }
  });

  test.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const result = pairedBootstrap(values(c.task as 'causal-lm' | 'image-classification', c.baseline), values(c.task as 'causal-lm' | 'image-classification', c.candidate), { metric: c.metric, resamples: c.resamples, seed: c.seed, level: c.level });
    expectClose([result.delta, result.low, result.high], [c.expected.delta, c.expected.low, c.expected.high], tight);
    expect(result.withinNoise).toBe(c.expected.withinNoise);
    expect(result.resamples).toBe(c.resamples);
  });

  test("percentiles interpolate linearly between order statistics (numpy's default)", () => {
    const sorted = Float64Array.from([1, 2, 4, 8]);
    expect(percentileSorted(sorted, 0)).toBe(1);
    expect(percentileSorted(sorted, 1)).toBe(8);
    expect(percentileSorted(sorted, 0.5)).toBe(3);
    expect(percentileSorted(sorted, 0.025)).toBeCloseTo(1.075, 14);
  });
});

/** n sequences of 128 tokens with per-token NLL around `rate`, seeded. */
function syntheticLm(n: number, seed: number, rate: (i: number, u: number) => number): LmSampleValues {
  const random = mulberry32(seed);
  const tokens = new Int32Array(n).fill(128);
  return { task: 'causal-lm', nll: Float64Array.from({ length: n }, (_, i) => 128 * rate(i, random())), tokens };
}

describe('pairedBootstrap: statistical sanity', () => {
  const base = syntheticLm(32, 1, (_, u) => 1.0 + 0.5 * u);

  test('a model against itself: delta 0, interval [0, 0], within noise', () => {
    const r = pairedBootstrap(base, base);
    expect([r.delta, r.low, r.high, r.withinNoise]).toEqual([0, 0, 0, true]);
  });

  test('a model better on every sequence: the interval lies below 0', () => {
    const better = { ...base, nll: base.nll.map((x) => x * 0.97) };
    const r = pairedBootstrap(base, better);
    expect(r.delta).toBeLessThan(0);
    expect(r.high).toBeLessThan(0);
    expect(r.low).toBeLessThanOrEqual(r.delta);
    expect(r.withinNoise).toBe(false);
  });

  test('a zero-mean per-sequence jitter stays within noise; the same seed gives the same interval', () => {
    const jitter = syntheticLm(32, 2, (i, u) => base.nll[i] / 128 + 0.02 * (u - 0.5));
    const r = pairedBootstrap(base, jitter, { seed: 5 });
    expect(r.withinNoise).toBe(true);
    expect(pairedBootstrap(base, jitter, { seed: 5 })).toEqual(r);
    expect(pairedBootstrap(base, jitter, { seed: 6 }).low).not.toBe(r.low);
  });

  test('classifier top-1: 10 more right answers out of 100 and none lost is outside noise', () => {
    const n = 100;
    const a: ClassifierSampleValues = { task: 'image-classification', correct: Uint8Array.from({ length: n }, (_, i) => (i % 10 < 8 ? 1 : 0)), nll: new Float64Array(n) };
    const b: ClassifierSampleValues = { ...a, correct: a.correct.map((c, i) => (i % 10 === 8 ? 1 : c)) };
    const r = pairedBootstrap(a, b);
    expect(r.delta).toBeCloseTo(0.1, 12);
    expect(r.low).toBeGreaterThan(0);
  });

  test('refuses unpaired or mismatched inputs', () => {
    expect(() => pairedBootstrap(base, syntheticLm(31, 1, () => 1))).toThrow(/same set/);
    expect(() => pairedBootstrap(base, { ...base, tokens: base.tokens.map((t, i) => (i === 3 ? t - 1 : t)) })).toThrow(/token counts/);
    expect(() => pairedBootstrap(base, base, { metric: 'top1' })).toThrow(/classifier/);
    expect(() => pairedBootstrap(base, base, { resamples: 1 })).toThrow(RangeError);
  });
});

describe('pairedBootstrap on the bundled LM (onnxruntime-web)', () => {
  const lm = bundledModel('kjv-charlm');
  const evalSamples = async (bytes: Uint8Array) => {
    const runner = await openRunner(bytes);
    try {
      return await evaluateWithSamples(runner, lm.eval);
    } finally {
      await runner.release();
    }
  };

  test('dense vs 50 % magnitude pruning excludes 0; dense vs itself is delta 0 within noise', async () => {
    const recipe = parseRecipe({ version: 2, stages: [{ kind: 'prune', method: 'magnitude', magnitudeScope: 'layer', pattern: 'unstructured', sparsity: 0.5 }] });
    const { bytes } = await compressModel({ model: lm.model, analysis: lm.analysis, recipe });
    const dense = await evalSamples(lm.bytes);
    const denseAgain = await evalSamples(lm.bytes);
    const pruned = await evalSamples(bytes);
    if (dense.metrics.task !== 'causal-lm' || pruned.metrics.task !== 'causal-lm') throw new Error('expected an LM');

    // The per-sequence values sum to the same perplexity evaluate() reports.
    const samples = dense.samples as LmSampleValues;
    const total = samples.nll.reduce((s, x) => s + x, 0) / samples.tokens.reduce((s, t) => s + t, 0);
    expectClose([Math.exp(total)], [dense.metrics.perplexity], tight);
    expect(samples.tokens.reduce((s, t) => s + t, 0)).toBe(dense.metrics.evalTokens);

    const self = pairedBootstrap(dense.samples, denseAgain.samples);
    expect(self.delta).toBe(0);
    expect(self.withinNoise).toBe(true);

    const harm = pairedBootstrap(dense.samples, pruned.samples);
    expectClose([harm.delta], [pruned.metrics.perplexity - dense.metrics.perplexity], tight);
    console.log(`[bootstrap] kjv-charlm perplexity dense ${dense.metrics.perplexity.toFixed(4)}, magnitude 50 % ${pruned.metrics.perplexity.toFixed(4)}: Δ ${harm.delta.toFixed(4)} [${harm.low.toFixed(4)}, ${harm.high.toFixed(4)}] (95 %, B = ${harm.resamples}, ${harm.samples} sequences)`);
    expect(harm.low).toBeGreaterThan(0);
    expect(harm.withinNoise).toBe(false);
  }, 60_000);
});
