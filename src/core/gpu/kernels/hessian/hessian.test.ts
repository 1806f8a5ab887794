// The same cases through the CPU reference (f64) and the GPU kernel (f32), compared with the
// error bound of an f32 sequential sum (see `gramTolerance`). The reference itself is checked
// against hand-computed values first, so the comparison is not between two wrong answers.
import { describe, expect, test } from 'vitest';
import { expectClose } from '../../../testing/expectClose';
import { describeGpu } from '../../testing/describeGpu';
import { gammaF32, normalArray } from '../../testing/random';
import fixture from '../sparsegptUpdate/fixtures/sparsegpt_fixture.json';
import { HessianAccumulatorGpu } from './hessian.gpu';
import { accumulateHessianRef, createHessianStatsRef, type HessianStatsRef } from './hessian.ref';

interface HessianCase {
  name: string;
  channels: number;
  /** Batches of token rows, each (tokens, channels), added in order. */
  batches: Array<{ x: Float32Array; tokens: number }>;
}

function oneBatch(name: string, tokens: number, channels: number, x: Float32Array): HessianCase {
  return { name, channels, batches: [{ x, tokens }] };
}

function withDeadChannels(tokens: number, channels: number, dead: number[], seed: number): Float32Array {
  const x = normalArray(tokens * channels, seed);
  for (let t = 0; t < tokens; t++) for (const j of dead) x[t * channels + j] = 0;
  for (let j = 0; j < channels; j++) x[3 * channels + j] = 0; // token 3 is all zeros too
  return x;
}

function withNonFinite(tokens: number, channels: number, seed: number): Float32Array {
  const x = normalArray(tokens * channels, seed);
  x[2 * channels + 3] = NaN;
  x[4 * channels + 5] = Infinity;
  x[1 * channels + 6] = -Infinity;
  x[0 * channels + 6] = 0; // Inf·0 = NaN inside the Gram entries of channel 6
  return x;
}

const cases: HessianCase[] = [
  oneBatch('1×1', 1, 1, new Float32Array([-3])),
  oneBatch('ragged: 37 tokens × 200 channels (not a tile multiple)', 37, 200, normalArray(37 * 200, 11)),
  oneBatch('dead channels 0, 17, 69 and an all-zero token, 70 channels', 21, 70, withDeadChannels(21, 70, [0, 17, 69], 12)),
  oneBatch('NaN and ±Inf inputs propagate to their channels', 6, 9, withNonFinite(6, 9, 13)),
  oneBatch('huge offset: 1e4 + N(0, 1), 64 tokens × 96 channels', 64, 96, normalArray(64 * 96, 14, 1, 1e4)),
  {
    name: 'three batches of 5, 19 and 1 tokens accumulate, 33 channels',
    channels: 33,
    batches: [5, 19, 1].map((tokens, i) => ({ tokens, x: normalArray(tokens * 33, 20 + i, 2) })),
  },
  oneBatch('GPT-2 block input: 64 tokens × 768 channels', 64, 768, normalArray(64 * 768, 15)),
];

function referenceOf(c: HessianCase): HessianStatsRef {
  const stats = createHessianStatsRef(c.channels);
  for (const b of c.batches) accumulateHessianRef(stats, b.x, b.tokens);
  return stats;
}

/**
 * The GPU sums each entry sequentially in f32: per batch Σ_t over its tokens, then one add into
 * the accumulator, n + batches roundings in all. Higham's bound for that is
 * |error| ≤ γ_(n+batches) · Σ_t |x_ta x_tb| ≤ γ · max_j Σ_t x_tj² (Cauchy–Schwarz), so that is
 * the atol: rigorous, and it scales with the data. With a 1e4 offset it is ~n·u relative to
 * H ≈ n·1e8 (about 3.8e-6 · 6.4e9 ≈ 2.4e4 absolute): f32 cannot hold the small centred part of
 * an uncentred second moment — exactly as in SparseGPT's fp32 `H += inp @ inp.T`.
 * Channels holding NaN/Inf are left out of the scale (their entries must match exactly).
 */
function gramTolerance(ref: HessianStatsRef, batches: number): { atol: number; rtol: number } {
  let scale = 0;
  for (const s of ref.sqNorm) if (Number.isFinite(s)) scale = Math.max(scale, s);
  return { atol: gammaF32(ref.tokens + batches) * scale, rtol: 0 };
}

