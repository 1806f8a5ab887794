// searchHeads against synthetic score functions whose head effects are known: additive effects
// plus one harmful interaction, so the expected selection and evaluation count follow by hand.
import { describe, expect, test } from 'vitest';
import { Cancelled } from '../job/cancel.ts';
import type { Progress } from '../job/progress.ts';
import { bundledModel } from '../calibrate/fixtures/models.ts';
import { mulberry32 } from '../calibrate/random.ts';
import { pairedBootstrap } from '../eval/bootstrap.ts';
import type { ClassifierSampleValues } from '../eval/samples.ts';
import { attentionLayers, maxTogetherEvaluations, referenceSkipLayers, searchHeads, siteSelections, type HeadId, type SetScore } from './headSearch.ts';

const layers = Array.from({ length: 6 }, (_, layer) => ({ layer, heads: 4 }));
const key = (h: HeadId) => `${h.layer}.${h.head}`;

/**
 * Baseline 2. Alone: 2.1 −0.3, 3.0 −0.2, 4.3 −0.1, 3.2 −0.05; 0.0 −1 and 5.1 −0.5 (in layers the
 * reference skips); 2.2 +0.05; the rest 0 (no change: not kept). 2.1 with 3.2 costs +0.4.
 */
const effects: Record<string, number> = { '2.1': -0.3, '3.0': -0.2, '4.3': -0.1, '3.2': -0.05, '0.0': -1, '5.1': -0.5, '2.2': 0.05 };
function syntheticScore() {
  const calls: string[][] = [];
  const score = async (heads: readonly HeadId[]) => {
    const keys = heads.map(key);
    calls.push(keys);
    let s = 2;
    for (const k of keys) s += effects[k] ?? 0;
    if (keys.includes('2.1') && keys.includes('3.2')) s += 0.4;
    return s;
  };
  return { score, calls };
}

