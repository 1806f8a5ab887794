// The same cases through the CPU reference (f64) and the GPU kernel (f32), compared with the
// error bound of an f32 sequential sum (see `gramTolerance`). The reference itself is checked
// against hand-computed values first, so the comparison is not between two wrong answers.
import { describe, expect, test } from 'vitest';
import { expectClose } from '../../../testing/expectClose';
import { describeGpu } from '../../testing/describeGpu';
import fixture from '../sparsegptUpdate/fixtures/sparsegpt_fixture.json';
import { HessianAccumulatorGpu } from './hessian.gpu';
import { gammaF32 } from '../../testing/random';
import { gramTolerance, hessianCases as cases, hessianReferenceOf as referenceOf } from '../../testing/cases/hessian';
import { accumulateHessianRef, createHessianStatsRef } from './hessian.ref';

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