describe('hessian reference', () => {
  test('matches hand-computed sums for 3 tokens × 2 channels', () => {
    const stats = createHessianStatsRef(2);
    accumulateHessianRef(stats, new Float32Array([1, 2, -3, 0.5, 0, -4]), 3);
    // gram = Σ x xᵀ: [1+9+0, 2-1.5+0; ., 4+0.25+16]
    expect(Array.from(stats.gram)).toEqual([10, 0.5, 0.5, 20.25]);
    expect(Array.from(stats.sqNorm)).toEqual([10, 20.25]);
    expect(Array.from(stats.maxAbs)).toEqual([3, 4]);
    expect(stats.tokens).toBe(3);
  });

  test("2/n times the Gram matrix matches PyTorch running sparsegpt's add_batch (fp32)", () => {
    const stats = createHessianStatsRef(fixture.cols);
    accumulateHessianRef(stats, Float32Array.from(fixture.x), fixture.tokens);
    const h = stats.gram.map((g) => (2 / fixture.tokens) * g);
    // PyTorch sums in f32: the same γ_n bound as the kernel, with scale 2/n·max Σx².
    const scale = (2 / fixture.tokens) * Math.max(...stats.sqNorm);
    expectClose(h, fixture.hessian, { atol: gammaF32(fixture.tokens) * scale, rtol: 0 }, 'H vs PyTorch');
    expect(stats.sqNorm[fixture.deadChannel]).toBe(0);
  });

  test('NaN poisons its channel; Inf·0 gives NaN', () => {
    const stats = createHessianStatsRef(2);
    accumulateHessianRef(stats, new Float32Array([NaN, 1, Infinity, 0]), 2);
    expect(stats.maxAbs[0]).toBeNaN();
    expect(stats.maxAbs[1]).toBe(1);
    expect(stats.gram[0 * 2 + 1]).toBeNaN();
    expect(stats.gram[1 * 2 + 1]).toBe(1);
  });
});

describeGpu('hessian kernel vs reference', (gpu) => {
  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const ref = referenceOf(c);
    const accumulator = new HessianAccumulatorGpu(gpu(), c.channels);
    try {
      for (const b of c.batches) await accumulator.add(b.x, b.tokens);
      const got = await accumulator.read();
      expect(got.tokens).toBe(ref.tokens);
      const n = ref.tokens + c.batches.length;
      expectClose(got.gram, ref.gram, gramTolerance(ref, c.batches.length), `${c.name}: gram`);
      // All terms of Σ x² are non-negative, so the bound is relative: γ_n · Σ x².
      expectClose(got.sqNorm, ref.sqNorm, { atol: 0, rtol: gammaF32(n) }, `${c.name}: sqNorm`);
      // max|x| involves no arithmetic: it must be exact.
      expectClose(got.maxAbs, ref.maxAbs, { atol: 0, rtol: 0 }, `${c.name}: maxAbs`);
    } finally {
      accumulator.destroy();
    }
  });

  test('non-finite inputs: NaN/Inf land exactly where the reference puts them', async () => {
    const c = cases.find((k) => k.name.startsWith('NaN'))!;
    const ref = referenceOf(c);
    const accumulator = new HessianAccumulatorGpu(gpu(), c.channels);
    await accumulator.add(c.batches[0].x, c.batches[0].tokens);
    const got = await accumulator.read();
    accumulator.destroy();
    const C = c.channels;
    expect(got.maxAbs[3]).toBeNaN();
    expect(got.maxAbs[5]).toBe(Infinity);
    expect(got.sqNorm[6]).toBe(Infinity);
    for (let j = 0; j < C; j++) {
      expect(Number.isNaN(got.gram[3 * C + j]), `gram[3, ${j}] is NaN`).toBe(true);
      expect(Number.isNaN(got.gram[j * C + 3]), `gram[${j}, 3] is NaN`).toBe(true);
    }
    const nonFinite = (a: ArrayLike<number>) => Array.from(a, (v) => (Number.isFinite(v) ? 'finite' : String(v)));
    expect(nonFinite(got.gram)).toEqual(nonFinite(ref.gram));
  });
});
