// TAMP against G-JWLee/TAMP (fixtures/tamp.json): output diversity, the keep-budget allocation
// and AMIA token selection.
import { describe, expect, test } from 'vitest';
import { meanOutputDiversity, tampAllocation } from './tamp.ts';
import { lastQueryAttention, selectRepresentativeTokens, sqNormOverTokens } from './amia.ts';
import { keepBits, readFixture, type TampFixture, type TokenMatrix } from '../fixtures/load.ts';
import { expectClose } from '../../testing/expectClose.ts';
import type { Matrix } from '../types.ts';

const fixture = readFixture<TampFixture>('tamp.json');
const tokens = (t: TokenMatrix): Matrix => ({ rows: t.rows, cols: t.cols, data: Float32Array.from(t.data) });

const weightedMean = (sparsity: number[], counts: number[]) =>
  sparsity.reduce((sum, s, i) => sum + s * counts[i], 0) / counts.reduce((sum, n) => sum + n, 0);

describe('TAMP diversity matches ActivationDensity / cos_pairwise_*density', () => {
  test.each(fixture.diversity.map((d, i) => [i, d] as const))('layer %s', (_, d) => {
    const samples = d.samples.map((s) => ({ outputs: tokens(s), visionTokens: s.vision === undefined ? undefined : keepBits(s.vision) }));
    // Similarities are float32 in the reference, float64 here.
    expectClose([meanOutputDiversity(samples)], [d.diversity], { atol: 1e-6, rtol: 1e-5 }, 'diversity');
  });

  test('more spread-out outputs are more diverse', () => {
    const single = fixture.diversity.slice(0, 4).map((d) => d.diversity);
    for (let i = 1; i < single.length; i++) expect(single[i]).toBeGreaterThan(single[i - 1]);
  });
});

describe('TAMP allocation matches compute_the_sparsity_per_group', () => {
  test.each(fixture.allocations.map((a, i) => [i, a.target, a] as const))('case %s at S = %s', (_, target, a) => {
    const sparsity = tampAllocation(a.scores, a.paramCounts, target);
    // The reference fills integer budgets with ceil (and a fix-up that overshoots by a few
    // parameters); the exact real-valued fill differs by a few parameters per layer (< 1e-4).
    expectClose(sparsity, a.sparsity, { atol: 1e-4, rtol: 0 }, 'sparsity per layer');
    expect(Math.abs(weightedMean(sparsity, a.paramCounts) - target)).toBeLessThan(1e-9);
    for (const s of sparsity) {
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(a.maxSparsityPerLayer + 1e-12);
    }
  });

  test('no diversity anywhere gives the uniform allocation; a bad input is refused', () => {
    expect(tampAllocation([0, 0], [10, 30], 0.4)).toEqual([0.4, 0.4]);
    expect(() => tampAllocation([1, NaN], [10, 30], 0.4)).toThrow(/diversity\[1\] = NaN/);
    expect(() => tampAllocation([1], [10, 30], 0.4)).toThrow(/1 diversities for 2 layers/);
    expect(() => tampAllocation([1, 2], [10, 30], 1)).toThrow(/target sparsity must be in/);
  });
});

describe('AMIA token selection matches AdaptiveMultimodalInputActivation', () => {
  test.each(fixture.amia.map((a) => [a.vision ? 'two modalities' : 'one modality', a] as const))('%s', (_, a) => {
    const selection = selectRepresentativeTokens(tokens(a.outputs), a.attention, a.vision ? keepBits(a.vision) : undefined);
    expect(selection.selected).toEqual(a.order);
    expectClose([selection.density, selection.threshold], [a.density, a.threshold], { atol: 1e-6, rtol: 1e-5 }, 'density, threshold');
    expectClose(selection.mmd2, a.mmd2, { atol: 1e-6, rtol: 1e-4 }, 'MMD² trace');
  });

  test('identical tokens (density 1) stop once every token is selected instead of looping forever', () => {
    const same: Matrix = { rows: 4, cols: 2, data: Float32Array.of(1, 1, 1, 1, 1, 1, 1, 1) };
    const selection = selectRepresentativeTokens(same, [0.1, 0.2, 0.3, 0.4]);
    expect(selection.selected.length).toBeGreaterThanOrEqual(1);
    expect(selection.selected.length).toBeLessThanOrEqual(4);
    expect(selection.selected[0]).toBe(3);
  });

  test('attention received from the last query, averaged over heads; sqNorm over selected tokens', () => {
    // 2 heads, 2 tokens: last rows [0.25, 0.75] and [0.5, 0.5].
    const probabilities = Float32Array.of(1, 0, 0.25, 0.75, 1, 0, 0.5, 0.5);
    expect(Array.from(lastQueryAttention(probabilities, 2, 2))).toEqual([0.375, 0.625]);
    const inputs: Matrix = { rows: 3, cols: 2, data: Float32Array.of(1, 2, 3, 4, 5, 6) };
    expect(Array.from(sqNormOverTokens(inputs, [0, 2]))).toEqual([26, 40]);
    expect(() => sqNormOverTokens(inputs, [3])).toThrow(/token 3 is outside 0..2/);
  });
});