describe('searchHeads', () => {
  test('keeps heads that help alone, then drops the one whose interaction hurts the union', async () => {
    const { score, calls } = syntheticScore();
    const r = await searchHeads({ layers, score });
    expect(r.skippedLayers).toEqual([0, 1, 5]);
    expect(r.baseline).toBe(2);
    expect(r.alone.map((a) => key(a.head))).toEqual(['2.0', '2.1', '2.2', '2.3', '3.0', '3.1', '3.2', '3.3', '4.0', '4.1', '4.2', '4.3']);
    expect(r.alone.find((a) => key(a.head) === '2.2')).toMatchObject({ improves: false });
    expect(r.alone.find((a) => key(a.head) === '2.1')!.delta).toBeCloseTo(-0.3, 12);
    expect(r.kept.map(key)).toEqual(['2.1', '3.0', '3.2', '4.3']);
    expect(r.keptScore).toBeCloseTo(2 - 0.65 + 0.4, 12);
    expect(r.drops.map((d) => key(d.head))).toEqual(['3.2']);
    expect(r.selected.map(key)).toEqual(['2.1', '3.0', '4.3']);
    expect(r.score).toBeCloseTo(1.4, 12);
    // baseline + 12 alone + union + 4 subsets of 3 + 3 subsets of 2 (fresh); no set twice.
    expect(r.evaluations).toBe(1 + 12 + 1 + 4 + 3);
    expect(calls.length).toBe(r.evaluations);
    expect(new Set(calls.map((c) => c.join(','))).size).toBe(calls.length);
    // Skipped layers never reach the score function.
    expect(calls.flat().some((k) => ['0', '1', '5'].includes(k.split('.')[0]))).toBe(false);
  });

  test('with no skips the strong heads in the first and last layers are found', async () => {
    const { score } = syntheticScore();
    const r = await searchHeads({ layers, score, skipLayers: [] });
    expect(r.alone).toHaveLength(24);
    expect(r.selected.map(key)).toEqual(['0.0', '2.1', '3.0', '4.3', '5.1']);
    expect(r.score).toBeCloseTo(2 - 2.1, 12);
  });

  test('when no head helps alone nothing is selected and the score is the baseline', async () => {
    let calls = 0;
    const r = await searchHeads({ layers, score: async (heads) => (calls++, 3 + 0.01 * heads.length) });
    expect(r.kept).toEqual([]);
    expect(r.keptScore).toBeNull();
    expect(r.selected).toEqual([]);
    expect(r.score).toBe(3);
    expect(r.evaluations).toBe(13);
    expect(calls).toBe(13);
  });

  test('a union worse than the baseline can be pruned to a single head', async () => {
    // Two heads that help alone (−0.1 each) but together cost +1: keep the better one.
    const score = async (heads: readonly HeadId[]) => {
      const ks = heads.map(key);
      return 1 - (ks.includes('2.0') ? 0.1 : 0) - (ks.includes('2.1') ? 0.12 : 0) + (ks.length === 2 ? 1 : 0);
    };
    const r = await searchHeads({ layers: [{ layer: 2, heads: 2 }], skipLayers: [], score });
    expect(r.selected.map(key)).toEqual(['2.1']);
    expect(r.score).toBeCloseTo(0.88, 12);
    expect(r.evaluations).toBe(4);
  });

  test('reports progress up to an upper bound, ending with done = total = evaluations', async () => {
    const { score } = syntheticScore();
    const seen: Progress[] = [];
    const r = await searchHeads({ layers, score, onProgress: (p) => seen.push(p) });
    expect(seen[0]).toMatchObject({ phase: 'attention-search', done: 0, total: 13 });
    for (let i = 1; i < seen.length; i++) expect(seen[i].done).toBeGreaterThanOrEqual(seen[i - 1].done);
    seen.forEach((p) => expect(p.done).toBeLessThanOrEqual(p.total));
    // After step 1, the bound for 4 kept heads: union + 4 + 3 = 8.
    expect(seen.find((p) => p.done === 14)!.total).toBe(13 + maxTogetherEvaluations(4));
    expect(seen.at(-1)).toMatchObject({ done: r.evaluations, total: r.evaluations });
  });

  test('stops with Cancelled at the next evaluation once cancelled', async () => {
    const { score, calls } = syntheticScore();
    const cancel = { aborted: false };
    const run = searchHeads({ layers, score, cancel, onProgress: (p) => (cancel.aborted = p.done >= 5) });
    await expect(run).rejects.toBeInstanceOf(Cancelled);
    expect(calls.length).toBe(5);
  });

  test('refuses a layer listed twice, a layer without heads, and a NaN score', async () => {
    const score = async () => 1;
    await expect(searchHeads({ layers: [{ layer: 2, heads: 4 }, { layer: 2, heads: 4 }], score })).rejects.toThrow(/listed twice/);
    await expect(searchHeads({ layers: [{ layer: 2, heads: 0 }], score })).rejects.toThrow(RangeError);
    await expect(searchHeads({ layers, score: async (h) => (h.length ? NaN : 1) })).rejects.toThrow(/NaN/);
  });

  test('reference skips and the bundled models: the LM searches 12 heads in layers 2–4, the ViT 4 in layer 2', () => {
    expect(referenceSkipLayers(layers)).toEqual([0, 1, 5]);
    expect(referenceSkipLayers([{ layer: 0, heads: 2 }, { layer: 1, heads: 2 }])).toEqual([0, 1]);
    const lm = attentionLayers(bundledModel('kjv-charlm').analysis.attention);
    expect(lm).toEqual(Array.from({ length: 6 }, (_, layer) => ({ layer, heads: 4 })));
    expect(referenceSkipLayers(lm)).toEqual([0, 1, 5]);
    const vit = attentionLayers(bundledModel('digits-vit').analysis.attention);
    expect(vit).toEqual(Array.from({ length: 4 }, (_, layer) => ({ layer, heads: 4 })));
    expect(referenceSkipLayers(vit)).toEqual([0, 1, 3]);
  });

  test('a selection maps back to the attention sites of the bundled LM for the graph rewrite', () => {
    const sites = bundledModel('kjv-charlm').analysis.attention;
    const picked = siteSelections(sites, [{ layer: 4, head: 3 }, { layer: 2, head: 2 }, { layer: 2, head: 0 }]);
    expect(picked.map((p) => [p.site.softmaxNode, p.heads])).toEqual([
      [sites.find((s) => s.block === 2)!.softmaxNode, [0, 2]],
      [sites.find((s) => s.block === 4)!.softmaxNode, [3]],
    ]);
    expect(() => siteSelections(sites, [{ layer: 9, head: 0 }])).toThrow(/no attention site/);
    expect(() => siteSelections(sites, [{ layer: 2, head: 4 }])).toThrow(RangeError);
  });
});

// ---- the noise guard -------------------------------------------------------------------------

const SAMPLES = 16;

/** n standard normal draws (Box–Muller on mulberry32), shifted so their sample mean is exactly 0. */
function centredNoise(seed: number, n: number): Float64Array {
  const random = mulberry32(seed);
  const z = Float64Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));
  const mean = z.reduce((a, b) => a + b, 0) / n;
  return z.map((v) => v - mean);
}

const seedOf = (text: string) => [...text].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0, 7);

/**
 * Per-sample NLLs of a set: a fixed per-sample baseline, plus the set's gain `effect` on every
 * sample, plus noise of standard deviation `sd` drawn for that set and centred, so the set's mean
 * change against the baseline is exactly `effect` and the noise only widens its interval.
 */
function perSampleScore(effect: (keys: string[]) => number, sd: (keys: string[]) => number) {
  const base = Float64Array.from(centredNoise(1, SAMPLES), (v) => 2 + 0.3 * v);
  return async (heads: readonly HeadId[]): Promise<SetScore> => {
    const keys = heads.map(key);
    const noise = centredNoise(seedOf(keys.join(',')), SAMPLES);
    const nll = base.map((b, i) => b + (keys.length === 0 ? 0 : effect(keys) + sd(keys) * noise[i]));
    const samples: ClassifierSampleValues = { task: 'image-classification', correct: new Uint8Array(SAMPLES), nll };
    return { mean: nll.reduce((a, b) => a + b, 0) / SAMPLES, samples };
  };
}

describe('searchHeads with the interval guard', () => {
  // Every head "gains" 0.002 nats — a tenth of the standard error of noise with sd 0.1 on 16
  // samples (0.025): what the strict rule takes for an improvement.
  const noiseOnly = perSampleScore(() => -0.002, () => 0.1);

  test('per-sample noise: the strict rule selects heads, the guard selects none', async () => {
    const strict = await searchHeads({ layers, score: noiseOnly, guard: 'none' });
    expect(strict.selected.length).toBeGreaterThan(0);
    expect(strict.alone.every((a) => a.improves)).toBe(true);
    const guarded = await searchHeads({ layers, score: noiseOnly, guard: 'interval', intervals: { seed: 3 } });
    expect(guarded.alone.some((a) => a.improves)).toBe(false);
    expect(guarded.kept).toEqual([]);
    expect(guarded.selected).toEqual([]);
    expect(guarded.score).toBe(guarded.baseline);
    expect(guarded.guard).toBe('interval');
    // Each interval is the paired bootstrap of that head's samples against the baseline's.
    const base = await noiseOnly([]);
    const head = guarded.alone[5];
    const expected = pairedBootstrap(base.samples, (await noiseOnly([head.head])).samples, { metric: 'meanNll', seed: 3 });
    expect(head.interval).toEqual({ low: expected.low, high: expected.high });
    expect(head.interval!.low).toBeLessThan(0);
    expect(head.interval!.high).toBeGreaterThan(0);
    // The strict rule keeps its intervals too (for the report), they just do not decide.
    expect(strict.alone.every((a) => a.interval !== null)).toBe(true);
  });

  test('a clear effect is still selected, next to noise heads', async () => {
    // Head 3.1 gains 0.1 nats (4 standard errors); the others are the noise above.
    const score = perSampleScore((keys) => (keys.includes('3.1') ? -0.1 : -0.002), () => 0.1);
    const r = await searchHeads({ layers, score, guard: 'interval', intervals: { seed: 3 } });
    expect(r.alone.filter((a) => a.improves).map((a) => key(a.head))).toEqual(['3.1']);
    expect(r.alone.find((a) => key(a.head) === '3.1')!.interval!.high).toBeLessThan(0);
    expect(r.selected.map(key)).toEqual(['3.1']);
    expect(r.finalInterval!.high).toBeLessThan(0);
  });

  test('a drop needs its own interval below 0; a final set no measurably better than the baseline is not selected', async () => {
    const two = [{ layer: 2, heads: 2 }];
    // Alone each head gains 0.1 (sd 0.1: clear); together they gain 0.05 with sd 0.3 — against
    // either head alone (+0.05) and against the baseline (−0.05) within noise.
    const score = perSampleScore((keys) => (keys.length === 2 ? -0.05 : -0.1), (keys) => (keys.length === 2 ? 0.3 : 0.1));
    const guarded = await searchHeads({ layers: two, skipLayers: [], score, guard: 'interval', intervals: { seed: 0 } });
    expect(guarded.kept.map(key)).toEqual(['2.0', '2.1']);
    expect(guarded.drops).toEqual([]);
    expect(guarded.finalSet.map(key)).toEqual(['2.0', '2.1']);
    expect(guarded.finalInterval!.high).toBeGreaterThan(0);
    expect(guarded.selected).toEqual([]);
    expect(guarded.score).toBe(guarded.baseline);
    // The strict rule drops to the better single head (0.1 < 0.05 in mean).
    const strict = await searchHeads({ layers: two, skipLayers: [], score, guard: 'none' });
    expect(strict.selected).toHaveLength(1);
    expect(strict.drops[0].interval!.high).toBeGreaterThan(0);
  });

  test('the interval guard refuses a score without per-sample values', async () => {
    await expect(searchHeads({ layers, score: async () => 1, guard: 'interval' })).rejects.toThrow(/per-sample values/);
  });
});
